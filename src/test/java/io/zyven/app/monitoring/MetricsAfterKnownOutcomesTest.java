package io.zyven.app.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics} of a real node after a known mix of outcomes at a real receiver (200,
 * 500 until out of attempts, 410, 400 then a replay of it, 503 and 429 with a Retry-After of
 * an hour) and a few refused requests: every counter and histogram count moved by exactly
 * what happened, and the gauges read from the read model show exactly the deliveries left.
 * The node has its own PostgreSQL, so the gauges count this test's deliveries only; the
 * counters are compared with a scrape taken before.
 */
class MetricsAfterKnownOutcomesTest {
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private static TestPostgres pg;
  private static Receiver receiver;
  private static TestNode node;
  private static ApiClient api;

  @BeforeAll
  static void start() throws Exception {
    pg = TestPostgres.startPrivate();
    receiver = new Receiver();
    receiver.on("/ok", n -> Answer.status(200));
    receiver.on("/fail", n -> Answer.status(500));
    receiver.on("/gone", n -> Answer.status(410));
    receiver.on("/bad", n -> Answer.status(400));
    receiver.on("/busy", n -> Answer.status(503).withHeader("Retry-After", "3600"));
    receiver.on("/slow-down", n -> Answer.status(429).withHeader("Retry-After", "3600"));
    node =
        TestNode.start(
            pg,
            Map.of(
                "zyven.delivery.retry-schedule", List.of("100ms"),
                "zyven.delivery.jitter", 0,
                // Two failures in a row open a circuit: /fail (two attempts) and /busy (two events).
                "zyven.circuit.failure-threshold", 2,
                "zyven.metrics.refresh-interval", "200ms",
                "zyven.metrics.top-endpoints", 1));
    api = node.api;
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) node.close();
    if (receiver != null) receiver.close();
    if (pg != null) pg.close();
  }

  @Test
  void countersHistogramsAndGaugesMatchWhatHappened() {
    Tenant tenant = api.createTenant("metrics-" + UUID.randomUUID());
    String ok = endpoint(tenant, "/ok", 9);
    String fail = endpoint(tenant, "/fail", 2);
    String gone = endpoint(tenant, "/gone", 9);
    String bad = endpoint(tenant, "/bad", 9);
    String busy = endpoint(tenant, "/busy", 9);
    String slowDown = endpoint(tenant, "/slow-down", 9);
    Scrape before = scrape();
    Instant firstAccepted = Instant.now();

    List<String> delivered = new ArrayList<>();
    for (int i = 0; i < 3; i++) delivered.add(ingest(tenant, ok));
    String exhausted = ingest(tenant, fail);
    String goneEvent = ingest(tenant, gone);
    String badEvent = ingest(tenant, bad);
    List<String> waiting = List.of(ingest(tenant, busy), ingest(tenant, busy), ingest(tenant, slowDown));

    for (String id : delivered) awaitStatus(tenant, id, "DELIVERED", 1);
    awaitStatus(tenant, exhausted, "DEAD_LETTERED", 2);
    awaitStatus(tenant, goneEvent, "DEAD_LETTERED", 1);
    awaitStatus(tenant, badEvent, "DEAD_LETTERED", 1);
    for (String id : waiting) awaitStatus(tenant, id, "RETRY_SCHEDULED", 1);
    assertEquals(202, api.postJson("/v1/events/" + badEvent + "/replay", tenant.apiKey(), "").status());
    awaitStatus(tenant, badEvent, "DEAD_LETTERED", 2);

    // Refused requests: three to ingest, two elsewhere. What counts is what the client got.
    Map<String, Integer> problems = new TreeMap<>();
    refused(problems, api.ingest("not-a-key", "k-" + UUID.randomUUID(), event(ok)));
    refused(problems, api.send(api.request("/v1/events", tenant.apiKey())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(event(ok)))));
    refused(problems, api.ingest(tenant.apiKey(), "k-" + UUID.randomUUID(), event(UUID.randomUUID().toString())));
    refused(problems, api.get("/v1/events/" + UUID.randomUUID(), tenant.apiKey()));
    refused(problems, api.get("/no-such-path", null));

    // The gauges: refreshed in the background, once the read model has caught up, so awaited.
    Await.until("the gauges show the deliveries left", Duration.ofSeconds(20), () -> {
      Scrape s = scrape();
      return s.find("zyven_readmodel_lag_events").orElse(-1.0) == 0
          && s.value("zyven_deliveries", "state", "RETRY_SCHEDULED") == 3
          && s.value("zyven_deliveries", "state", "DEAD_LETTERED") == 3
          && s.value("zyven_circuits_open") == 2;
    });
    Scrape after = scrape();

    // Ingest.
    assertDelta(9, before, after, "zyven_events_accepted_total");
    assertDelta(9, before, after, "zyven_ingest_latency_seconds_count", "status_class", "2xx");
    assertDelta(3, before, after, "zyven_ingest_latency_seconds_count", "status_class", "4xx");
    assertDelta(0, before, after, "zyven_ingest_latency_seconds_count", "status_class", "5xx");

    // Attempts, by outcome and status class: 3 delivered, 2 to /fail, 2 to /busy, 1 to
    // /slow-down, 1 to /gone, and 2 to /bad (the replay's included).
    assertDelta(3, before, after, "zyven_delivery_attempts_total", "outcome", "success", "status_class", "2xx");
    assertDelta(4, before, after, "zyven_delivery_attempts_total", "outcome", "retryable", "status_class", "5xx");
    assertDelta(1, before, after, "zyven_delivery_attempts_total", "outcome", "retryable", "status_class", "4xx");
    assertDelta(0, before, after, "zyven_delivery_attempts_total", "outcome", "retryable", "status_class", "none");
    assertDelta(1, before, after, "zyven_delivery_attempts_total", "outcome", "gone", "status_class", "4xx");
    assertDelta(2, before, after, "zyven_delivery_attempts_total", "outcome", "permanent", "status_class", "4xx");
    assertEquals(11, sumDelta(before, after, "zyven_delivery_attempts_total"), "attempts in all");
    assertDelta(3, before, after, "zyven_delivery_attempt_latency_seconds_count", "outcome", "success");
    assertDelta(5, before, after, "zyven_delivery_attempt_latency_seconds_count", "outcome", "retryable");
    assertDelta(1, before, after, "zyven_delivery_attempt_latency_seconds_count", "outcome", "gone");
    assertDelta(2, before, after, "zyven_delivery_attempt_latency_seconds_count", "outcome", "permanent");
    assertEquals(11, sumDelta(before, after, "zyven_delivery_attempt_latency_seconds_count"), "attempts timed in all");
    assertDelta(3, before, after, "zyven_delivery_attempt_latency_seconds_bucket", "outcome", "success", "le", "+Inf");

    // Deliveries.
    assertDelta(3, before, after, "zyven_delivery_accept_to_delivered_seconds_count");
    assertTrue(delta(before, after, "zyven_delivery_accept_to_delivered_seconds_sum") > 0, "time passed");
    assertDelta(1, before, after, "zyven_dead_letters_total", "cause", "exhausted");
    assertDelta(1, before, after, "zyven_dead_letters_total", "cause", "gone");
    assertDelta(2, before, after, "zyven_dead_letters_total", "cause", "permanent");
    assertDelta(0, before, after, "zyven_dead_letters_total", "cause", "refused");
    assertDelta(0, before, after, "zyven_dead_letters_total", "cause", "expunged");
    assertDelta(1, before, after, "zyven_replays_total");

    // Endpoints.
    assertDelta(1, before, after, "zyven_endpoints_disabled_total");
    assertDelta(2, before, after, "zyven_circuits_opened_total");
    assertDelta(0, before, after, "zyven_deliveries_deferred_total");

    // Problems, by status and type, exactly those the client was given.
    assertEquals(5, sumDelta(before, after, "zyven_http_problems_total"), "problems in all: " + problems);
    problems.forEach((key, n) -> {
      String[] statusAndType = key.split(" ");
      assertDelta(n, before, after, "zyven_http_problems_total", "status", statusAndType[0], "type", statusAndType[1]);
    });

    // Gauges, from the read model.
    assertEquals(0, after.value("zyven_deliveries", "state", "RECEIVED"));
    assertEquals(0, after.value("zyven_deliveries", "state", "DISPATCHING"));
    assertEquals(
        Map.of(Map.of("endpoint", busy), 2.0, Map.of("endpoint", "other"), 1.0),
        after.all("zyven_endpoint_queue_depth"),
        "the top endpoint by its id, the other one summed");
    double oldest = after.value("zyven_oldest_pending_delivery_age_seconds");
    double since = Duration.between(firstAccepted, Instant.now()).toMillis() / 1000.0;
    assertTrue(oldest > 0 && oldest <= since + 1, "oldest pending " + oldest + " s, first accepted " + since + " s ago");
    assertEquals(1, after.value("zyven_ready"));
  }

  // ---- helpers ----

  private static String endpoint(Tenant tenant, String path, int maxAttempts) {
    return api.createEndpoint(
        tenant.apiKey(), "{\"url\":\"" + receiver.url(path) + "\",\"max_attempts\":" + maxAttempts + "}");
  }

  private static String event(String endpointId) {
    return "{\"type\":\"metrics.test\",\"payload\":{\"n\":1},\"endpoint_id\":\"" + endpointId + "\"}";
  }

  private static String ingest(Tenant tenant, String endpointId) {
    Response r = api.ingest(tenant.apiKey(), "k-" + UUID.randomUUID(), event(endpointId));
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  private static void awaitStatus(Tenant tenant, String eventId, String status, int attempts) {
    Await.until(eventId + " " + status + " after " + attempts + " attempt(s)", PATIENCE, () -> {
      var delivery = api.get("/v1/events/" + eventId, tenant.apiKey()).json().get("deliveries").get(0);
      return delivery.get("status").asText().equals(status) && delivery.get("attempt_count").asInt() == attempts;
    });
  }

  /** A refused request: counted by "status type", the type's slug as the problem says it. */
  private static void refused(Map<String, Integer> problems, Response r) {
    assertTrue(r.status() >= 400, r.status() + " " + r.body());
    String slug = r.json().get("type").asText().replace("urn:zyven:problem:", "");
    problems.merge(r.status() + " " + slug, 1, Integer::sum);
  }

  private static Scrape scrape() {
    Response r = api.get("/metrics", null);
    assertEquals(200, r.status());
    return new Scrape(r.body());
  }

  private static double delta(Scrape before, Scrape after, String name, String... labels) {
    return after.value(name, labels) - before.value(name, labels);
  }

  private static void assertDelta(double expected, Scrape before, Scrape after, String name, String... labels) {
    assertEquals(expected, delta(before, after, name, labels), name + " " + String.join(",", labels));
  }

  private static double sumDelta(Scrape before, Scrape after, String name) {
    double sum = 0;
    for (double v : after.all(name).values()) sum += v;
    for (double v : before.all(name).values()) sum -= v;
    return sum;
  }
}
