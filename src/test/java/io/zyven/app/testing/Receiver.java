package io.zyven.app.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * A real HTTP webhook receiver on loopback. Each path answers as its {@link Behaviour}
 * says, given how many requests that path has had (1 for the first); every request is
 * recorded, and the most that were ever in progress at once is tracked.
 */
public final class Receiver implements AutoCloseable {

  /**
   * The answer to one request: status, headers, how long to wait before it, and its body
   * (null: {@code answer <status>}).
   */
  public record Answer(int status, Map<String, String> headers, long delayMillis, String body) {
    public Answer(int status, Map<String, String> headers, long delayMillis) {
      this(status, headers, delayMillis, null);
    }

    public static Answer status(int status) {
      return new Answer(status, Map.of(), 0);
    }

    public Answer after(long millis) {
      return new Answer(status, headers, millis, body);
    }

    public Answer withHeader(String name, String value) {
      Map<String, String> h = new TreeMap<>(headers);
      h.put(name, value);
      return new Answer(status, h, delayMillis, body);
    }

    public Answer withBody(String body) {
      return new Answer(status, headers, delayMillis, body);
    }
  }

  /** How a path answers its n-th request, seeing the request itself (to echo part of it, say). */
  public interface Responder {
    Answer answer(int n, Request request);
  }

  /** How a path answers its n-th request. */
  public interface Behaviour extends IntFunction<Answer> {}

  /** One request as received, and the status it was answered with. Header names are lower-case. */
  public record Request(String path, Map<String, String> headers, byte[] body, Instant at, int answered) {
    public String header(String name) {
      return headers.get(name.toLowerCase());
    }

    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final HttpServer server;
  private final Map<String, Behaviour> behaviours = new ConcurrentHashMap<>();
  private final Map<String, Responder> responders = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final List<Request> arrivals = new CopyOnWriteArrayList<>();
  private final AtomicInteger inProgress = new AtomicInteger();
  private final AtomicInteger mostInProgress = new AtomicInteger();

  public Receiver() throws IOException {
    this(64);
  }

  /** A receiver that answers (or holds) up to {@code threads} requests at once. */
  public Receiver(int threads) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newFixedThreadPool(threads));
    server.createContext("/", this::handle);
    server.start();
  }

  /** The URL of {@code path} (which should start with /) on this receiver. */
  public String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  public void on(String path, Behaviour behaviour) {
    responders.remove(path);
    behaviours.put(path, behaviour);
  }

  /** Like {@link #on}, with the request in hand. */
  public void respond(String path, Responder responder) {
    behaviours.remove(path);
    responders.put(path, responder);
  }

  public List<Request> requests(String path) {
    return requests.stream().filter(r -> r.path().equals(path)).toList();
  }

  /**
   * Requests to {@code path} as they arrived, before their answer (which a behaviour may
   * hold): {@code answered} is 0 here.
   */
  public List<Request> arrivals(String path) {
    return arrivals.stream().filter(r -> r.path().equals(path)).toList();
  }

  /** Requests being answered right now. */
  public int inProgress() {
    return inProgress.get();
  }

  public int mostInProgress() {
    return mostInProgress.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    int now = inProgress.incrementAndGet();
    mostInProgress.accumulateAndGet(now, Math::max);
    boolean counted = true;
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      Map<String, String> headers = new TreeMap<>();
      exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), String.join(",", v)));
      Instant at = Instant.now();
      Request arrived = new Request(path, headers, body, at, 0);
      arrivals.add(arrived);
      int n = counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
      Responder responder = responders.get(path);
      Answer answer =
          responder != null ? responder.answer(n, arrived) : behaviours.getOrDefault(path, i -> Answer.status(200)).apply(n);
      requests.add(new Request(path, headers, body, at, answer.status()));
      if (answer.delayMillis() > 0) Thread.sleep(answer.delayMillis()); // the receiver is slow: that is the behaviour under test
      // No longer in progress once the answer starts: the client may send its next request
      // as soon as it has this one, before this thread gets to its finally block.
      inProgress.decrementAndGet();
      counted = false;
      answer.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
      byte[] response = (answer.body() != null ? answer.body() : "answer " + answer.status()).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(answer.status(), response.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(response);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (counted) inProgress.decrementAndGet();
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
