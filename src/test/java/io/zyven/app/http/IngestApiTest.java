package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.ingest.IngestService;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/events} against a running node on real PostgreSQL: every code of the
 * ingest contract, in its order, and that a rejected request writes nothing.
 */
class IngestApiTest {
  private static final String EVENT = "{\"type\":\"user.created\",\"payload\":{\"id\":42}}";

  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;

  private Tenant tenant;
  private String endpointId;

  @BeforeAll
  static void startNode() {
    pg = TestPostgres.shared();
    node = TestNode.start(pg);
    api = node.api;
  }

  @AfterAll
  static void stopNode() throws Exception {
    node.close();
  }

  @BeforeEach
  void newTenant() {
    tenant = api.createTenant("ingest-" + UUID.randomUUID());
    endpointId = api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/hook\",\"event_types\":[\"user.*\"]}");
  }

  // ---- accepted ----

  @Test
  void acceptsWith202AndWritesOneReceivedEvent() {
    Response r = api.ingest(tenant.apiKey(), "k-1", EVENT);

    assertEquals(202, r.status(), r.body());
    assertEquals("accepted", r.json().get("status").asText());
    String eventId = r.json().get("event_id").asText();
    assertEquals(1, pg.acceptances(eventId));
    assertFalse(r.header("Idempotent-Replayed").isPresent());
  }

  @Test
  void sameKeyAndBodyReplaysTheSameIdWith200() {
    String first = api.ingest(tenant.apiKey(), "k-replay", EVENT).json().get("event_id").asText();

    Response again = api.ingest(tenant.apiKey(), "k-replay", EVENT);

    assertEquals(200, again.status());
    assertEquals("true", again.header("Idempotent-Replayed").orElse(""));
    assertEquals(first, again.json().get("event_id").asText());
    assertEquals(1, pg.acceptances(first));
  }

  @Test
  void sameKeyWithDifferentBodyIs409AndChangesNothing() {
    String id = api.ingest(tenant.apiKey(), "k-conflict", EVENT).json().get("event_id").asText();

    Response r = api.ingest(tenant.apiKey(), "k-conflict", "{\"type\":\"user.created\",\"payload\":{\"id\":43}}");

    assertProblem(r, 409, "idempotency-conflict");
    assertEquals(1, pg.acceptances(id));
    assertEquals("{\"id\":42}", api.get("/v1/events/" + id, tenant.apiKey()).json().get("payload").toString());
  }

  @Test
  void concurrentRequestsWithOneKeyMakeOneEvent() throws Exception {
    int clients = 16;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<Response>> responses = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        responses.add(pool.submit(() -> {
          start.await();
          return api.ingest(tenant.apiKey(), "k-race", EVENT);
        }));
      }
      start.countDown();
      int created = 0;
      Set<String> ids = new HashSet<>();
      for (Future<Response> f : responses) {
        Response r = f.get();
        assertTrue(r.status() == 202 || r.status() == 200, r.toString());
        if (r.status() == 202) created++;
        ids.add(r.json().get("event_id").asText());
      }
      assertEquals(1, created, "exactly one request creates the event");
      assertEquals(1, ids.size());
      assertEquals(1, pg.acceptances(ids.iterator().next()));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theSameKeyInTwoTenantsMakesTwoEvents() {
    Tenant other = api.createTenant("other-" + UUID.randomUUID());
    api.createEndpoint(other.apiKey(), "{\"url\":\"http://127.0.0.1:9/hook\"}");

    String a = api.ingest(tenant.apiKey(), "shared-key", EVENT).json().get("event_id").asText();
    Response b = api.ingest(other.apiKey(), "shared-key", EVENT);

    assertEquals(202, b.status());
    assertFalse(a.equals(b.json().get("event_id").asText()));
  }

  @Test
  void payloadIsKeptByteForByte() {
    String payload = "{ \"n\": 1.50, \"s\" : \"é\\u00e9\",\"a\":[ ] }";
    String id = api.ingest(tenant.apiKey(), "k-bytes", "{\"type\":\"user.x\",\"payload\":" + payload + "}")
        .json().get("event_id").asText();

    String body = api.get("/v1/events/" + id, tenant.apiKey()).body();

    assertTrue(body.contains("\"payload\":" + payload + ","), body);
  }

  // ---- 401 ----

  @Test
  void missingKeyIs401() {
    assertNothingWrittenAnywhere(
        () -> api.send(api.request("/v1/events", null)
            .header("Content-Type", "application/json").header("Idempotency-Key", "k")
            .POST(HttpRequest.BodyPublishers.ofString(EVENT))),
        401, "unauthorized");
  }

  /** A key nobody holds names no tenant: nothing at all may be written. */
  @Test
  void unknownKeyIs401EvenWithABadBody() {
    assertNothingWrittenAnywhere(() -> api.ingest("zyv_not-a-key", "k-401", "not json"), 401, "unauthorized");
  }

  /**
   * A tenant's own key with one character changed, and a body that its real key would have
   * had accepted: no event for that tenant and idempotency key, and nothing written at all.
   */
  @Test
  void aMistypedKeyOfARealTenantIs401AndWritesNothing() {
    String key = tenant.apiKey();
    String mistyped = key.substring(0, key.length() - 1) + (key.endsWith("A") ? "B" : "A");

    assertNothingWritten(() -> api.ingest(mistyped, "k-401-mistyped", EVENT), 401, "unauthorized", "k-401-mistyped");
    // The same request with the real key is accepted: the 401 was for the key alone.
    assertEquals(202, api.ingest(tenant.apiKey(), "k-401-mistyped", EVENT).status());
  }

  @Test
  void xApiKeyHeaderIsAccepted() {
    Response r = api.send(api.request("/v1/events", null)
        .header("X-API-Key", tenant.apiKey())
        .header("Content-Type", "application/json").header("Idempotency-Key", "k-x")
        .POST(HttpRequest.BodyPublishers.ofString(EVENT)));
    assertEquals(202, r.status(), r.body());
  }

  // ---- 415 ----

  @Test
  void nonJsonContentTypeIs415BeforeAnythingElse() {
    // No Idempotency-Key either: 415 comes first.
    Response r = api.send(api.request("/v1/events", tenant.apiKey())
        .header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString(EVENT)));
    assertProblem(r, 415, "unsupported-media-type");
  }

  // ---- 413 ----

  @Test
  void bodyOverTheLimitIs413() {
    String big = "{\"type\":\"user.created\",\"payload\":{\"x\":\"" + "a".repeat(256 * 1024) + "\"}}";
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "k-413", big), 413, "payload-too-large", "k-413");
  }

  @Test
  void chunkedBodyOverTheLimitIs413() {
    byte[] big = ("{\"type\":\"user.created\",\"payload\":{\"x\":\"" + "a".repeat(300 * 1024) + "\"}}").getBytes();
    assertNothingWritten(
        () -> api.send(api.request("/v1/events", tenant.apiKey())
            .header("Content-Type", "application/json").header("Idempotency-Key", "k-413c")
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))),
        413, "payload-too-large", "k-413c");
  }

  @Test
  void oversizeComesBeforeAMissingIdempotencyKey() {
    String big = "{\"type\":\"user.created\",\"payload\":{\"x\":\"" + "a".repeat(256 * 1024) + "\"}}";
    Response r = api.send(api.request("/v1/events", tenant.apiKey())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(big)));
    assertProblem(r, 413, "payload-too-large");
  }

  // ---- 400 ----

  @Test
  void missingIdempotencyKeyIs400() {
    long before = pg.allAcceptances();
    Response r = api.send(api.request("/v1/events", tenant.apiKey())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(EVENT)));
    assertProblem(r, 400, "invalid-request");
    assertEquals(before, pg.allAcceptances());
  }

  @Test
  void idempotencyKeyLongerThan255Is400() {
    String key = "k".repeat(256);
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), key, EVENT), 400, "invalid-request", key);
    assertEquals(202, api.ingest(tenant.apiKey(), "k".repeat(255), EVENT).status());
  }

  @Test
  void malformedJsonIs400() {
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "k-bad", "{\"type\":"), 400, "malformed-json", "k-bad");
  }

  /** Where and what, in words; never the parser's own message (checked by assertProblem). */
  @Test
  void malformedJsonSaysWhatAndWhere() {
    assertMalformed("{\"type\":\"user.created\",\"payload\":{\"id\":4",
        "unexpected end of input at line 1, column 41");
    assertMalformed("{\"type\":\"user.created\",}",
        "unexpected character '}' at line 1, column 24: expected a field name in double quotes");
    assertMalformed("{\"type\":\"user.created\",\n \"payload\":{\"ok\":tru}}",
        "unrecognized token 'tru' at line 2, column 18: expected a string, number, object, array, true, false or null");
    assertMalformed("{\"type\":\"user.created\" \"payload\":{}}",
        "unexpected character '\"' at line 1, column 24: expected ',' or '}'");
    assertMalformed("{\"type\":\"user.created\",\"payload\":{\"n\":007}}",
        "invalid number at line 1, column 40: a number cannot start with 0 unless it is 0");
    assertMalformed("{\"type\":\"user.created\",\"payload\":{\"s\":\"a\tb\"}}",
        "unescaped control character U+0009 in a string at line 1, column 41: control characters must be escaped, e.g. \\n");
  }

  private void assertMalformed(String body, String detail) {
    String key = "k-malformed-" + UUID.randomUUID();
    assertEquals(detail, assertNothingWritten(() -> api.ingest(tenant.apiKey(), key, body), 400, "malformed-json", key), body);
  }

  @Test
  void trailingContentIs400() {
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "k-trail", EVENT + "{}"), 400, "malformed-json", "k-trail");
  }

  @Test
  void duplicateFieldIs400() {
    String body = "{\"type\":\"user.created\",\"type\":\"user.deleted\",\"payload\":{}}";
    String detail = assertNothingWritten(() -> api.ingest(tenant.apiKey(), "k-dup", body), 400, "malformed-json", "k-dup");
    assertEquals("duplicate field 'type' at line 1, column 30", detail);
  }

  @Test
  void unknownFieldIs400() {
    String body = "{\"type\":\"user.created\",\"payload\":{},\"endpoint\":\"x\"}";
    String detail = assertNothingWritten(() -> api.ingest(tenant.apiKey(), "k-unknown", body), 400, "invalid-request", "k-unknown");
    assertEquals("unknown field 'endpoint'; the fields are endpoint_id, payload, type", detail);
  }

  @Test
  void missingOrInvalidTypeIs400() {
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "t1", "{\"payload\":{}}"), 400, "invalid-request", "t1");
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "t2", "{\"type\":\"user created\",\"payload\":{}}"), 400, "invalid-request", "t2");
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "t3", "{\"type\":\"\",\"payload\":{}}"), 400, "invalid-request", "t3");
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "t4", "{\"type\":\"" + "u".repeat(129) + "\",\"payload\":{}}"), 400, "invalid-request", "t4");
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "t5", "{\"type\":7,\"payload\":{}}"), 400, "invalid-request", "t5");
  }

  @Test
  void payloadThatIsNotAnObjectIs400() {
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "p1", "{\"type\":\"user.x\"}"), 400, "invalid-request", "p1");
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "p2", "{\"type\":\"user.x\",\"payload\":[1]}"), 400, "invalid-request", "p2");
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "p3", "{\"type\":\"user.x\",\"payload\":\"{}\"}"), 400, "invalid-request", "p3");
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "p4", "{\"type\":\"user.x\",\"payload\":null}"), 400, "invalid-request", "p4");
  }

  @Test
  void bodyThatIsNotAnObjectIs400() {
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "b1", "[]"), 400, "invalid-request", "b1");
  }

  // ---- 422 ----

  @Test
  void noSubscribedEndpointIs422() {
    assertNothingWritten(
        () -> api.ingest(tenant.apiKey(), "k-422", "{\"type\":\"order.created\",\"payload\":{}}"), 422, "no-subscribers", "k-422");
  }

  @Test
  void unknownEndpointIdIs422() {
    String body = "{\"type\":\"user.created\",\"payload\":{},\"endpoint_id\":\"" + UUID.randomUUID() + "\"}";
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "k-422u", body), 422, "endpoint-unavailable", "k-422u");
    String notAnId = "{\"type\":\"user.created\",\"payload\":{},\"endpoint_id\":\"nope\"}";
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "k-422n", notAnId), 422, "endpoint-unavailable", "k-422n");
  }

  @Test
  void disabledEndpointIs422() {
    assertEquals(200, api.patchJson("/v1/endpoints/" + endpointId, tenant.apiKey(), "{\"enabled\":false}").status());
    String targeted = "{\"type\":\"user.created\",\"payload\":{},\"endpoint_id\":\"" + endpointId + "\"}";

    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "k-422d", targeted), 422, "endpoint-unavailable", "k-422d");
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "k-422f", EVENT), 422, "no-subscribers", "k-422f");
  }

  @Test
  void deletedEndpointIs422() {
    assertEquals(204, api.delete("/v1/endpoints/" + endpointId, tenant.apiKey()).status());
    assertNothingWritten(() -> api.ingest(tenant.apiKey(), "k-422x", EVENT), 422, "no-subscribers", "k-422x");
  }

  @Test
  void anotherTenantsEndpointIs422() {
    Tenant other = api.createTenant("other-" + UUID.randomUUID());
    String body = "{\"type\":\"user.created\",\"payload\":{},\"endpoint_id\":\"" + endpointId + "\"}";
    long before = pg.allAcceptances();
    assertProblem(api.ingest(other.apiKey(), "k-422t", body), 422, "endpoint-unavailable");
    assertEquals(before, pg.allAcceptances());
  }

  @Test
  void replayOfAnAcceptedKeyStillAnswers200AfterItsEndpointIsDisabled() {
    String id = api.ingest(tenant.apiKey(), "k-late", EVENT).json().get("event_id").asText();
    api.patchJson("/v1/endpoints/" + endpointId, tenant.apiKey(), "{\"enabled\":false}");

    Response again = api.ingest(tenant.apiKey(), "k-late", EVENT);

    assertEquals(200, again.status(), again.body());
    assertEquals(id, again.json().get("event_id").asText());
  }

  // ---- fan-out ----

  @Test
  void fanOutGoesToEveryEnabledSubscriber() {
    String all = api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/all\"}");
    String orders = api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/o\",\"event_types\":[\"order.*\"]}");
    String exact = api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/e\",\"event_types\":[\"user.created\"]}");
    String disabled = api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/d\",\"enabled\":false}");

    String id = api.ingest(tenant.apiKey(), "k-fan", EVENT).json().get("event_id").asText();

    Set<String> targets = deliveryEndpoints(id);
    assertEquals(Set.of(endpointId, all, exact), targets);
    assertFalse(targets.contains(orders) || targets.contains(disabled));
  }

  @Test
  void endpointIdTargetsOneEndpointWhateverItsFilter() {
    String orders = api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/o\",\"event_types\":[\"order.*\"]}");
    String body = "{\"type\":\"user.created\",\"payload\":{},\"endpoint_id\":\"" + orders + "\"}";

    String id = api.ingest(tenant.apiKey(), "k-target", body).json().get("event_id").asText();

    assertEquals(Set.of(orders), deliveryEndpoints(id));
  }

  // ---- reads ----

  @Test
  void getShowsTheEventWithItsDeliveries() {
    String id = api.ingest(tenant.apiKey(), "k-get", EVENT).json().get("event_id").asText();

    JsonNode event = api.get("/v1/events/" + id, tenant.apiKey()).json();

    assertEquals(id, event.get("id").asText());
    assertEquals("user.created", event.get("type").asText());
    // Accepted, with its first attempt started in the same journal write (nothing listens
    // on the endpoint's port, so it is still trying).
    assertEquals(42, event.get("payload").get("id").asInt());
    assertTrue(event.get("created_at").asText().endsWith("Z"));
    JsonNode delivery = event.get("deliveries").get(0);
    assertEquals(endpointId, delivery.get("endpoint_id").asText());
    assertTrue(delivery.get("attempt_count").asInt() >= 1);
    assertTrue(List.of("DISPATCHING", "RETRY_SCHEDULED").contains(delivery.get("status").asText()), delivery.toString());
    assertEquals(delivery.get("status").asText(), event.get("status").asText());
    assertTrue(delivery.get("attempts").isArray());
  }

  @Test
  void anotherTenantsEventIs404() {
    String id = api.ingest(tenant.apiKey(), "k-private", EVENT).json().get("event_id").asText();
    Tenant other = api.createTenant("other-" + UUID.randomUUID());

    assertProblem(api.get("/v1/events/" + id, other.apiKey()), 404);
    assertProblem(api.get("/v1/events/" + id + "/audit", other.apiKey()), 404);
  }

  @Test
  void unknownEventIs404() {
    assertProblem(api.get("/v1/events/" + UUID.randomUUID(), tenant.apiKey()), 404, "not-found");
    assertProblem(api.get("/v1/events/" + UUID.randomUUID() + "/audit", tenant.apiKey()), 404, "not-found");
  }

  @Test
  void unknownPathsAndMethodsAnswerProblemJsonWithReadableTypes() {
    Response unknownPath = api.get("/v1/nothing", tenant.apiKey());
    assertProblem(unknownPath, 404, "not-found");
    assertEquals("Not found", unknownPath.json().get("title").asText());

    Response put = api.send(api.request("/v1/events", tenant.apiKey()).PUT(HttpRequest.BodyPublishers.ofString("{}")));
    String detail = assertProblem(put, 405, "method-not-allowed");
    assertEquals("Method not allowed", put.json().get("title").asText());
    assertTrue(detail.contains("GET") && detail.contains("POST"), detail);
    assertProblem(api.get("/v1/endpoints/" + UUID.randomUUID() + "/enable", tenant.apiKey()), 405, "method-not-allowed");
  }

  // ---- metrics ----

  @Test
  void metricsCountAcceptedEventsInPrometheusTextFormat() {
    long before = acceptedCounter();
    assertEquals(202, api.ingest(tenant.apiKey(), "metrics-" + UUID.randomUUID(), EVENT).status());

    Response metrics = api.get("/metrics", null);
    assertEquals(200, metrics.status());
    assertEquals(List.of("text/plain; version=0.0.4; charset=UTF-8"), metrics.headers().get("content-type"));
    assertTrue(metrics.body().contains("# TYPE zyven_events_accepted_total counter\n"), metrics.body());
    assertEquals(before + 1, acceptedCounter());
  }

  private static long acceptedCounter() {
    return api.get("/metrics", null).body().lines()
        .filter(l -> l.startsWith("zyven_events_accepted_total "))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.indexOf(" ") + 1)))
        .findFirst().orElse(0);
  }

  // ---- helpers ----

  private Set<String> deliveryEndpoints(String eventId) {
    Set<String> ids = new HashSet<>();
    api.get("/v1/events/" + eventId, tenant.apiKey()).json().get("deliveries")
        .forEach(d -> ids.add(d.get("endpoint_id").asText()));
    return ids;
  }

  /**
   * The request, made with this test's tenant's key (or a mistyping of it), is refused with
   * {@code status} and {@code slug}; the tenant has no event under {@code idempotencyKey}, and
   * nothing at all was written (see {@link #assertNothingWrittenAnywhere}). Its detail.
   */
  private String assertNothingWritten(Supplier<Response> request, int status, String slug, String idempotencyKey) {
    String detail = assertNothingWrittenAnywhere(request, status, slug);
    assertEquals(0, pg.journalRows(IngestService.eventId(tenant.id(), idempotencyKey)),
        "journal rows of the tenant's event for " + idempotencyKey);
    return detail;
  }

  /**
   * The request is refused with {@code status} and {@code slug}, and the journal gained
   * nothing: no acceptance in any tenant, and no row of any entity that had none before.
   * (Deliveries of earlier tests' events still retry meanwhile, so the journal's row count
   * itself does not stand still; their rows belong to entities that existed before.) The
   * read model is written only from the journal. Its detail.
   */
  private String assertNothingWrittenAnywhere(Supplier<Response> request, int status, String slug) {
    long acceptances = pg.allAcceptances();
    long lastRow = pg.count("SELECT coalesce(max(ordering), 0) FROM event_journal");
    Response r = request.get();
    String detail = assertProblem(r, status, slug);
    assertEquals(acceptances, pg.allAcceptances(), "Received rows in the journal, all tenants");
    assertEquals(0, pg.count(
        "SELECT count(*) FROM event_journal j WHERE j.ordering > ? AND NOT EXISTS"
            + " (SELECT 1 FROM event_journal o WHERE o.persistence_id = j.persistence_id AND o.ordering <= ?)",
        lastRow, lastRow), "journal rows of entities new since the request");
    return detail;
  }
}
