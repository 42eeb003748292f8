package io.zyven.app.transform;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import io.zyven.app.testing.WebhookVerifier;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Endpoint transformations on a real node, delivering to a real receiver on loopback: the
 * body is reshaped before signing, headers are added, a delivery is cancelled, a failing
 * script dead-letters, a runaway one is stopped within its bounds while the node stays
 * ready, and the preview shows what would be sent without sending it.
 */
class TransformationApiTest {
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  private static TestNode node;
  private static ApiClient api;
  private Receiver receiver;
  private Tenant tenant;

  @BeforeAll
  static void startNode() {
    node = TestNode.start(TestPostgres.shared(), Map.of(
        "zyven.transformation.cpu-time", "300ms",
        "zyven.transformation.wall-time", "1s",
        "zyven.transformation.allocated-bytes", "64MiB"));
    api = node.api;
  }

  @AfterAll
  static void stopNode() throws Exception {
    node.close();
  }

  @BeforeEach
  void receiverAndTenant() throws Exception {
    receiver = new Receiver();
    tenant = api.createTenant("transform-" + UUID.randomUUID());
  }

  @AfterEach
  void stopReceiver() {
    receiver.close();
  }

  @Test
  void theTransformedBodyIsWhatIsSignedAndSentWithTheAddedHeaders() {
    JsonNode endpoint = createEndpoint("/slack", """
        function handler(webhook) {
          webhook.payload = {text: 'Order ' + webhook.payload.order + ' is ' + webhook.type, id: webhook.id};
          webhook.headers['X-Shape'] = 'slack';
          return webhook;
        }""", ",\"headers\":{\"X-Tenant-Tag\":\"blue\",\"X-Shape\":\"endpoint\"}");
    String id = ingest("{\"type\":\"order.paid\",\"payload\":{\"order\":7}}");
    awaitDeliveryStatus(id, "DELIVERED");

    Receiver.Request r = receiver.requests("/slack").get(0);
    assertEquals("{\"text\":\"Order 7 is order.paid\",\"id\":\"" + id + "\"}", r.bodyText());
    assertTrue(WebhookVerifier.verify(endpoint.get("secret").asText(), id, r.header("webhook-timestamp"),
        r.body(), r.header("webhook-signature"), Instant.now().getEpochSecond()), "the signature covers the transformed body");
    assertEquals("slack", r.header("X-Shape"), "the transformation's header replaces the endpoint's own");
    assertEquals("blue", r.header("X-Tenant-Tag"));
    assertEquals(id, r.header("webhook-id"));
    assertEquals("order.paid", r.header("X-Event-Type"));
  }

  @Test
  void aCancelledDeliveryIsNotSentAndShowsCancelledWhileTheEventIsDelivered() {
    JsonNode endpoint = createEndpoint("/cancel", """
        function handler(webhook) {
          if (webhook.payload.internal) webhook.cancel = true;
          return webhook;
        }""", "");
    String cancelled = ingest("{\"type\":\"order.paid\",\"payload\":{\"internal\":true}}");
    JsonNode event = awaitDeliveryStatus(cancelled, "CANCELLED");
    assertEquals("DELIVERED", event.get("status").asText(), "cancelling is not failing");
    JsonNode delivery = event.get("deliveries").get(0);
    assertEquals(0, delivery.get("attempt_count").asInt());
    assertTrue(delivery.get("last_error").isNull());
    String audit = api.get("/v1/events/" + cancelled + "/audit", tenant.apiKey()).body();
    assertTrue(audit.contains("\"Cancelled\""), audit);

    // A later event to the same endpoint goes through: so the cancelled one had its chance and was not sent.
    String sent = ingest("{\"type\":\"order.paid\",\"payload\":{\"internal\":false}}");
    awaitDeliveryStatus(sent, "DELIVERED");
    assertEquals(1, receiver.requests("/cancel").size());
    assertEquals(sent, receiver.requests("/cancel").get(0).header("webhook-id"));
    // The read model agrees, and the status filter knows the state.
    Await.until("the read model shows CANCELLED", PATIENCE, () ->
        api.get("/v1/events?endpoint_id=" + endpoint.get("id").asText() + "&status=CANCELLED", tenant.apiKey())
            .body().contains(cancelled));
  }

  @Test
  void aThrowingScriptDeadLettersWithItsReason() {
    createEndpoint("/throws", """
        function handler(webhook) {
          if (!webhook.payload.amount) throw new Error('no amount');
          return webhook;
        }""", "");
    String id = ingest("{\"type\":\"order.paid\",\"payload\":{}}");
    JsonNode delivery = awaitDeliveryStatus(id, "DEAD_LETTERED").get("deliveries").get(0);
    assertEquals("transformation threw Error: no amount (line 2)", delivery.get("last_error").asText().replace("; not sent", ""));
    assertTrue(receiver.requests("/throws").isEmpty());
  }

