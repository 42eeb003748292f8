package io.zyven.app.delivery;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import io.zyven.app.testing.WebhookVerifier;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Delivery end to end: a node on real PostgreSQL sends to a real receiver on loopback,
 * and every delivery policy in the README is observed from the receiver's side and through
 * the API. Retry delays are milliseconds here.
 */
class DeliveryTest {
  private static final Duration FIRST = Duration.ofMillis(150);
  private static final Duration SECOND = Duration.ofMillis(300);
  private static final Duration PATIENCE = Duration.ofSeconds(15);

  private static TestNode node;
  private static ApiClient api;
  private Receiver receiver;
  private Tenant tenant;

  @BeforeAll
  static void startNode() {
    node = TestNode.start(TestPostgres.shared(), Map.of(
        "zyven.delivery.retry-schedule", List.of("150ms", "300ms", "600ms"),
        "zyven.delivery.jitter", 0.2,
        "zyven.circuit.failure-threshold", 5,
        "zyven.circuit.cooldown", "1s",
        "zyven.circuit.max-cooldown", "2s"));
    api = node.api;
  }

  @AfterAll
  static void stopNode() throws Exception {
    node.close();
  }

  @BeforeEach
  void receiverAndTenant() throws Exception {
    receiver = new Receiver();
    tenant = api.createTenant("delivery-" + UUID.randomUUID());
  }

  @org.junit.jupiter.api.AfterEach
  void stopReceiver() {
    receiver.close();
  }

  // ---- signing ----

  @Test
  void theVerifierUsedBelowAgreesWithTheStandardWebhooksVectors() throws Exception {
    JsonNode vectors;
    try (InputStream in = getClass().getResourceAsStream("/vectors/standard-webhooks.json")) {
      vectors = ApiClient.JSON.readTree(in);
    }
    for (JsonNode v : vectors.get("valid")) {
      assertTrue(verifyVector(v), v.toString());
    }
    for (JsonNode v : vectors.get("must_not_verify")) {
      assertFalse(verifyVector(v), v.toString());
    }
  }

  private static boolean verifyVector(JsonNode v) {
    long ts = v.get("timestamp").asLong();
    return WebhookVerifier.verify(v.get("secret").asText(), v.get("id").asText(), Long.toString(ts),
        v.get("payload").asText().getBytes(StandardCharsets.UTF_8), v.get("signature").asText(), ts);
  }

  @Test
  void anEventArrivesSignedWithEveryHeader() {
    JsonNode endpoint = createEndpoint("/signed", ",\"headers\":{\"X-Tenant-Tag\":\"blue\"}");
    String payload = "{ \"order\": 1.50, \"items\":[ \"a\" ] }";

    String id = ingest("{\"type\":\"order.paid\",\"payload\":" + payload + "}");
    awaitStatus(id, "DELIVERED");

    Receiver.Request r = receiver.requests("/signed").get(0);
    assertEquals(payload, r.bodyText(), "the payload bytes as accepted");
    assertEquals(id, r.header("webhook-id"));
    long ts = Long.parseLong(r.header("webhook-timestamp"));
    assertTrue(Math.abs(Instant.now().getEpochSecond() - ts) < 60);
    assertTrue(WebhookVerifier.verify(endpoint.get("secret").asText(), id, r.header("webhook-timestamp"),
        r.body(), r.header("webhook-signature"), Instant.now().getEpochSecond()), "signature verifies");
    assertEquals(id, r.header("X-Webhook-Id"));
    assertNotNull(r.header("X-Delivery-Id"));
    assertEquals(r.header("webhook-timestamp"), r.header("X-Timestamp"));
    assertEquals(r.header("webhook-signature"), r.header("X-Signature"));
    assertEquals("order.paid", r.header("X-Event-Type"));
    assertTrue(r.header("Content-Type").startsWith("application/json"), r.header("Content-Type"));
    assertTrue(r.header("User-Agent").startsWith("Zyven/"), r.header("User-Agent"));
    assertEquals("blue", r.header("X-Tenant-Tag"));
  }

  @Test
  void webhookIdIsStableAcrossAttemptsAndDeliveryIdIsNot() {
    receiver.on("/twice", n -> Answer.status(n == 1 ? 500 : 200));
    createEndpoint("/twice", "");

    String id = ingest("{\"type\":\"a.b\",\"payload\":{}}");
    awaitStatus(id, "DELIVERED");

    List<Receiver.Request> requests = receiver.requests("/twice");
    assertEquals(2, requests.size());
    assertEquals(requests.get(0).header("webhook-id"), requests.get(1).header("webhook-id"));
    assertNotEquals(requests.get(0).header("X-Delivery-Id"), requests.get(1).header("X-Delivery-Id"));
  }

