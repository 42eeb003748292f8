package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/stats} and {@code GET /v1/endpoints/{id}/health}, over a node on real
 * PostgreSQL delivering to a real receiver. Stats come from the read model, which trails
 * the journal, so each test first waits for it to hold what the test did.
 */
class StatsApiTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private static final Map<String, Object> SETTINGS = Map.of(
      // Retries come at once; two failures in a row open a circuit, which then stays open
      // for the default cool-down (30 s), longer than any test here.
      "zyven.delivery.retry-schedule", List.of("150ms"),
      "zyven.circuit.failure-threshold", 2);

  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(TestPostgres.shared(), SETTINGS);
    api = node.api;
    receiver = new Receiver();
    receiver.on("/down", n -> Answer.status(503));
    receiver.on("/slow", n -> Answer.status(200).after(1500));
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.close();
    node.close();
  }

  @Test
  void statsAndHealthOfAWorkingAndAFailingEndpoint() {
    Tenant t = api.createTenant("stats-" + UUID.randomUUID());
    String working = endpoint(t, "{\"url\":\"" + receiver.url("/ok") + "\"}");
    // Only order.failed goes there; with two attempts, its one delivery is dead-lettered,
    // and its two failures open the circuit.
    String failing = endpoint(t, "{\"url\":\"" + receiver.url("/down") + "\","
        + "\"event_types\":[\"order.failed\"],\"max_attempts\":2}");
    String disabled = endpoint(t, "{\"url\":\"" + receiver.url("/ok") + "\",\"enabled\":false}");
    // /ok answers 200 without echoing the challenge: this one stays pending verification.
    endpoint(t, "{\"url\":\"" + receiver.url("/ok") + "\",\"verify\":true}");
    List<String> events = new ArrayList<>();
    for (int i = 0; i < 4; i++) events.add(ingest(t, "order.paid"));
    events.add(ingest(t, "order.failed"));
    int n = events.size();

    Await.until("the read model holds every delivery and the failing endpoint's circuit", PATIENCE, () -> {
      JsonNode s = stats(t, "");
      return sum(s, "accepted") == n && sum(s, "delivered") == n && sum(s, "failed_attempts") == 2
          && s.get("dead_letters").asLong() == 1 && s.get("endpoints").get("circuit_open").asLong() == 1;
    });
    JsonNode s = stats(t, "");
    assertEquals(900, s.get("window_seconds").asLong());
    assertEquals(10, s.get("bucket_seconds").asLong());
    assertBucketsCoverNow(s, 90);
    assertEquals(n, sum(s, "accepted"));
    assertEquals(n, sum(s, "delivered"), "every event reached the working endpoint");
    assertEquals(2, sum(s, "failed_attempts"));
    assertEquals(1, s.get("dead_letters").asLong());
    assertEquals(successRateOfAttempts(t, events), s.get("success_rate").asDouble(), 1e-9);
    assertEquals((double) n / (n + 2), s.get("success_rate").asDouble(), 1e-9);
    JsonNode endpoints = s.get("endpoints");
    assertEquals(4, endpoints.get("total").asLong());
    assertEquals(2, endpoints.get("enabled").asLong(), "a pending endpoint receives nothing: not counted as enabled");
    assertEquals(1, endpoints.get("disabled").asLong());
    assertEquals(1, endpoints.get("pending_verification").asLong());
    assertEquals(1, endpoints.get("circuit_open").asLong());
    assertEquals(1, endpoints.get("failing").asLong());

    JsonNode ok = health(t, working);
    assertEquals(working, ok.get("endpoint_id").asText());
    assertTrue(ok.get("enabled").asBoolean());
    assertEquals("closed", ok.get("circuit").asText());
    assertTrue(ok.get("failing_since").isNull());
    assertEquals(0, ok.get("in_flight").asInt());
    assertEquals(0, ok.get("queued").asInt());
    assertEquals(n, ok.get("attempts_last_hour").asLong());
    assertEquals(1.0, ok.get("success_rate_last_hour").asDouble());
    assertFalse(ok.get("last_attempt_at").isNull());
    assertTrue(ok.get("last_error").isNull());

    JsonNode down = health(t, failing);
    assertEquals("open", down.get("circuit").asText(), down.toString());
    assertTrue(Instant.parse(down.get("failing_since").asText()).isBefore(Instant.now()));
    assertEquals(0, down.get("in_flight").asInt());
    assertEquals(2, down.get("attempts_last_hour").asLong());
    assertEquals(0.0, down.get("success_rate_last_hour").asDouble());
    assertEquals("HTTP 503", down.get("last_error").asText());

    JsonNode off = health(t, disabled);
    assertFalse(off.get("enabled").asBoolean());
    assertEquals("closed", off.get("circuit").asText());
    assertEquals(0, off.get("attempts_last_hour").asLong());
    assertTrue(off.get("success_rate_last_hour").isNull());
    assertTrue(off.get("last_attempt_at").isNull());

    // Another tenant sees none of it.
    Tenant other = api.createTenant("stats-other-" + UUID.randomUUID());
    JsonNode none = stats(other, "");
    assertEquals(0, sum(none, "accepted") + sum(none, "delivered") + sum(none, "failed_attempts"));
    assertTrue(none.get("success_rate").isNull());
    assertEquals(0, none.get("dead_letters").asLong());
    assertEquals(0, none.get("endpoints").get("total").asLong());
    assertEquals(0, none.get("endpoints").get("failing").asLong());
    assertProblem(api.get("/v1/endpoints/" + failing + "/health", other.apiKey()), 404, "not-found");
  }

  @Test
  void healthOfAnUnknownOrMalformedIdAndWithoutAKey() {
    Tenant t = api.createTenant("stats-ids-" + UUID.randomUUID());
    assertProblem(api.get("/v1/endpoints/" + UUID.randomUUID() + "/health", t.apiKey()), 404, "not-found");
    assertProblem(api.get("/v1/endpoints/not-a-uuid/health", t.apiKey()), 400, "invalid-id");
    assertProblem(api.get("/v1/endpoints/" + UUID.randomUUID() + "/health", null), 401, "unauthorized");
    assertProblem(api.get("/v1/stats", null), 401, "unauthorized");
  }

  @Test
  void theWindowIsFromOneMinuteToADayInSecondsMinutesOrHours() {
    Tenant t = api.createTenant("stats-window-" + UUID.randomUUID());
    record Shape(String window, long seconds, long bucketSeconds, int buckets) {}
    for (Shape shape : List.of(
        new Shape("1m", 60, 1, 60),
        new Shape("900s", 900, 10, 90),
        new Shape("15m", 900, 10, 90),
        new Shape("7m", 420, 5, 84),
        new Shape("1h", 3600, 60, 60),
        new Shape("6h", 21600, 300, 72),
        new Shape("24h", 86400, 1200, 72))) {
      JsonNode s = stats(t, "?window=" + shape.window());
      assertEquals(shape.seconds(), s.get("window_seconds").asLong(), shape.window());
      assertEquals(shape.bucketSeconds(), s.get("bucket_seconds").asLong(), shape.window());
      assertBucketsCoverNow(s, shape.buckets());
    }
    for (String bad : List.of("", "15", "abc", "30s", "59s", "0m", "25h", "1d", "-5m", "15M", "1h30m", "9999999h")) {
      String detail = assertProblem(api.get("/v1/stats?window=" + bad, t.apiKey()), 400, "invalid-request");
      assertTrue(detail.contains("window"), detail);
    }
    assertProblem(api.get("/v1/stats?windw=15m", t.apiKey()), 400, "invalid-request");
  }

  @Test
  void inFlightAndQueuedWhileASlowReceiverHoldsTheRequests() {
    Tenant t = api.createTenant("stats-slow-" + UUID.randomUUID());
    String slow = endpoint(t, "{\"url\":\"" + receiver.url("/slow") + "\",\"max_in_flight\":1}");
    for (int i = 0; i < 3; i++) ingest(t, "order.paid");

    // One request out, the others waiting behind it in the endpoint's queue.
    Await.until("a request in flight and others queued", PATIENCE, () -> {
      JsonNode h = health(t, slow);
      return h.get("in_flight").asInt() == 1 && h.get("queued").asInt() >= 1;
    });
    Await.until("all three answered and in the read model", PATIENCE, () -> {
      JsonNode h = health(t, slow);
      return h.get("in_flight").asInt() == 0 && h.get("queued").asInt() == 0
          && h.get("attempts_last_hour").asLong() == 3;
    });
    JsonNode h = health(t, slow);
    assertEquals("closed", h.get("circuit").asText());
    assertEquals(1.0, h.get("success_rate_last_hour").asDouble());
  }

  @Test
  void anEndpointRecoveringFromItsJournalRepairsItsCircuitInTheIndex() throws Exception {
    Tenant t = api.createTenant("stats-restart-" + UUID.randomUUID());
    String failing = endpoint(t, "{\"url\":\"" + receiver.url("/down") + "\",\"max_attempts\":2}");
    ingest(t, "order.failed");
    Await.until("the circuit open in the index", PATIENCE,
        () -> stats(t, "").get("endpoints").get("circuit_open").asLong() == 1);

    // As if the node had died between journaling CircuitOpened and writing the index.
    TestPostgres.shared().queryString(
        "UPDATE endpoints SET circuit_open_since = NULL, circuit_seq_nr = 0 WHERE id = ?::uuid RETURNING id", failing);
    assertEquals(0, stats(t, "").get("endpoints").get("circuit_open").asLong());
    node.close();
    node = TestNode.start(TestPostgres.shared(), SETTINGS);
    api = node.api;

    // Asking for its health starts the entity; it recovers with its circuit open, so its
    // next request is a probe.
    assertEquals("half_open", health(t, failing).get("circuit").asText());
    Await.until("the index repaired by the recovery", PATIENCE,
        () -> stats(t, "").get("endpoints").get("circuit_open").asLong() == 1);
  }

  // ---- helpers ----

  private static String endpoint(Tenant t, String json) {
    return api.createEndpoint(t.apiKey(), json);
  }

  private static String ingest(Tenant t, String type) {
    Response r = api.ingest(t.apiKey(), UUID.randomUUID().toString(), "{\"type\":\"" + type + "\",\"payload\":{}}");
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  private static JsonNode stats(Tenant t, String query) {
    Response r = api.get("/v1/stats" + query, t.apiKey());
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  private static JsonNode health(Tenant t, String endpointId) {
    Response r = api.get("/v1/endpoints/" + endpointId + "/health", t.apiKey());
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  private static long sum(JsonNode stats, String field) {
    long total = 0;
    for (JsonNode b : stats.get("buckets")) total += b.get(field).asLong();
    return total;
  }

  /** The share of 2xx among every attempt of these events, as each event lists them. */
  private static double successRateOfAttempts(Tenant t, List<String> events) {
    int attempts = 0;
    int succeeded = 0;
    for (String id : events) {
      for (JsonNode d : api.get("/v1/events/" + id, t.apiKey()).json().get("deliveries")) {
        for (JsonNode a : d.get("attempts")) {
          attempts++;
          int code = a.get("status_code").asInt();
          if (code >= 200 && code < 300) succeeded++;
        }
      }
    }
    return (double) succeeded / attempts;
  }

  /** Every bucket, oldest first, one bucket apart, aligned to its size; the last holds now. */
  private static void assertBucketsCoverNow(JsonNode stats, int count) {
    long size = stats.get("bucket_seconds").asLong();
    JsonNode buckets = stats.get("buckets");
    assertEquals(count, buckets.size(), stats.toString());
    Instant previous = null;
    for (JsonNode b : buckets) {
      Instant start = Instant.parse(b.get("start").asText());
      assertEquals(0, start.getEpochSecond() % size, "aligned: " + start);
      if (previous != null) assertEquals(previous.plusSeconds(size), start);
      previous = start;
    }
    Instant lastStart = Instant.parse(buckets.get(count - 1).get("start").asText());
    Instant now = Instant.now();
    assertTrue(!lastStart.isAfter(now) && lastStart.plusSeconds(size + 5).isAfter(now), "last bucket " + lastStart);
  }
}
