package io.zyven.app.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Receivers that abuse the sender, each on a raw socket of its own: one never answers, one
 * sends a 100 MB body, one trickles its answer a byte a second, one closes in the middle of
 * its answer, one accepts TCP and never finishes TLS. Each attempt ends within its
 * endpoint's timeout with at most 4 KiB of the response kept, and a healthy endpoint
 * served at the same time keeps its accept-to-delivered p99 within 2× of its baseline.
 */
class AbusiveReceiversTest {
  private static final int TIMEOUT_MS = 2000;
  private static final int ABUSE_EVENTS_EACH = 8;
  private static final int HEALTHY_EVENTS = 200;
  private static final Duration PACE = Duration.ofMillis(15);
  private static final long HUNDRED_MB = 100L * 1024 * 1024;
  // An attempt's end is journaled a little after its deadline: the node's scheduling.
  private static final long LATENCY_SLACK_MS = 1000;

  enum Abuse { NEVER_ANSWERS, HUNDRED_MB_BODY, TRICKLES, CLOSES_MID_RESPONSE, NEVER_FINISHES_TLS }

  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;
  private static Receiver healthy;
  private static final Map<Abuse, AbusiveServer> servers = new EnumMap<>(Abuse.class);

  @BeforeAll
  static void start() throws IOException {
    pg = TestPostgres.shared();
    // Every abusive event gets its one attempt: no circuit opens to defer them.
    node = TestNode.start(pg, Map.of("zyven.circuit.failure-threshold", 1_000_000));
    api = node.api;
    healthy = new Receiver();
    for (Abuse abuse : Abuse.values()) servers.put(abuse, new AbusiveServer(abuse));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    healthy.close();
    for (AbusiveServer s : servers.values()) s.close();
  }

  @Test
  void abusiveReceiversAreBoundedAndAHealthyEndpointKeepsItsLatency() throws Exception {
    Tenant tenant = api.createTenant("abuse");
    String healthyEndpoint = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + healthy.url("/ok") + "\"}");
    Map<Abuse, String> abusive = new EnumMap<>(Abuse.class);
    for (Abuse abuse : Abuse.values()) {
      String scheme = abuse == Abuse.NEVER_FINISHES_TLS ? "https" : "http";
      abusive.put(abuse, api.createEndpoint(tenant.apiKey(),
          "{\"url\":\"" + scheme + "://127.0.0.1:" + servers.get(abuse).port() + "/hook\",\"timeout_ms\":" + TIMEOUT_MS
              + ",\"max_attempts\":1}"));
    }

    sendHealthy(tenant, healthyEndpoint, "warm", HEALTHY_EVENTS); // JIT and pools
    List<Long> baseline = sendHealthy(tenant, healthyEndpoint, "base", HEALTHY_EVENTS);

    List<String> abuseEvents = new CopyOnWriteArrayList<>();
    List<String> hugeBodyEvents = new CopyOnWriteArrayList<>();
    ExecutorService abuser = Executors.newSingleThreadExecutor();
    abuser.submit(() -> {
      for (int i = 0; i < ABUSE_EVENTS_EACH; i++) {
        for (Abuse abuse : Abuse.values()) {
          String id = ingest(tenant, abusive.get(abuse), "abuse-" + abuse + "-" + i);
          abuseEvents.add(id);
          if (abuse == Abuse.HUNDRED_MB_BODY) hugeBodyEvents.add(id);
        }
        pause(PACE.multipliedBy(20));
      }
      return null;
    });
    Await.until("every abusive receiver is being served", Duration.ofSeconds(30),
        () -> servers.values().stream().allMatch(s -> s.connections.get() > 0));
    List<Long> underAbuse = sendHealthy(tenant, healthyEndpoint, "abuse", HEALTHY_EVENTS);
    abuser.shutdown();

    long p99Base = p99(baseline);
    long p99Abuse = p99(underAbuse);
    System.out.printf("healthy endpoint, accept-to-delivered p99: baseline %d ms, under abuse %d ms%n", p99Base, p99Abuse);
    assertTrue(p99Abuse <= 2 * Math.max(p99Base, 1),
        "healthy endpoint's accept-to-delivered p99: " + p99Abuse + " ms under abuse, baseline " + p99Base + " ms");

