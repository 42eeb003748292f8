package io.zyven.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.util.ByteString;

/**
 * The webhook receiver of the benchmark: a Pekko HTTP server on loopback.
 *
 * <ul>
 *   <li>{@code POST /fast/...}: 200 at once.
 *   <li>{@code POST /slow/<ms>/...}: 200 after {@code ms} milliseconds (non-blocking).
 *   <li>{@code POST /fail/...}: 503 at once.
 * </ul>
 *
 * Each delivery's arrival time is recorded, with the {@code sent_us} the load generator put
 * in the payload (its send time, epoch microseconds, same machine clock), once per
 * {@code webhook-id}: repeated ids are counted as duplicates. Control (plain text):
 * {@code GET /_count} (unique deliveries), {@code POST /_reset},
 * {@code GET /_report?from_us=&to_us=} (deliveries of events sent in the window: count,
 * accept-to-delivered percentiles; and deliveries that arrived in the window).
 *
 * <p>Usage: {@code Receiver <port> [hosts]}: listens on 127.0.0.1 and, with {@code hosts} = n,
 * also on 127.0.0.2 ... 127.0.0.n (all loopback on Linux), so that n endpoints can have n
 * distinct hosts.
 */
public final class Receiver {
  private static final int CAPACITY = 4_000_000;

  private final long[] sentUs = new long[CAPACITY];
  private final long[] recvUs = new long[CAPACITY];
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong total = new AtomicLong();
  private volatile Set<String> seen = ConcurrentHashMap.newKeySet();

  private final ActorSystem system;

  private Receiver(ActorSystem system) {
    this.system = system;
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int hosts = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    // Pekko's own defaults only: none of Zyven's application.conf (cluster provider etc.).
    Config config =
        ConfigFactory.parseString(
                "pekko.loglevel = WARNING\n"
                    + "pekko.http.server.max-connections = 4096\n"
                    + "pekko.http.server.idle-timeout = 300s\n")
            .withFallback(ConfigFactory.defaultReference());
    ActorSystem system = ActorSystem.create("receiver", config);
    Receiver receiver = new Receiver(system);
    for (int h = 1; h <= hosts; h++) {
      Http.get(system)
          .newServerAt("127.0.0." + h, port)
          .bind(receiver::handle)
          .toCompletableFuture()
          .get();
    }
    System.out.println("receiver listening on 127.0.0.1" + (hosts > 1 ? "-" + hosts : "") + ":" + port);
  }

  private CompletionStage<HttpResponse> handle(HttpRequest request) {
    long now = epochMicros();
    String path = request.getUri().path();
    if (path.startsWith("/_")) {
      request.discardEntityBytes(system);
      return CompletableFuture.completedFuture(control(path, request));
    }
    HttpEntity entity = request.entity();
    CompletionStage<ByteString> body =
        entity instanceof HttpEntity.Strict strict
            ? CompletableFuture.completedFuture(strict.getData())
            : entity.toStrict(10_000, system).thenApply(HttpEntity.Strict::getData);
    return body.thenCompose(
        bytes -> {
          record(request.getHeader("webhook-id").map(h -> h.value()).orElse(null), bytes, now);
          if (path.startsWith("/slow/")) {
            int end = path.indexOf('/', 6);
            long ms = Long.parseLong(end < 0 ? path.substring(6) : path.substring(6, end));
            return Patterns.after(
                Duration.ofMillis(ms),
                system.scheduler(),
                system.dispatcher(),
                () -> CompletableFuture.completedFuture(HttpResponse.create().withStatus(200)));
          }
          int status = path.startsWith("/fail") ? 503 : 200;
          return CompletableFuture.completedFuture(HttpResponse.create().withStatus(status));
        });
  }

  private void record(String webhookId, ByteString body, long now) {
    total.incrementAndGet();
    if (webhookId != null && !seen.add(webhookId)) {
      duplicates.incrementAndGet();
      return;
    }
    int i = next.getAndIncrement();
    if (i >= CAPACITY) return;
    sentUs[i] = sentMicros(body.utf8String());
    recvUs[i] = now;
  }

  /** The {@code "sent_us":<digits>} the load generator wrote into the payload, or -1. */
  static long sentMicros(String body) {
    int at = body.indexOf("\"sent_us\":");
    if (at < 0) return -1;
    long v = 0;
    boolean any = false;
    for (int i = at + 10; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == ' ' && !any) continue;
      if (c < '0' || c > '9') break;
      v = v * 10 + (c - '0');
      any = true;
    }
    return any ? v : -1;
  }

  private HttpResponse control(String path, HttpRequest request) {
    Map<String, String> q = request.getUri().query().toMap();
    String text;
    switch (path) {
      case "/_count" -> text = Integer.toString(Math.min(next.get(), CAPACITY));
      case "/_reset" -> {
        seen = ConcurrentHashMap.newKeySet();
        next.set(0);
        duplicates.set(0);
        total.set(0);
        text = "reset";
      }
      case "/_report" -> text =
          report(Long.parseLong(q.getOrDefault("from_us", "0")), Long.parseLong(q.getOrDefault("to_us", Long.toString(Long.MAX_VALUE))));
      default -> {
        return HttpResponse.create().withStatus(404);
      }
    }
    return HttpResponse.create().withStatus(200).withEntity(text + "\n");
  }

  /**
   * For the events sent in [from, to): how many were delivered, and their send-to-delivery
   * latency percentiles; plus how many deliveries (any event) arrived in [from, to).
   */
  private String report(long fromUs, long toUs) {
    int n = Math.min(next.get(), CAPACITY);
    long[] lat = new long[n];
    int k = 0;
    long arrivedInWindow = 0;
    long lastArrival = 0;
    for (int i = 0; i < n; i++) {
      long r = recvUs[i];
      if (r >= fromUs && r < toUs) arrivedInWindow++;
      long s = sentUs[i];
      if (s >= fromUs && s < toUs) {
        lat[k++] = r - s;
        lastArrival = Math.max(lastArrival, r);
      }
    }
    long[] sorted = Arrays.copyOf(lat, k);
    Arrays.sort(sorted);
    StringBuilder out = new StringBuilder();
    out.append("sent_in_window_delivered=").append(k).append('\n');
    out.append("arrived_in_window=").append(arrivedInWindow).append('\n');
    out.append("last_arrival_us=").append(lastArrival).append('\n');
    out.append("duplicates=").append(duplicates.get()).append('\n');
    out.append("requests_total=").append(total.get()).append('\n');
    for (double p : new double[] {50, 90, 99, 99.9}) {
      out.append("p").append(p == 99.9 ? "999" : Integer.toString((int) p)).append("_ms=")
          .append(String.format("%.2f", percentile(sorted, p) / 1000.0)).append('\n');
    }
    out.append("max_ms=").append(String.format("%.2f", (k == 0 ? 0 : sorted[k - 1]) / 1000.0)).append('\n');
    return out.toString().trim();
  }

  static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) return 0;
    int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
  }

  static long epochMicros() {
    java.time.Instant t = java.time.Instant.now();
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
  }
}