  @Test
  void afterRotationBothSecretsSign() {
    JsonNode endpoint = createEndpoint("/rotated", "");
    String oldSecret = endpoint.get("secret").asText();
    JsonNode rotated = api.postJson("/v1/endpoints/" + endpoint.get("id").asText() + "/rotate-secret", tenant.apiKey(), "").json();
    String newSecret = rotated.get("secret").asText();
    assertNotEquals(oldSecret, newSecret);
    assertTrue(rotated.hasNonNull("previous_secret_expires_at"));

    String id = ingest("{\"type\":\"a.b\",\"payload\":{}}");
    awaitStatus(id, "DELIVERED");

    Receiver.Request r = receiver.requests("/rotated").get(0);
    String header = r.header("webhook-signature");
    assertEquals(2, header.split(" ").length, header);
    long now = Instant.now().getEpochSecond();
    assertTrue(WebhookVerifier.verify(newSecret, id, r.header("webhook-timestamp"), r.body(), header, now));
    assertTrue(WebhookVerifier.verify(oldSecret, id, r.header("webhook-timestamp"), r.body(), header, now));
  }

  // ---- outcomes and retries ----

  @Test
  void flakyReceiverIsDeliveredOnTheThirdAttemptWithBackoffSpacing() {
    receiver.on("/flaky", n -> Answer.status(n <= 2 ? 503 : 200));
    createEndpoint("/flaky", "");

    String id = ingest("{\"type\":\"a.b\",\"payload\":{}}");
    JsonNode delivery = awaitStatus(id, "DELIVERED");

    assertEquals(3, delivery.get("attempt_count").asInt());
    List<Integer> codes = new ArrayList<>();
    delivery.get("attempts").forEach(a -> codes.add(a.get("status_code").asInt()));
    assertEquals(List.of(503, 503, 200), codes);
    List<Receiver.Request> requests = receiver.requests("/flaky");
    assertSpacing(requests.get(0).at(), requests.get(1).at(), FIRST);
    assertSpacing(requests.get(1).at(), requests.get(2).at(), SECOND);

    // The journal records each retry's due time, within the jitter of the schedule.
    List<JsonNode> retries = entries(id, "RetryScheduled");
    assertEquals(2, retries.size());
    assertWithinJitter(retries.get(0), FIRST);
    assertWithinJitter(retries.get(1), SECOND);
  }

  @Test
  void alwaysFailingReceiverIsDeadLetteredAfterMaxAttempts() {
    receiver.on("/down", n -> Answer.status(500));
    createEndpoint("/down", ",\"max_attempts\":3");

    String id = ingest("{\"type\":\"a.b\",\"payload\":{\"keep\":true}}");
    JsonNode delivery = awaitStatus(id, "DEAD_LETTERED");

    assertEquals(3, delivery.get("attempt_count").asInt());
    assertEquals(3, receiver.requests("/down").size());
    assertEquals("HTTP 500", delivery.get("last_error").asText());
    JsonNode event = api.get("/v1/events/" + id, tenant.apiKey()).json();
    assertTrue(event.get("payload").get("keep").asBoolean(), "a dead letter keeps its payload");
    assertEquals("gave up after 3 attempts", entries(id, "DeadLettered").get(0).get("reason").asText());
  }

  @Test
  void badRequestIsDeadLetteredAfterOneAttempt() {
    receiver.on("/bad", n -> Answer.status(400));
    createEndpoint("/bad", "");

    String id = ingest("{\"type\":\"a.b\",\"payload\":{}}");
    JsonNode delivery = awaitStatus(id, "DEAD_LETTERED");

    assertEquals(1, delivery.get("attempt_count").asInt());
    assertEquals(1, receiver.requests("/bad").size());
  }