    // Every abusive attempt ended, within its timeout, with at most 4 KiB kept.
    Await.until("every abusive event's single attempt is over", Duration.ofSeconds(60),
        () -> abuseEvents.size() == ABUSE_EVENTS_EACH * Abuse.values().length
            && abuseEvents.stream().allMatch(id -> attempt(tenant, id) != null && finished(tenant, id)));
    for (String id : abuseEvents) {
      JsonNode a = attempt(tenant, id);
      assertTrue(a.get("latency_ms").asLong() <= TIMEOUT_MS + LATENCY_SLACK_MS, "attempt within its timeout: " + a);
      JsonNode body = a.get("response_body");
      assertTrue(body == null || body.isNull() || body.asText().getBytes(StandardCharsets.UTF_8).length <= 4096,
          "at most 4 KiB of the response kept: " + a.get("response_body").asText().length());
    }
    // The 100 MB body came with a 200: delivered, though only its start was read before the
    // connection was dropped.
    for (String id : hugeBodyEvents) {
      assertEquals(200, attempt(tenant, id).get("status_code").asInt(), "a 2xx is a delivery: " + attempt(tenant, id));
    }
    AbusiveServer huge = servers.get(Abuse.HUNDRED_MB_BODY);
    System.out.printf("100 MB receiver: at most %d bytes went out on one connection%n", huge.mostBytesSent.get());
    assertTrue(huge.mostBytesSent.get() < HUNDRED_MB / 4,
        "the client stopped reading early: at most " + huge.mostBytesSent.get() + " bytes went out on one connection");
  }

  /** Sends {@code n} events to the healthy endpoint at a steady pace; accept-to-delivered of each, ms. */
  private static List<Long> sendHealthy(Tenant tenant, String endpoint, String prefix, int n) {
    Map<String, Instant> sentAt = new ConcurrentHashMap<>();
    for (int i = 0; i < n; i++) {
      Instant at = Instant.now();
      sentAt.put(ingest(tenant, endpoint, prefix + "-" + i), at);
      pause(PACE);
    }
    Await.until("the healthy receiver got every " + prefix + " event", Duration.ofSeconds(60),
        () -> healthy.arrivals("/ok").stream().filter(r -> sentAt.containsKey(r.header("webhook-id"))).count() >= n);
    List<Long> latencies = new ArrayList<>();
    Map<String, Instant> first = new ConcurrentHashMap<>();
    for (Receiver.Request r : healthy.arrivals("/ok")) {
      String id = r.header("webhook-id");
      if (sentAt.containsKey(id)) first.putIfAbsent(id, r.at());
    }
    first.forEach((id, arrived) -> latencies.add(Duration.between(sentAt.get(id), arrived).toMillis()));
    return latencies;
  }

  private static String ingest(Tenant tenant, String endpoint, String key) {
    Response r = api.ingest(tenant.apiKey(), key,
        "{\"type\":\"order.paid\",\"endpoint_id\":\"" + endpoint + "\",\"payload\":{\"key\":\"" + key + "\"}}");
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  private static JsonNode attempt(Tenant tenant, String eventId) {
    JsonNode attempts = api.get("/v1/events/" + eventId, tenant.apiKey()).json().path("deliveries").path(0).path("attempts");
    return attempts.size() == 0 ? null : attempts.get(0);
  }

  private static boolean finished(Tenant tenant, String eventId) {
    String status = api.get("/v1/events/" + eventId, tenant.apiKey()).json().path("deliveries").path(0).path("status").asText();
    return status.equals("DELIVERED") || status.equals("DEAD_LETTERED");
  }

  private static long p99(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1);
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis()); // pacing the load, not waiting for something
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A receiver that misbehaves in one way, on a raw socket, a thread per connection. */
  private static final class AbusiveServer implements AutoCloseable {
    private final Abuse abuse;
    private final ServerSocket socket;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "abusive-receiver");
      t.setDaemon(true);
      return t;
    });
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    final AtomicLong connections = new AtomicLong();
    final AtomicLong mostBytesSent = new AtomicLong();

    AbusiveServer(Abuse abuse) throws IOException {
      this.abuse = abuse;
      this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      threads.submit(this::acceptLoop);
    }

    int port() {
      return socket.getLocalPort();
    }

    private Void acceptLoop() {
      while (!socket.isClosed()) {
        try {
          Socket s = socket.accept();
          open.add(s);
          connections.incrementAndGet();
          threads.submit(() -> serve(s));
        } catch (IOException closed) {
          return null;
        }
      }
      return null;
    }

    private Void serve(Socket s) {
      try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
        if (abuse == Abuse.NEVER_FINISHES_TLS) {
          in.transferTo(OutputStream.nullOutputStream()); // reads the ClientHello, never answers
          return null;
        }
        readRequest(in);
        switch (abuse) {
          case NEVER_ANSWERS -> in.transferTo(OutputStream.nullOutputStream());
          case HUNDRED_MB_BODY -> {
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + HUNDRED_MB + "\r\nContent-Type: text/plain\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[64 * 1024];
            Arrays.fill(chunk, (byte) 'x');
            long sent = 0;
            try {
              while (sent < HUNDRED_MB) {
                out.write(chunk);
                sent += chunk.length;
              }
            } finally {
              long total = sent;
              mostBytesSent.accumulateAndGet(total, Math::max);
            }
          }
          case TRICKLES -> {
            byte[] answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII);
            for (byte b : answer) {
              out.write(b);
              out.flush();
              Thread.sleep(1000);
            }
          }
          case CLOSES_MID_RESPONSE -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npart".getBytes(StandardCharsets.US_ASCII));
            out.flush();
          }
          default -> throw new IllegalStateException(abuse.name());
        }
      } catch (IOException | InterruptedException dropped) {
        // The client gave up on us: that is the point.
      }
      return null;
    }

    /** Reads up to the end of the request's headers and its Content-Length of body. */
    private static void readRequest(InputStream in) throws IOException {
      StringBuilder head = new StringBuilder();
      int b;
      while ((b = in.read()) >= 0) {
        head.append((char) b);
        if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) break;
      }
      for (String line : head.toString().split("\r\n")) {
        if (line.toLowerCase().startsWith("content-length:")) {
          in.readNBytes(Integer.parseInt(line.substring(15).trim()));
        }
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
      for (Socket s : open) s.close();
      threads.shutdownNow();
    }
  }
}
