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
import io.zyven.app.testing.WebhookVerifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Test sends ({@code POST /v1/endpoints/{id}/test}) and challenge-response verification of
 * endpoints ({@code verify}, {@code POST /v1/endpoints/{id}/verify}, the tenant's
 * {@code verify_endpoints}), against a running node and a real receiver on loopback.
 */
class EndpointVerificationApiTest {
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;

  private Tenant tenant;
  private String path;

  @BeforeAll
  static void start() throws Exception {
    // A receiver that never answers fails its verification after a second, not ten.
    node = TestNode.start(TestPostgres.shared(), Map.of("zyven.verification.timeout", "1s"));
    api = node.api;
    receiver = new Receiver();
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.close();
    node.close();
  }

  @BeforeEach
  void newTenantAndPath() {
    tenant = api.createTenant("verify-" + UUID.randomUUID());
    path = "/" + UUID.randomUUID(); // a receiver path of this test's own
  }

  // ---- test sends ----

  @Test
  void aTestSendArrivesSignedAndItsAttemptShowsLikeAnyOther() {
    Response created = createEndpoint("{\"url\":\"" + receiver.url(path) + "\"}");
    String id = created.json().get("id").asText();
    String secret = created.json().get("secret").asText();
    assertEquals("active", created.json().get("status").asText());

    // No body at all: a ping.
    Response sent = api.postJson("/v1/endpoints/" + id + "/test", tenant.apiKey(), "");
    assertEquals(202, sent.status(), sent.body());
    String eventId = sent.json().get("event_id").asText();
    assertEquals("webhook.test", sent.json().get("type").asText());

    Await.until("the test send at the receiver", PATIENCE, () -> receiver.requests(path).size() == 1);
    Receiver.Request request = receiver.requests(path).get(0);
    assertSigned(secret, request);
    assertEquals(eventId, request.header("webhook-id"));
    assertEquals("webhook.test", request.header("X-Event-Type"));
    JsonNode ping = json(request.bodyText());
    assertEquals("webhook.test", ping.get("type").asText());
    assertTrue(ping.get("test").asBoolean(), request.bodyText());
    assertEquals(id, ping.get("endpoint_id").asText());

    // Journaled and projected like any event: its attempt, its status.
    Await.until("the test send's attempt in the read model", PATIENCE, () -> {
      JsonNode attempts = api.get("/v1/events/" + eventId + "/attempts", tenant.apiKey()).json().path("data");
      return attempts.size() == 1 && attempts.get(0).path("status_code").asInt() == 200
          && attempts.get(0).path("endpoint_id").asText().equals(id);
    });
    Await.until("the test send delivered", PATIENCE,
        () -> api.get("/v1/events/" + eventId, tenant.apiKey()).json().path("status").asText().equals("DELIVERED"));

    // A type: sent as that type (with no example known, the ping's shape), as a new event.
    Response typed = api.postJson("/v1/endpoints/" + id + "/test", tenant.apiKey(), "{\"type\":\"user.created\"}");
    assertEquals(202, typed.status(), typed.body());
    assertFalse(typed.json().get("event_id").asText().equals(eventId));
    Await.until("the typed test send at the receiver", PATIENCE, () -> receiver.requests(path).size() == 2);
    Receiver.Request second = receiver.requests(path).get(1);
    assertSigned(secret, second);
    assertEquals("user.created", second.header("X-Event-Type"));
    assertEquals("user.created", json(second.bodyText()).get("type").asText());
  }

