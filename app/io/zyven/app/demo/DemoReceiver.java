package io.zyven.app.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.zyven.app.json.Json;
import io.zyven.protocol.Signature;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Executors;

/**
 * A webhook receiver for trying Zyven on one machine: {@code zyven receiver --port <n>
 * --secret <whsec_…> [--status <code>]}. It checks each request's Standard Webhooks
 * signature as a real receiver must, prints one line per request, and answers with the
 * chosen status, so that retries and dead letters can be watched. A verified
 * {@code webhook.verification} challenge answered with a 2xx status is echoed
 * ({@code {"challenge": …}}), so an endpoint pointing here passes verification.
 */
public final class DemoReceiver implements AutoCloseable {

  /** Receivers refuse timestamps further than this from now (replay protection). */
  static final Duration TOLERANCE = Duration.ofMinutes(5);

  /** How much of a body a line shows. */
  static final int SHOWN_BODY = 300;

  /** Bodies beyond this are not read (the demo is not a sink for anything). */
  static final int MAX_BODY = 1024 * 1024;

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

  public record Options(int port, String secret, int status) {
    static final String USAGE =
        "usage: zyven receiver --port <port> --secret <whsec_...> [--status <code>]";

    /** Parses {@code --port}, {@code --secret} and {@code --status}; throws with a usage line. */
    public static Options parse(String[] args) {
      Integer port = null;
      String secret = null;
      int status = 200;
      for (int i = 0; i < args.length; i++) {
        String name = args[i];
        if (i + 1 >= args.length) throw new IllegalArgumentException(name + " needs a value\n" + USAGE);
        String value = args[++i];
        switch (name) {
          case "--port" -> port = number(name, value, 1, 65535);
          case "--secret" -> secret = value;
          case "--status" -> status = number(name, value, 200, 599);
          default -> throw new IllegalArgumentException("unknown option " + name + "\n" + USAGE);
        }
      }
      if (port == null || secret == null) throw new IllegalArgumentException(USAGE);
      try {
        Signature.key(secret);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--secret must be whsec_ followed by base64\n" + USAGE);
      }
      return new Options(port, secret, status);
    }

    private static int number(String name, String value, int min, int max) {
      try {
        int n = Integer.parseInt(value);
        if (n >= min && n <= max) return n;
      } catch (NumberFormatException e) {
        // falls through to the message below
      }
      throw new IllegalArgumentException(name + " must be a number from " + min + " to " + max + "\n" + USAGE);
    }
  }

  private final HttpServer server;
  private final Options options;
  private final PrintStream out;
  private final Clock clock;

  private DemoReceiver(HttpServer server, Options options, PrintStream out, Clock clock) {
    this.server = server;
    this.options = options;
    this.out = out;
    this.clock = clock;
  }

  /** Listens on 127.0.0.1 only: it is a development tool. */
  public static DemoReceiver start(Options options, PrintStream out, Clock clock) throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), options.port()), 50);
    DemoReceiver receiver = new DemoReceiver(server, options, out, clock);
    server.createContext("/", receiver::handle);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.start();
    out.println(
        "Demo receiver at http://127.0.0.1:" + receiver.port() + "/ answering " + options.status()
            + ", verifying signatures with the given secret");
    return receiver;
  }

  public static void main(String[] args) throws IOException {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    start(options, System.out, Clock.systemUTC());
    // The server's threads keep the JVM running until Ctrl-C.
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestMethod().equals("POST")) {
        // A probe (is it up yet?), not a webhook: answered, not printed.
        exchange.sendResponseHeaders(204, -1);
        return;
      }
      byte[] body = readAtMost(exchange.getRequestBody(), MAX_BODY);
      String id = header(exchange, "webhook-id");
      String problem =
          check(options.secret(), id, header(exchange, "webhook-timestamp"),
              header(exchange, "webhook-signature"), body, clock);
      String type = header(exchange, "X-Event-Type");
      String challenge = problem == null && "webhook.verification".equals(type) ? challenge(body) : null;
      out.println(
          LocalTime.now(clock.withZone(ZoneId.systemDefault())).format(TIME) + " "
              + printable(id == null ? "(no webhook-id)" : id, 80) + " "
              + printable(type == null ? "(no type)" : type, 128) + " "
              + (problem == null ? "verified" : "NOT verified (" + problem + ")")
              + " -> " + options.status() + " "
              + printable(new String(body, StandardCharsets.UTF_8), SHOWN_BODY)
              + (challenge != null && options.status() < 300 ? " (challenge echoed)" : ""));
      // Only a signed challenge is echoed: echoing anyone's would verify anyone's URL.
      byte[] answer = (challenge != null && options.status() < 300
              ? Json.MAPPER.createObjectNode().put("challenge", challenge).toString()
              : "{\"status\":" + options.status() + "}")
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(options.status(), answer.length);
      exchange.getResponseBody().write(answer);
    }
  }

  /** The {@code challenge} of a verification request's body; null when it has none. */
  private static String challenge(byte[] body) {
    try {
      JsonNode c = Json.MAPPER.readTree(body).get("challenge");
      return c != null && c.isTextual() ? c.asText() : null;
    } catch (IOException | RuntimeException notJson) {
      return null;
    }
  }

  /**
   * Why a request does not pass Standard Webhooks verification, or null when it does: all
   * three headers present, the timestamp within {@link #TOLERANCE} of now, and one {@code
   * v1} signature in the header made with {@code secret} over the raw body.
   */
  public static String check(
      String secret, String id, String timestamp, String signature, byte[] body, Clock clock) {
    if (id == null || timestamp == null || signature == null) return "missing webhook-* headers";
    long seconds;
    try {
      seconds = Long.parseLong(timestamp);
    } catch (NumberFormatException e) {
      return "webhook-timestamp is not a number";
    }
    if (Math.abs(clock.instant().getEpochSecond() - seconds) > TOLERANCE.toSeconds()) {
      return "timestamp more than 5 minutes from now";
    }
    return Signature.verify(secret, id, seconds, body, signature) ? null : "signature does not match";
  }

  /**
   * Text from a stranger, made safe for a terminal: control characters (escape sequences
   * included) are shown escaped, never sent to the terminal, and long text is cut.
   */
  static String printable(String text, int max) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(text.length(), max); i++) {
      char c = text.charAt(i);
      if (c == '\n') sb.append("\\n");
      else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) sb.append(String.format("\\u%04x", (int) c));
      else sb.append(c);
    }
    return text.length() > max ? sb.append('…').toString() : sb.toString();
  }

  private static String header(HttpExchange exchange, String name) {
    return exchange.getRequestHeaders().getFirst(name);
  }

  private static byte[] readAtMost(InputStream in, int max) throws IOException {
    byte[] body = in.readNBytes(max);
    in.transferTo(java.io.OutputStream.nullOutputStream());
    return body;
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