  @Test
  void runawayScriptsAreStoppedWithinTheirBoundsAndTheNodeKeepsDelivering() {
    createEndpoint("/loop", "function handler(webhook) { for (;;) {} }", "");
    createEndpoint("/hog", "function handler(webhook) { const a = []; for (;;) a.push(new Array(100000).fill(7)); }", "");
    JsonNode healthy = createEndpoint("/healthy", null, "");

    long t0 = System.nanoTime();
    String loop = ingest("{\"type\":\"loop\",\"payload\":{}}");
    String hog = ingest("{\"type\":\"hog\",\"payload\":{}}");
    String fine = ingest("{\"type\":\"fine\",\"payload\":{}}");
    // Each endpoint subscribes to everything: every event goes to all three.
    JsonNode loopEvent = awaitEventStatus(loop, "DEAD_LETTERED");
    JsonNode hogEvent = awaitEventStatus(hog, "DEAD_LETTERED");
    long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
    assertTrue(seconds < 15, "stopped after " + seconds + " s");
    // Whichever bound comes first (an empty loop passes the statement limit before its CPU
    // time; on a loaded machine the wall time may come first).
    java.util.Set<String> bounds = java.util.Set.of(
        "transformation exceeded its CPU time of 300 ms", "transformation exceeded its limit of 10000000 statements",
        "transformation exceeded its memory of 64 MiB allocated", "transformation exceeded its time of 1000 ms");
    String loopReason = reasonFor(loopEvent, "/loop");
    assertTrue(bounds.contains(loopReason) && !loopReason.contains("memory"), loopReason);
    String hogReason = reasonFor(hogEvent, "/hog");
    assertTrue(bounds.contains(hogReason) && !hogReason.contains("statements"), hogReason);

    awaitEventStatus(fine, "DEAD_LETTERED"); // its runaway endpoints dead-letter it too
    assertEquals(3, receiver.requests("/healthy").size(), "the healthy endpoint got every event");
    assertEquals(200, api.get("/health/ready", null).status());
    assertTrue(receiver.requests("/loop").isEmpty() && receiver.requests("/hog").isEmpty());
    assertFalse(healthy.get("id").asText().isEmpty());
  }

  @Test
  void theSavedTransformationPreviewsWithoutSendingAnything() {
    JsonNode endpoint = createEndpoint("/preview", """
        function handler(webhook) {
          if (webhook.type === 'skip') { webhook.cancel = true; return webhook; }
          if (webhook.payload.fail) throw new TypeError('bad ' + webhook.type);
          webhook.payload = {wrapped: webhook.payload, type: webhook.type};
          webhook.headers['X-Kind'] = 'preview';
          return webhook;
        }""", "");
    String path = "/v1/endpoints/" + endpoint.get("id").asText() + "/transformation/preview";

    ApiClient.Response shown = api.postJson(path, tenant.apiKey(), "{\"type\":\"order.paid\",\"payload\":{\"a\":1}}");
    assertEquals(200, shown.status(), shown.body());
    assertEquals("{\"wrapped\":{\"a\":1},\"type\":\"order.paid\"}", shown.json().get("payload").toString());
    assertEquals("preview", shown.json().get("headers").get("X-Kind").asText());
    assertFalse(shown.json().get("cancelled").asBoolean());

    ApiClient.Response skipped = api.postJson(path, tenant.apiKey(), "{\"type\":\"skip\",\"payload\":{}}");
    assertEquals(200, skipped.status(), skipped.body());
    assertTrue(skipped.json().get("cancelled").asBoolean());
    assertTrue(skipped.json().get("payload").isNull());

    ApiClient.Response failed = api.postJson(path, tenant.apiKey(), "{\"payload\":{\"fail\":true}}");
    assertEquals(
        "transformation threw TypeError: bad preview (line 3)", assertProblem(failed, 422, "invalid-transformation"));

    // An unsaved source previews too, and the saved one is left as it was.
    ApiClient.Response unsaved = api.postJson(path, tenant.apiKey(),
        "{\"payload\":{\"a\":1},\"transformation\":\"function handler(w) { w.payload = {n: 2}; return w; }\"}");
    assertEquals(200, unsaved.status(), unsaved.body());
    assertEquals("{\"n\":2}", unsaved.json().get("payload").toString());
    assertTrue(api.get("/v1/endpoints/" + endpoint.get("id").asText(), tenant.apiKey()).json()
        .get("transformation").asText().contains("wrapped"));

    assertProblem(api.postJson(path, tenant.apiKey(), "{\"payload\":[1]}"), 400, "invalid-request");
    assertProblem(api.postJson(path, tenant.apiKey(), "{\"payload\":{},\"type\":\"bad type\"}"), 400, "invalid-request");
    assertTrue(receiver.requests("/preview").isEmpty(), "a preview sends nothing");
  }