  @Test
  void aTestSendOfACatalogueTypeSendsItsExampleAndThePingPassesTheRegistrationRule() {
    Response created = createEndpoint("{\"url\":\"" + receiver.url(path) + "\"}");
    String id = created.json().get("id").asText();
    String secret = created.json().get("secret").asText();
    Response type = api.postJson("/v1/event-types", tenant.apiKey(),
        "{\"name\":\"order.paid\",\"schema\":{\"type\":\"object\",\"required\":[\"order_id\"],"
            + "\"properties\":{\"order_id\":{\"type\":\"string\"}}},\"example\":{\"order_id\":\"ord_42\"}}");
    assertEquals(201, type.status(), type.body());
    Response required = api.patchJson("/v1/event-type-settings", tenant.apiKey(), "{\"require_registered_types\":true}");
    assertEquals(200, required.status(), required.body());

    Response typed = api.postJson("/v1/endpoints/" + id + "/test", tenant.apiKey(), "{\"type\":\"order.paid\"}");
    assertEquals(202, typed.status(), typed.body());
    Await.until("the example at the receiver", PATIENCE, () -> receiver.requests(path).size() == 1);
    Receiver.Request example = receiver.requests(path).get(0);
    assertSigned(secret, example);
    assertEquals("order.paid", example.header("X-Event-Type"));
    assertEquals(json("{\"order_id\":\"ord_42\"}"), json(example.bodyText()));

    // The ping is Zyven's own type, not the tenant's: the registration rule does not refuse it...
    Response ping = api.postJson("/v1/endpoints/" + id + "/test", tenant.apiKey(), "{}");
    assertEquals(202, ping.status(), ping.body());
    Await.until("the ping at the receiver", PATIENCE, () -> receiver.requests(path).size() == 2);
    assertEquals("webhook.test", receiver.requests(path).get(1).header("X-Event-Type"));
    // ...while a named type outside the catalogue is refused like any producer's.
    assertProblem(api.postJson("/v1/endpoints/" + id + "/test", tenant.apiKey(), "{\"type\":\"order.lost\"}"),
        422, "event-type-unregistered");
  }

  @Test
  void aTestSendToAnEndpointThatCannotReceiveIs409AndWritesNothing() {
    String id = createEndpoint("{\"url\":\"" + receiver.url(path) + "\",\"enabled\":false}").json().get("id").asText();
    assertProblem(api.postJson("/v1/endpoints/" + id + "/test", tenant.apiKey(), "{}"), 409, "endpoint-not-receiving");

    receiver.on(path, n -> Answer.status(200)); // never echoes: stays pending
    String pending = createEndpoint("{\"url\":\"" + receiver.url(path) + "\",\"verify\":true}").json().get("id").asText();
    String detail = assertProblem(
        api.postJson("/v1/endpoints/" + pending + "/test", tenant.apiKey(), "{}"), 409, "endpoint-not-receiving");
    assertTrue(detail.contains("pending verification"), detail);

    Await.until("the challenge answered", PATIENCE, () -> verification(pending).path("state").asText().equals("failed"));
    assertEquals(0, api.get("/v1/events", tenant.apiKey()).json().get("data").size());
    assertTrue(receiver.requests(path).stream().allMatch(r -> json(r.bodyText()).path("type").asText().equals("webhook.verification")));
  }