  @Test
  void goneDeadLettersAndDisablesTheEndpoint() {
    receiver.on("/gone", n -> Answer.status(410));
    String endpointId = createEndpoint("/gone", "").get("id").asText();

    String id = ingest("{\"type\":\"a.b\",\"payload\":{}}");
    awaitStatus(id, "DEAD_LETTERED");

    Await.until("endpoint disabled", PATIENCE,
        () -> !api.get("/v1/endpoints/" + endpointId, tenant.apiKey()).json().get("enabled").asBoolean());
    assertEquals(422, api.ingest(tenant.apiKey(), "after-gone", "{\"type\":\"a.b\",\"payload\":{}}").status());

    assertEquals(200, api.postJson("/v1/endpoints/" + endpointId + "/enable", tenant.apiKey(), "").status());
    receiver.on("/gone", n -> Answer.status(200));
    String again = ingest("{\"type\":\"a.b\",\"payload\":{\"n\":2}}");
    awaitStatus(again, "DELIVERED");
  }

  @Test
  void retryAfterIsHonoured() {
    receiver.on("/busy", n -> n == 1 ? Answer.status(429).withHeader("Retry-After", "1") : Answer.status(200));
    createEndpoint("/busy", "");

    String id = ingest("{\"type\":\"a.b\",\"payload\":{}}");
    awaitStatus(id, "DELIVERED");

    List<Receiver.Request> requests = receiver.requests("/busy");
    Duration gap = Duration.between(requests.get(0).at(), requests.get(1).at());
    assertTrue(gap.compareTo(Duration.ofMillis(950)) >= 0, "waited for Retry-After: " + gap);
  }

  @Test
  void aHangingReceiverTimesOutAndIsRetried() {
    receiver.on("/hang", n -> n == 1 ? Answer.status(200).after(3000) : Answer.status(200));
    createEndpoint("/hang", ",\"timeout_ms\":400");

    String id = ingest("{\"type\":\"a.b\",\"payload\":{}}");
    JsonNode delivery = awaitStatus(id, "DELIVERED");

    assertEquals(2, delivery.get("attempt_count").asInt());
    JsonNode first = delivery.get("attempts").get(0);
    assertTrue(first.get("status_code").isNull());
    assertTrue(first.get("error").asText().toLowerCase().contains("timeout")
        || first.get("error").asText().toLowerCase().contains("idle"), first.toString());
  }

  @Test
  void refusedConnectionIsRetryable() {
    // Nothing listens on the port of a closed receiver.
    Receiver closed;
    try {
      closed = new Receiver();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    String url = closed.url("/nobody");
    closed.close();
    JsonNode endpoint = api.postJson("/v1/endpoints", tenant.apiKey(), "{\"url\":\"" + url + "\",\"max_attempts\":2}").json();
    assertNotNull(endpoint.get("id"));

    String id = ingest("{\"type\":\"a.b\",\"payload\":{}}");
    JsonNode delivery = awaitStatus(id, "DEAD_LETTERED");

    assertEquals(2, delivery.get("attempt_count").asInt(), "retried, then given up");
    assertTrue(delivery.get("attempts").get(0).get("status_code").isNull());
  }

  // ---- dead letters and replay ----

  @Test
  void replayBringsADeadLetterToDelivered() {
    receiver.on("/later", n -> Answer.status(n == 1 ? 400 : 200));
    createEndpoint("/later", "");
    String id = ingest("{\"type\":\"a.b\",\"payload\":{}}");
    awaitStatus(id, "DEAD_LETTERED");

    ApiClient.Response r = api.postJson("/v1/events/" + id + "/replay", tenant.apiKey(), "{}");

    assertEquals(202, r.status(), r.body());
    JsonNode delivery = awaitStatus(id, "DELIVERED");
    assertEquals(2, delivery.get("attempt_count").asInt());
    assertEquals(1, entries(id, "Replayed").size());
  }

  @Test
  void replayOfADeliveredEventSendsItAgain() {
    String endpointId = createEndpoint("/again", "").get("id").asText();
    String id = ingest("{\"type\":\"a.b\",\"payload\":{}}");
    awaitStatus(id, "DELIVERED");

    assertEquals(202, api.postJson("/v1/events/" + id + "/replay", tenant.apiKey(),
        "{\"endpoint_id\":\"" + endpointId + "\"}").status());

    Await.until("sent again", PATIENCE, () -> receiver.requests("/again").size() == 2);
    awaitStatus(id, "DELIVERED");
  }

  @Test
  void replayWithNothingToReplayIs409AndOfAnotherTenantsEventIs404() {
    receiver.on("/slow", n -> Answer.status(200).after(1500));
    createEndpoint("/slow", "");
    String id = ingest("{\"type\":\"a.b\",\"payload\":{}}");

    String detail = assertProblem(api.postJson("/v1/events/" + id + "/replay", tenant.apiKey(), ""), 409, "nothing-to-replay");
    assertEquals("nothing to replay: no delivery of this event is dead-lettered or delivered", detail);
    Tenant other = api.createTenant("other");
    assertProblem(api.postJson("/v1/events/" + id + "/replay", other.apiKey(), ""), 404, "not-found");
  }

  @Test
  void recoverReplaysAnEndpointsDeadLettersInTheWindow() {
    boolean[] fixed = {false};
    receiver.on("/recover", n -> Answer.status(fixed[0] ? 200 : 400));
    String endpointId = createEndpoint("/recover", "").get("id").asText();
    Instant since = Instant.now().minusSeconds(1);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) ids.add(ingest("{\"type\":\"a.b\",\"payload\":{\"i\":" + i + "}}"));
    for (String id : ids) awaitStatus(id, "DEAD_LETTERED");
    Await.until("the read model has the dead letters", PATIENCE, () -> TestPostgres.shared().count(
        "SELECT count(*) FROM deliveries WHERE endpoint_id = ?::uuid AND status = 'DEAD_LETTERED'", endpointId) == 3);
    fixed[0] = true;

    ApiClient.Response r = api.postJson("/v1/endpoints/" + endpointId + "/recover", tenant.apiKey(),
        "{\"since\":\"" + since + "\"}");

    assertEquals(202, r.status(), r.body());
    assertEquals(3, r.json().get("dead_letters").asInt());
    for (String id : ids) awaitStatus(id, "DELIVERED");
    assertTrue(entries(ids.get(0), "Replayed").get(0).get("by").asText().contains("recover"));
  }