  @Test
  void withoutATransformationThePreviewIsThePayloadAsItIs() {
    JsonNode endpoint = createEndpoint("/plain", null, "");
    ApiClient.Response shown = api.postJson(
        "/v1/endpoints/" + endpoint.get("id").asText() + "/transformation/preview", tenant.apiKey(), "{\"payload\":{\"a\":[1,2]}}");
    assertEquals(200, shown.status(), shown.body());
    assertEquals("{\"a\":[1,2]}", shown.json().get("payload").toString());
    assertEquals(0, shown.json().get("headers").size());
  }

  @Test
  void aBrokenScriptIsRefusedAtSaveAndNothingIsWritten() {
    ApiClient.Response syntax = api.postJson("/v1/endpoints", tenant.apiKey(),
        "{\"url\":\"" + receiver.url("/x") + "\",\"transformation\":\"function handler(w) { return w\"}");
    assertTrue(assertProblem(syntax, 422, "invalid-transformation").startsWith("transformation has a syntax error"));
    ApiClient.Response noHandler = api.postJson("/v1/endpoints", tenant.apiKey(),
        "{\"url\":\"" + receiver.url("/x") + "\",\"transformation\":\"function handle(w) { return w }\"}");
    assertEquals("transformation must define function handler(webhook)", assertProblem(noHandler, 422, "invalid-transformation"));
    ApiClient.Response loopsAtLoad = api.postJson("/v1/endpoints", tenant.apiKey(),
        "{\"url\":\"" + receiver.url("/x") + "\",\"transformation\":\"while (true) {}\"}");
    assertTrue(assertProblem(loopsAtLoad, 422, "invalid-transformation").startsWith("transformation exceeded its"));
    assertProblem(api.postJson("/v1/endpoints", tenant.apiKey(),
        "{\"url\":\"" + receiver.url("/x") + "\",\"transformation\":7}"), 400, "invalid-request");
    assertEquals(0, api.get("/v1/endpoints", tenant.apiKey()).json().get("data").size(), "nothing was written");

    JsonNode endpoint = createEndpoint("/x", "function handler(w) { return w }", "");
    String path = "/v1/endpoints/" + endpoint.get("id").asText();
    assertProblem(api.patchJson(path, tenant.apiKey(), "{\"transformation\":\"function handler(\"}"), 422, "invalid-transformation");
    assertEquals("function handler(w) { return w }", api.get(path, tenant.apiKey()).json().get("transformation").asText());
    ApiClient.Response cleared = api.patchJson(path, tenant.apiKey(), "{\"transformation\":null}");
    assertEquals(200, cleared.status(), cleared.body());
    assertTrue(cleared.json().get("transformation").isNull());
  }

  // ---- helpers ----

  private JsonNode createEndpoint(String path, String transformation, String extraFields) {
    String source = transformation == null ? "" : ",\"transformation\":" + ApiClient.JSON.valueToTree(transformation);
    ApiClient.Response r = api.postJson("/v1/endpoints", tenant.apiKey(),
        "{\"url\":\"" + receiver.url(path) + "\"" + source + extraFields + "}");
    assertEquals(201, r.status(), r.body());
    return r.json();
  }

  private String ingest(String body) {
    ApiClient.Response r = api.ingest(tenant.apiKey(), UUID.randomUUID().toString(), body);
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  /** Waits for the event's first delivery to reach {@code status}; returns the event. */
  private JsonNode awaitDeliveryStatus(String eventId, String status) {
    JsonNode[] last = new JsonNode[1];
    Await.until(eventId + " delivery " + status, PATIENCE, () -> {
      last[0] = api.get("/v1/events/" + eventId, tenant.apiKey()).json();
      return last[0].get("deliveries").get(0).get("status").asText().equals(status);
    });
    return last[0];
  }

  private JsonNode awaitEventStatus(String eventId, String status) {
    JsonNode[] last = new JsonNode[1];
    Await.until(eventId + " " + status, PATIENCE, () -> {
      last[0] = api.get("/v1/events/" + eventId, tenant.apiKey()).json();
      return last[0].get("status").asText().equals(status);
    });
    return last[0];
  }

  /** The last error of the event's delivery to the endpoint at {@code path}, without the "not sent" note. */
  private String reasonFor(JsonNode event, String path) {
    String url = receiver.url(path);
    for (JsonNode e : api.get("/v1/endpoints", tenant.apiKey()).json().get("data")) {
      if (!e.get("url").asText().equals(url)) continue;
      for (JsonNode d : event.get("deliveries")) {
        if (d.get("endpoint_id").asText().equals(e.get("id").asText())) {
          return d.get("last_error").asText().replace("; not sent", "");
        }
      }
    }
    throw new AssertionError("no delivery to " + path);
  }
}