  @Test
  void badTestSendsAndVerifiesAreProblems() {
    String id = createEndpoint("{\"url\":\"" + receiver.url(path) + "\"}").json().get("id").asText();
    String test = "/v1/endpoints/" + id + "/test";
    assertProblem(api.postJson(test, tenant.apiKey(), "{\"type\":\"no spaces\"}"), 400);
    assertProblem(api.postJson(test, tenant.apiKey(), "{\"type\":\"user.*\"}"), 400);
    assertProblem(api.postJson(test, tenant.apiKey(), "{\"type\":42}"), 400);
    assertProblem(api.postJson(test, tenant.apiKey(), "{\"tipe\":\"user.created\"}"), 400);
    assertProblem(api.postJson(test, tenant.apiKey(), "[]"), 400);
    assertProblem(api.postJson(test, tenant.apiKey(), "{\"type\":"), 400);
    assertProblem(api.postJson("/v1/endpoints/" + UUID.randomUUID() + "/test", tenant.apiKey(), "{}"), 404);
    assertProblem(api.postJson("/v1/endpoints/not-an-id/test", tenant.apiKey(), "{}"), 400);
    assertProblem(api.postJson("/v1/endpoints/" + UUID.randomUUID() + "/verify", tenant.apiKey(), ""), 404);
    assertProblem(api.postJson("/v1/endpoints/not-an-id/verify", tenant.apiKey(), ""), 400);

    // Both change things: a read-only key may do neither.
    String readOnly = api.postJson("/v1/api-keys", tenant.apiKey(), "{\"name\":\"ro\",\"scopes\":[\"read\"]}")
        .json().get("key").asText();
    assertProblem(api.postJson(test, readOnly, "{}"), 403, "forbidden");
    assertProblem(api.postJson("/v1/endpoints/" + id + "/verify", readOnly, ""), 403, "forbidden");

    // Another tenant's endpoint is not there.
    Tenant other = api.createTenant("verify-other-" + UUID.randomUUID());
    assertProblem(api.postJson(test, other.apiKey(), "{}"), 404);
    assertProblem(api.postJson("/v1/endpoints/" + id + "/verify", other.apiKey(), ""), 404);

    // verify must be a boolean; verify_endpoints too, and only the admin sets it.
    assertProblem(api.postJson("/v1/endpoints", tenant.apiKey(), "{\"url\":\"" + receiver.url(path) + "\",\"verify\":\"yes\"}"), 400);
    assertProblem(api.patchJson("/v1/endpoints/" + id, tenant.apiKey(), "{\"verify\":1}"), 400);
    assertProblem(api.patchJson("/v1/tenants/" + tenant.id(), TestNode.ADMIN_KEY, "{\"verify_endpoints\":\"on\"}"), 400);
    assertProblem(api.patchJson("/v1/tenants/" + tenant.id(), tenant.apiKey(), "{\"verify_endpoints\":true}"), 401);

    // Nothing was sent, nothing was written, nothing changed.
    assertEquals(0, receiver.requests(path).size());
    assertEquals(0, api.get("/v1/events", tenant.apiKey()).json().get("data").size());
    assertFalse(api.get("/v1/tenants/" + tenant.id(), TestNode.ADMIN_KEY).json().get("verify_endpoints").asBoolean());
    JsonNode endpoint = api.get("/v1/endpoints/" + id, tenant.apiKey()).json();
    assertEquals("active", endpoint.get("status").asText());
    assertTrue(endpoint.get("verification").isNull(), endpoint.toString());
  }

  // ---- verification ----

  @Test
  void anEndpointEchoingTheChallengeAsItsBodyIsVerified() {
    AtomicReference<Receiver.Request> challenge = new AtomicReference<>();
    receiver.respond(path, (n, r) -> {
      challenge.set(r);
      return Answer.status(200).withBody(json(r.bodyText()).path("challenge").asText());
    });
    assertVerifiedAfterCreate(challenge);
  }

  @Test
  void anEndpointEchoingTheChallengeInAJsonObjectIsVerified() {
    AtomicReference<Receiver.Request> challenge = new AtomicReference<>();
    receiver.respond(path, (n, r) -> {
      challenge.set(r);
      return Answer.status(200).withHeader("Content-Type", "application/json")
          .withBody("{\"ok\":true,\"challenge\":\"" + json(r.bodyText()).path("challenge").asText() + "\"}");
    });
    assertVerifiedAfterCreate(challenge);
  }

  @Test
  void theChallengeGoesAsItIsWhateverTheEndpointsTransformation() {
    receiver.respond(path, (n, r) -> Answer.status(200).withBody(json(r.bodyText()).path("challenge").asText()));
    // A transformation that would cancel every delivery, and reshape the body if it did not.
    String transformation = "function handler(webhook) { webhook.payload = {wrapped: webhook.payload}; webhook.cancel = true;"
        + " return webhook; }";
    Response created = createEndpoint("{\"url\":\"" + receiver.url(path) + "\",\"verify\":true,\"transformation\":\""
        + transformation + "\"}");
    assertEquals(201, created.status(), created.body());
    String id = created.json().get("id").asText();
    Await.until("verified", PATIENCE, () -> verification(id).path("state").asText().equals("verified"));
    Receiver.Request challenge = receiver.requests(path).get(0);
    assertEquals("webhook.verification", json(challenge.bodyText()).path("type").asText(), challenge.bodyText());
    assertSigned(created.json().get("secret").asText(), challenge);
  }