  @Test
  void recoverOutsideTheWindowReplaysNothing() {
    receiver.on("/old", n -> Answer.status(400));
    String endpointId = createEndpoint("/old", "").get("id").asText();
    String id = ingest("{\"type\":\"a.b\",\"payload\":{}}");
    awaitStatus(id, "DEAD_LETTERED");
    Await.until("the read model has the dead letter", PATIENCE, () -> TestPostgres.shared().count(
        "SELECT count(*) FROM deliveries WHERE endpoint_id = ?::uuid AND status = 'DEAD_LETTERED'", endpointId) == 1);

    ApiClient.Response r = api.postJson("/v1/endpoints/" + endpointId + "/recover", tenant.apiKey(),
        "{\"since\":\"2020-01-01T00:00:00Z\",\"until\":\"2020-01-02T00:00:00Z\"}");

    assertEquals(202, r.status(), r.body());
    assertEquals(0, r.json().get("dead_letters").asInt());
    assertEquals(1, receiver.requests("/old").size());
  }

  @Test
  void recoverRequiresAValidWindowAndAKnownEndpoint() {
    String endpointId = createEndpoint("/w", "").get("id").asText();
    String path = "/v1/endpoints/" + endpointId + "/recover";
    assertEquals(400, api.postJson(path, tenant.apiKey(), "{}").status());
    assertEquals(400, api.postJson(path, tenant.apiKey(), "{\"since\":\"yesterday\"}").status());
    assertEquals(400, api.postJson(path, tenant.apiKey(),
        "{\"since\":\"2026-01-02T00:00:00Z\",\"until\":\"2026-01-01T00:00:00Z\"}").status());
    assertEquals(404, api.postJson("/v1/endpoints/" + UUID.randomUUID() + "/recover", tenant.apiKey(),
        "{\"since\":\"2026-01-01T00:00:00Z\"}").status());
  }

  // ---- the gate ----

  @Test
  void maxInFlightTwoNeverHasMoreThanTwoRequestsAtOnce() {
    receiver.on("/slow", n -> Answer.status(200).after(200));
    createEndpoint("/slow", ",\"max_in_flight\":2");

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 10; i++) ids.add(ingest("{\"type\":\"a.b\",\"payload\":{\"i\":" + i + "}}"));
    for (String id : ids) awaitStatus(id, "DELIVERED");