  private void assertVerifiedAfterCreate(AtomicReference<Receiver.Request> challenge) {
    Response created = createEndpoint("{\"url\":\"" + receiver.url(path) + "\",\"verify\":true}");
    String id = created.json().get("id").asText();
    String secret = created.json().get("secret").asText();
    assertEquals("pending_verification", created.json().get("status").asText(), created.body());
    assertEquals("pending", created.json().get("verification").get("state").asText(), created.body());

    Await.until("verified", PATIENCE, () -> verification(id).path("state").asText().equals("verified"));
    JsonNode endpoint = api.get("/v1/endpoints/" + id, tenant.apiKey()).json();
    assertEquals("active", endpoint.get("status").asText());
    assertTrue(endpoint.get("verification").get("error").isNull());

    // The challenge: signed with the endpoint's secret, of its documented shape.
    Receiver.Request sent = challenge.get();
    assertSigned(secret, sent);
    assertEquals("webhook.verification", sent.header("X-Event-Type"));
    JsonNode body = json(sent.bodyText());
    assertEquals("webhook.verification", body.get("type").asText());
    assertTrue(body.get("challenge").asText().length() >= 32, sent.bodyText());
    assertEquals(1, receiver.requests(path).size());

    // The list (from the index, which follows the journal) says the same, and events now arrive.
    Await.until("active in the list", PATIENCE, () -> listed(id).get("status").asText().equals("active"));
    assertEquals(202, api.ingest(tenant.apiKey(), "after-" + id, "{\"type\":\"user.created\",\"payload\":{\"n\":1}}").status());
    Await.until("the event at the receiver", PATIENCE, () -> receiver.requests(path).size() == 2);
    assertEquals("{\"n\":1}", receiver.requests(path).get(1).bodyText());
  }

  @Test
  void aWrongEchoFailsAndThePendingEndpointReceivesNothingUntilVerifyRetriesAndPasses() {
    AtomicReference<Boolean> echo = new AtomicReference<>(false);
    receiver.respond(path, (n, r) -> {
      JsonNode body = json(r.bodyText());
      boolean isChallenge = body.path("type").asText().equals("webhook.verification");
      return Answer.status(200).withBody(isChallenge && echo.get() ? body.get("challenge").asText() : "not the challenge");
    });
    String otherPath = path + "-other";
    String other = createEndpoint("{\"url\":\"" + receiver.url(otherPath) + "\"}").json().get("id").asText();
    double failedBefore = verifications("failed");
    double passedBefore = verifications("passed");
    String id = createEndpoint("{\"url\":\"" + receiver.url(path) + "\",\"verify\":true}").json().get("id").asText();

    Await.until("the verification failed", PATIENCE, () -> verification(id).path("state").asText().equals("failed"));
    assertTrue(verifications("failed") >= failedBefore + 1, "zyven_endpoint_verifications_total{outcome=\"failed\"} counted it");
    JsonNode endpoint = api.get("/v1/endpoints/" + id, tenant.apiKey()).json();
    assertEquals("pending_verification", endpoint.get("status").asText());
    String error = endpoint.get("verification").get("error").asText();
    assertTrue(error.contains("without echoing the challenge"), error);
    assertEquals("pending_verification", listed(id).get("status").asText());

    // Pending: out of fan-out, and refused when targeted.
    Response fanned = api.ingest(tenant.apiKey(), "fan-" + id, "{\"type\":\"user.created\",\"payload\":{\"n\":1}}");
    assertEquals(202, fanned.status(), fanned.body());
    String fannedId = fanned.json().get("event_id").asText();
    assertProblem(api.ingest(tenant.apiKey(), "targeted-" + id,
        "{\"type\":\"user.created\",\"payload\":{\"n\":2},\"endpoint_id\":\"" + id + "\"}"), 422, "endpoint-unavailable");
    Await.until("the fanned-out event delivered to the other endpoint", PATIENCE,
        () -> api.get("/v1/events/" + fannedId, tenant.apiKey()).json().path("status").asText().equals("DELIVERED"));
    JsonNode deliveries = api.get("/v1/events/" + fannedId, tenant.apiKey()).json().get("deliveries");
    assertEquals(1, deliveries.size(), deliveries.toString());
    assertEquals(other, deliveries.get(0).get("endpoint_id").asText());
    // The read model has nothing for the pending endpoint; the receiver got only challenges.
    Await.until("the event in the read model", PATIENCE,
        () -> api.get("/v1/events?endpoint_id=" + other, tenant.apiKey()).json().get("data").size() == 1);
    assertEquals(0, api.get("/v1/events?endpoint_id=" + id, tenant.apiKey()).json().get("data").size());
    assertEquals(1, receiver.requests(path).size());
    assertEquals("webhook.verification", json(receiver.requests(path).get(0).bodyText()).get("type").asText());

    // Fixed: verify again. It answers at once, pending, and passes.
    echo.set(true);
    Response retried = api.postJson("/v1/endpoints/" + id + "/verify", tenant.apiKey(), "");
    assertEquals(202, retried.status(), retried.body());
    assertEquals("pending_verification", retried.json().get("status").asText());
    assertEquals("pending", retried.json().get("verification").get("state").asText());
    Await.until("verified", PATIENCE, () -> verification(id).path("state").asText().equals("verified"));
    assertEquals(2, receiver.requests(path).size());
    assertTrue(verifications("passed") >= passedBefore + 1, "zyven_endpoint_verifications_total{outcome=\"passed\"} counted it");
    Await.until("active in the list", PATIENCE, () -> listed(id).get("status").asText().equals("active"));

    // Now it receives, targeted and fanned out.
    Response targeted = api.ingest(tenant.apiKey(), "targeted-again-" + id,
        "{\"type\":\"user.created\",\"payload\":{\"n\":3},\"endpoint_id\":\"" + id + "\"}");
    assertEquals(202, targeted.status(), targeted.body());
    Await.until("the targeted event at the receiver", PATIENCE, () -> receiver.requests(path).size() == 3);
    assertEquals("{\"n\":3}", receiver.requests(path).get(2).bodyText());
  }