    assertEquals(10, receiver.requests("/slow").size());
    assertTrue(receiver.mostInProgress() <= 2, "most in progress: " + receiver.mostInProgress());
    assertEquals(2, receiver.mostInProgress(), "the limit is used, not just respected");
  }

  /**
   * Endpoints on the same host and port (one SaaS receiver, many tenants) each have their
   * own max_in_flight: they do not share, and throttle, one connection pool.
   */
  @Test
  void endpointsOnOneHostEachHaveTheirOwnInFlightLimit() {
    receiver.on("/slow-a", n -> Answer.status(200).after(300));
    receiver.on("/slow-b", n -> Answer.status(200).after(300));
    createEndpoint("/slow-a", ",\"max_in_flight\":2");
    createEndpoint("/slow-b", ",\"max_in_flight\":2");

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) ids.add(ingest("{\"type\":\"a.b\",\"payload\":{\"i\":" + i + "}}"));
    for (String id : ids) awaitStatus(id, "DELIVERED");

    assertEquals(6, receiver.requests("/slow-a").size());
    assertEquals(6, receiver.requests("/slow-b").size());
    assertEquals(4, receiver.mostInProgress(), "two endpoints, two requests each at once");
  }

  @Test
  void openCircuitSendsOnlyProbesAndBurnsNoAttempts() {
    // Threshold 5, cool-down 1s doubling to 2s (node settings above).
    boolean[] up = {false};
    receiver.on("/outage", n -> Answer.status(up[0] ? 200 : 503));
    createEndpoint("/outage", ",\"timeout_ms\":1000,\"max_attempts\":9,\"max_in_flight\":2");

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 20; i++) ids.add(ingest("{\"type\":\"a.b\",\"payload\":{\"i\":" + i + "}}"));
    Await.until("circuit opened", PATIENCE, () -> receiver.requests("/outage").size() >= 5);
    Instant openedAt = Instant.now();
    Await.until("some probes", PATIENCE, () -> Duration.between(openedAt, Instant.now()).toMillis() > 3500);
    int whileDown = receiver.requests("/outage").size();
    // 5 failures open it (requests already in flight, at most max_in_flight, still land),
    // then one probe per cool-down (1s, 2s, 2s...): at most 3 in 3.5 s.
    assertTrue(whileDown <= 5 + 1 + 3, "requests while down: " + whileDown);

    up[0] = true;
    for (String id : ids) awaitStatus(id, "DELIVERED");

    int attemptsRecorded = 0;
    for (String id : ids) {
      attemptsRecorded += api.get("/v1/events/" + id, tenant.apiKey()).json().get("deliveries").get(0).get("attempts").size();
    }
    assertEquals(receiver.requests("/outage").size(), attemptsRecorded,
        "every recorded attempt is a request that was sent: deferrals spend none");
    assertFalse(entries(ids.get(ids.size() - 1), "AttemptDeferred").isEmpty(), "later events were deferred");
  }

  // ---- helpers ----

  private JsonNode createEndpoint(String path, String extraFields) {
    ApiClient.Response r = api.postJson("/v1/endpoints", tenant.apiKey(),
        "{\"url\":\"" + receiver.url(path) + "\"" + extraFields + "}");
    assertEquals(201, r.status(), r.body());
    return r.json();
  }

  private String ingest(String body) {
    ApiClient.Response r = api.ingest(tenant.apiKey(), UUID.randomUUID().toString(), body);
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  /** Waits for the event's status and returns its first delivery. */
  private JsonNode awaitStatus(String eventId, String status) {
    JsonNode[] last = new JsonNode[1];
    Await.until(eventId + " " + status, PATIENCE, () -> {
      last[0] = api.get("/v1/events/" + eventId, tenant.apiKey()).json();
      return last[0].get("status").asText().equals(status);
    });
    return last[0].get("deliveries").get(0);
  }

  private List<JsonNode> entries(String eventId, String type) {
    List<JsonNode> found = new ArrayList<>();
    api.get("/v1/events/" + eventId + "/audit", tenant.apiKey()).json().get("entries").forEach(e -> {
      if (e.get("type").asText().equals(type)) found.add(e);
    });
    return found;
  }

  private static void assertSpacing(Instant first, Instant second, Duration scheduled) {
    Duration gap = Duration.between(first, second);
    assertTrue(gap.toMillis() >= scheduled.toMillis() * 0.8 - 20, "gap " + gap + " vs " + scheduled);
  }

  private static void assertWithinJitter(JsonNode retryScheduled, Duration scheduled) {
    Instant at = Instant.parse(retryScheduled.get("at").asText());
    Instant next = Instant.parse(retryScheduled.get("next_attempt_at").asText());
    long delay = Duration.between(at, next).toMillis();
    assertTrue(delay >= scheduled.toMillis() * 0.8 - 1 && delay <= scheduled.toMillis() * 1.2 + 1,
        "delay " + delay + " ms vs " + scheduled);
  }
}