  @Test
  void aDeliveryUnderWayWhenVerificationBeginsIsDeadLetteredNotSentAndReplaysOnceVerified() {
    AtomicReference<Boolean> echo = new AtomicReference<>(false);
    receiver.respond(path, (n, r) -> {
      JsonNode body = json(r.bodyText());
      if (body.path("type").asText().equals("webhook.verification")) {
        return Answer.status(200).withBody(echo.get() ? body.get("challenge").asText() : "no");
      }
      // The event's first attempt: come back in 3 s (Retry-After), by when the endpoint is pending.
      return n == 1 ? Answer.status(503).withHeader("Retry-After", "3") : Answer.status(200);
    });
    String id = createEndpoint("{\"url\":\"" + receiver.url(path) + "\"}").json().get("id").asText();
    Response accepted = api.ingest(tenant.apiKey(), "under-way-" + id, "{\"type\":\"user.created\",\"payload\":{\"n\":1}}");
    assertEquals(202, accepted.status(), accepted.body());
    String eventId = accepted.json().get("event_id").asText();
    Await.until("the first attempt failed", PATIENCE,
        () -> api.get("/v1/events/" + eventId, tenant.apiKey()).json().path("status").asText().equals("RETRY_SCHEDULED"));

    Response patched = api.patchJson("/v1/endpoints/" + id, tenant.apiKey(), "{\"verify\":true}");
    assertEquals("pending_verification", patched.json().get("status").asText(), patched.body());
    Await.until("dead-lettered", PATIENCE,
        () -> api.get("/v1/events/" + eventId, tenant.apiKey()).json().path("status").asText().equals("DEAD_LETTERED"));
    JsonNode delivery = api.get("/v1/events/" + eventId, tenant.apiKey()).json().get("deliveries").get(0);
    assertTrue(delivery.get("last_error").asText().contains("endpoint pending verification"), delivery.toString());
    // The receiver had the first attempt and the challenge, not the second attempt.
    assertEquals(2, receiver.requests(path).size());
    assertEquals("webhook.verification", json(receiver.requests(path).get(1).bodyText()).path("type").asText());

    echo.set(true);
    assertEquals(202, api.postJson("/v1/endpoints/" + id + "/verify", tenant.apiKey(), "").status());
    Await.until("verified", PATIENCE, () -> verification(id).path("state").asText().equals("verified"));
    assertEquals(202, api.postJson("/v1/events/" + eventId + "/replay", tenant.apiKey(), "").status());
    Await.until("delivered after the replay", PATIENCE,
        () -> api.get("/v1/events/" + eventId, tenant.apiKey()).json().path("status").asText().equals("DELIVERED"));
  }

  @Test
  void anErrorStatusOrNoAnswerInTimeFailsWithItsReason() {
    receiver.on(path, n -> n == 1 ? Answer.status(500) : Answer.status(200).after(3000));
    String id = createEndpoint("{\"url\":\"" + receiver.url(path) + "\",\"verify\":true}").json().get("id").asText();
    Await.until("failed", PATIENCE, () -> verification(id).path("state").asText().equals("failed"));
    assertTrue(verification(id).get("error").asText().contains("HTTP 500"), verification(id).toString());

    // The receiver holds its answer for 3 s; the verification gives up after its 1 s (the
    // endpoint's own timeout_ms is 30 s), so the error is the timeout, not a missing echo.
    assertEquals(202, api.postJson("/v1/endpoints/" + id + "/verify", tenant.apiKey(), "").status());
    Await.until("failed again", PATIENCE, () -> verification(id).path("state").asText().equals("failed")
        && verification(id).path("error").asText().contains("timeout after 1000 ms"));
    assertEquals("pending_verification", api.get("/v1/endpoints/" + id, tenant.apiKey()).json().get("status").asText());
  }

  @Test
  void theTenantDefaultVerifiesNewEndpointsAndNewUrlsUnlessTheRequestSaysOtherwise() {
    receiver.respond(path, (n, r) -> Answer.status(200).withBody(json(r.bodyText()).path("challenge").asText()));
    Response set = api.patchJson("/v1/tenants/" + tenant.id(), TestNode.ADMIN_KEY, "{\"verify_endpoints\":true}");
    assertEquals(200, set.status(), set.body());
    assertTrue(set.json().get("verify_endpoints").asBoolean());
    assertTrue(set.json().get("retention_period_days").isNull(), "the other setting is left alone");

    Response byDefault = createEndpoint("{\"url\":\"" + receiver.url(path) + "\"}");
    assertEquals("pending_verification", byDefault.json().get("status").asText(), byDefault.body());
    String verified = byDefault.json().get("id").asText();
    Await.until("verified by default", PATIENCE, () -> verification(verified).path("state").asText().equals("verified"));

    Response declined = createEndpoint("{\"url\":\"" + receiver.url(path) + "\",\"verify\":false}");
    assertEquals("active", declined.json().get("status").asText(), declined.body());
    assertTrue(declined.json().get("verification").isNull());
    String unverified = declined.json().get("id").asText();

    // A new URL is verified again by default; the same URL, or other fields, are not.
    String newPath = path + "-moved";
    receiver.on(newPath, n -> Answer.status(200)); // no echo
    assertEquals("active", api.patchJson("/v1/endpoints/" + unverified, tenant.apiKey(), "{\"description\":\"x\"}")
        .json().get("status").asText());
    Response moved = api.patchJson("/v1/endpoints/" + unverified, tenant.apiKey(), "{\"url\":\"" + receiver.url(newPath) + "\"}");
    assertEquals(200, moved.status(), moved.body());
    assertEquals("pending_verification", moved.json().get("status").asText(), moved.body());
    Await.until("the new URL failed", PATIENCE, () -> verification(unverified).path("state").asText().equals("failed"));
    assertEquals(1, receiver.requests(newPath).size());

    // verify:false drops the verification: the tenant's call for its own endpoint.
    Response dropped = api.patchJson("/v1/endpoints/" + unverified, tenant.apiKey(), "{\"verify\":false}");
    assertEquals("active", dropped.json().get("status").asText(), dropped.body());

    // Off again: a new endpoint is active at once, and nothing is sent to it.
    assertFalse(api.patchJson("/v1/tenants/" + tenant.id(), TestNode.ADMIN_KEY, "{\"verify_endpoints\":false}")
        .json().get("verify_endpoints").asBoolean());
    String quietPath = path + "-quiet";
    assertEquals("active", createEndpoint("{\"url\":\"" + receiver.url(quietPath) + "\"}").json().get("status").asText());
    assertEquals(0, receiver.requests(quietPath).size());
  }

  @Test
  void aVerifiedEndpointsNewUrlIsVerifiedAgain() {
    receiver.respond(path, (n, r) -> Answer.status(200).withBody(json(r.bodyText()).path("challenge").asText()));
    String id = createEndpoint("{\"url\":\"" + receiver.url(path) + "\",\"verify\":true}").json().get("id").asText();
    Await.until("verified", PATIENCE, () -> verification(id).path("state").asText().equals("verified"));

    String newPath = path + "-new";
    receiver.on(newPath, n -> Answer.status(204));
    Response moved = api.patchJson("/v1/endpoints/" + id, tenant.apiKey(), "{\"url\":\"" + receiver.url(newPath) + "\"}");
    assertEquals("pending_verification", moved.json().get("status").asText(), moved.body());
    Await.until("the new URL failed", PATIENCE, () -> verification(id).path("state").asText().equals("failed"));
    assertEquals(1, receiver.requests(newPath).size());
  }

  // ---- helpers ----

  private Response createEndpoint(String json) {
    Response r = api.postJson("/v1/endpoints", tenant.apiKey(), json);
    assertEquals(201, r.status(), r.body());
    return r;
  }

  private JsonNode verification(String id) {
    return api.get("/v1/endpoints/" + id, tenant.apiKey()).json().path("verification");
  }

  /** The endpoint as the list (the index) has it. */
  private JsonNode listed(String id) {
    for (JsonNode e : api.get("/v1/endpoints", tenant.apiKey()).json().get("data")) {
      if (e.get("id").asText().equals(id)) return e;
    }
    throw new AssertionError("endpoint " + id + " not listed");
  }

  private static void assertSigned(String secret, Receiver.Request r) {
    assertTrue(
        WebhookVerifier.verify(secret, r.header("webhook-id"), r.header("webhook-timestamp"), r.body(),
            r.header("webhook-signature"), Instant.now().getEpochSecond()),
        "signed with the endpoint's secret: " + r.headers());
  }

  private static JsonNode json(String text) {
    try {
      return ApiClient.JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** This node's count of finished verifications with this outcome, from /metrics. */
  private static double verifications(String outcome) {
    String prefix = "zyven_endpoint_verifications_total{outcome=\"" + outcome + "\"} ";
    return api.get("/metrics", null).body().lines().filter(l -> l.startsWith(prefix))
        .mapToDouble(l -> Double.parseDouble(l.substring(prefix.length()).trim())).findFirst()
        .orElseThrow(() -> new AssertionError("no " + prefix + "in /metrics"));
  }
}
