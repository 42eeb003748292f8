package io.zyven.app.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real calls to a node, in realistic flows, each response checked against the operation's
 * response in the served spec: its status is documented there, its required headers are
 * present, its media type is declared, and its body validates against the schema (JSON
 * Schema 2020-12, with formats). The schemas are strict (required fields, no others), so a
 * field the server adds, renames or drops fails here.
 */
class OpenApiResponsesTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;
  private static OpenApiSpec spec;
  /** Operations whose success (2xx) was checked; every operation of the spec must be. */
  private static final Set<String> succeeded = ConcurrentHashMap.newKeySet();

  @BeforeAll
  static void start() throws Exception {
    // A failed attempt waits an hour for its retry, so that "retry now" finds it waiting.
    node = TestNode.start(TestPostgres.shared(), Map.of("zyven.delivery.retry-schedule", List.of("1h")));
    api = node.api;
    receiver = new Receiver();
    receiver.on("/ok", n -> Answer.status(200));
    receiver.on("/down", n -> Answer.status(503));
    receiver.on("/gone-wrong", n -> Answer.status(400));
    spec = OpenApiSpec.fetch(api);
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.close();
    node.close();
  }

  @AfterAll
  static void everyOperationWasCheckedSucceeding() {
    Set<String> unchecked = new TreeSet<>(spec.operations());
    unchecked.removeAll(succeeded);
    assertEquals(Set.of(), unchecked, "operations no flow here checked with a 2xx");
  }

  @Test
  void tenants() {
    Response created = conforms("POST /v1/tenants", api.postJson("/v1/tenants", TestNode.ADMIN_KEY, "{\"name\":\"schema\"}"));
    String id = created.json().get("id").asText();
    conforms("GET /v1/tenants", api.get("/v1/tenants", TestNode.ADMIN_KEY));
    conforms("POST /v1/tenants/{id}/keys", api.postJson("/v1/tenants/" + id + "/keys", TestNode.ADMIN_KEY, ""));
    conforms("GET /v1/tenants/{id}", api.get("/v1/tenants/" + id, TestNode.ADMIN_KEY));
    conforms("PATCH /v1/tenants/{id}", api.patchJson("/v1/tenants/" + id, TestNode.ADMIN_KEY, "{\"retention_period_days\":90}"));
    conforms("PATCH /v1/tenants/{id}", api.patchJson("/v1/tenants/" + id, TestNode.ADMIN_KEY, "{\"retention_period_days\":null}"));
    conforms("PATCH /v1/tenants/{id}", api.patchJson("/v1/tenants/" + id, TestNode.ADMIN_KEY, "{\"retention_period_days\":0}"), 400);
    conforms("PATCH /v1/tenants/{id}", api.patchJson("/v1/tenants/" + id, TestNode.ADMIN_KEY, "{\"verify_endpoints\":true}"));
    conforms("PATCH /v1/tenants/{id}", api.patchJson("/v1/tenants/" + id, TestNode.ADMIN_KEY, "{}"), 400);
    conforms("GET /v1/tenants/{id}", api.get("/v1/tenants/" + UUID.randomUUID(), TestNode.ADMIN_KEY), 404);

    conforms("GET /v1/tenants", api.get("/v1/tenants", created.json().get("api_key").asText()), 401);
    conforms("POST /v1/tenants", api.postJson("/v1/tenants", TestNode.ADMIN_KEY, "{\"name\":\"\"}"), 400);
    conforms("POST /v1/tenants", api.postJson("/v1/tenants", TestNode.ADMIN_KEY, "{\"name\":"), 400);
    conforms("POST /v1/tenants", api.postJson("/v1/tenants", TestNode.ADMIN_KEY,
        "{\"name\":\"" + "n".repeat(70_000) + "\"}"), 413);
    conforms("POST /v1/tenants", api.send(api.request("/v1/tenants", TestNode.ADMIN_KEY)
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("acme"))), 415);
    conforms("POST /v1/tenants/{id}/keys",
        api.postJson("/v1/tenants/" + UUID.randomUUID() + "/keys", TestNode.ADMIN_KEY, ""), 404);
    conforms("POST /v1/tenants/{id}/keys", api.postJson("/v1/tenants/42/keys", TestNode.ADMIN_KEY, ""), 400);
  }

  @Test
  void endpoints() {
    String key = newTenant().apiKey();
    Response created = conforms("POST /v1/endpoints", api.postJson("/v1/endpoints", key,
        "{\"url\":\"" + receiver.url("/ok") + "\",\"event_types\":[\"user.*\"],\"max_attempts\":2}"));
    String id = created.json().get("id").asText();
    String path = "/v1/endpoints/" + id;

    conforms("GET /v1/endpoints", api.get("/v1/endpoints", key));
    conforms("GET /v1/endpoints", api.get("/v1/endpoints?limit=1", key));
    conforms("GET /v1/endpoints", api.get("/v1/endpoints?cursor=nope", key), 400);
    conforms("GET /v1/endpoints/{id}", api.get(path, key));
    Response health = conforms("GET /v1/endpoints/{id}/health", api.get(path + "/health", key));
    assertEquals("closed", health.json().get("circuit").asText(), health.body());
    conforms("PATCH /v1/endpoints/{id}", api.patchJson(path, key,
        "{\"description\":\"billing\",\"rate_limit_per_second\":5,\"headers\":{\"X-Team\":\"billing\"},\"enabled\":false}"));
    conforms("PATCH /v1/endpoints/{id}", api.patchJson(path, key, "{\"rate_limit_per_second\":null,\"description\":null}"));
    Response rotated = conforms("POST /v1/endpoints/{id}/rotate-secret", api.postJson(path + "/rotate-secret", key, ""));
    assertTrue(rotated.json().hasNonNull("previous_secret_expires_at"), rotated.body());
    Response secret = conforms("GET /v1/endpoints/{id}/secret", api.get(path + "/secret", key));
    assertTrue(secret.json().has("previous_secret"), secret.body());
    conforms("GET /v1/endpoints/{id}/secret", api.get("/v1/endpoints/" + UUID.randomUUID() + "/secret", key), 404);
    conforms("POST /v1/endpoints/{id}/enable", api.postJson(path + "/enable", key, ""));
    Response sent = conforms("POST /v1/endpoints/{id}/test", api.postJson(path + "/test", key, "{\"type\":\"user.created\"}"));
    awaitStatus(key, sent.json().get("event_id").asText(), "DELIVERED");
    conforms("POST /v1/endpoints/{id}/test", api.postJson(path + "/test", key, ""));
    conforms("POST /v1/endpoints/{id}/test", api.postJson(path + "/test", key, "{\"type\":\"a b\"}"), 400);
    conforms("POST /v1/endpoints/{id}/test", api.postJson("/v1/endpoints/" + UUID.randomUUID() + "/test", key, ""), 404);
    // /ok does not echo the challenge: the endpoint stays pending, and a test send is 409.
    Response verifying = conforms("POST /v1/endpoints/{id}/verify", api.postJson(path + "/verify", key, ""));
    assertEquals("pending_verification", verifying.json().get("status").asText(), verifying.body());
    conforms("POST /v1/endpoints/{id}/test", api.postJson(path + "/test", key, "{}"), 409);
    conforms("POST /v1/endpoints/{id}/verify", api.postJson("/v1/endpoints/" + UUID.randomUUID() + "/verify", key, ""), 404);
    Await.until("verification failed", PATIENCE,
        () -> api.get(path, key).json().path("verification").path("state").asText().equals("failed"));
    conforms("GET /v1/endpoints/{id}", api.get(path, key));
    conforms("PATCH /v1/endpoints/{id}", api.patchJson(path, key, "{\"verify\":false}"));
    conforms("POST /v1/endpoints/{id}/recover", api.postJson(path + "/recover", key, "{\"since\":\"2025-01-01T00:00:00Z\"}"));
    conforms("POST /v1/endpoints/{id}/transformation/preview",
        api.postJson(path + "/transformation/preview", key, "{\"payload\":{\"a\":1}}"));
    conforms("PATCH /v1/endpoints/{id}", api.patchJson(path, key,
        "{\"transformation\":\"function handler(w) { w.headers['X-A'] = 'b'; if (w.payload.skip) w.cancel = true; return w; }\"}"));
    conforms("POST /v1/endpoints/{id}/transformation/preview",
        api.postJson(path + "/transformation/preview", key, "{\"type\":\"user.created\",\"payload\":{\"a\":1}}"));
    conforms("POST /v1/endpoints/{id}/transformation/preview",
        api.postJson(path + "/transformation/preview", key, "{\"payload\":{\"skip\":true}}"));
    conforms("POST /v1/endpoints/{id}/transformation/preview", api.postJson(path + "/transformation/preview", key,
        "{\"payload\":{},\"transformation\":\"function handler(w) { throw new Error('no') }\"}"), 422);
    conforms("POST /v1/endpoints/{id}/transformation/preview",
        api.postJson(path + "/transformation/preview", key, "{\"payload\":7}"), 400);
    conforms("PATCH /v1/endpoints/{id}", api.patchJson(path, key, "{\"transformation\":\"function (\"}"), 422);
    conforms("PATCH /v1/endpoints/{id}", api.patchJson(path, key, "{\"transformation\":null}"));

    conforms("POST /v1/endpoints", api.postJson("/v1/endpoints", key, "{\"url\":\"ftp://example.com\"}"), 400);
    conforms("POST /v1/endpoints", api.postJson("/v1/endpoints", key, "{\"url\":\"http://x.example\",\"event_type\":[]}"), 400);
    conforms("PATCH /v1/endpoints/{id}", api.send(api.request(path, key).header("Content-Type", "text/plain")
        .method("PATCH", HttpRequest.BodyPublishers.ofString("{}"))), 415);
    conforms("POST /v1/endpoints/{id}/recover", api.postJson(path + "/recover", key, "{}"), 400);
    conforms("GET /v1/endpoints/{id}", api.get("/v1/endpoints/" + UUID.randomUUID(), key), 404);
    conforms("GET /v1/endpoints/{id}", api.get("/v1/endpoints/not-an-id", key), 400);
    conforms("GET /v1/endpoints", api.get("/v1/endpoints", null), 401);
    conforms("GET /v1/endpoints/{id}/health", api.get("/v1/endpoints/" + UUID.randomUUID() + "/health", key), 404);
    conforms("GET /v1/endpoints/{id}/health", api.get("/v1/endpoints/not-an-id/health", key), 400);
    conforms("GET /v1/endpoints/{id}/health", api.get(path + "/health", null), 401);

    conforms("DELETE /v1/endpoints/{id}", api.delete(path, key));
    conforms("DELETE /v1/endpoints/{id}", api.delete(path, key), 404);
  }

  @Test
  void eventsDeliveredRetriedAndDeadLettered() {
    String key = newTenant().apiKey();
    String ok = api.createEndpoint(key, "{\"url\":\"" + receiver.url("/ok") + "\",\"event_types\":[\"user.*\"]}");
    api.createEndpoint(key, "{\"url\":\"" + receiver.url("/down") + "\",\"event_types\":[\"order.*\"]}");
    String bad = api.createEndpoint(key, "{\"url\":\"" + receiver.url("/gone-wrong") + "\",\"event_types\":[\"invoice.*\"]}");

    // Ingest, and the same key again.
    String body = "{\"type\":\"user.created\",\"payload\":{\"id\":42,\"name\":\"Ada\"}}";
    String delivered = conforms("POST /v1/events", api.ingest(key, "user-42", body)).json().get("event_id").asText();
    Response replayed = conforms("POST /v1/events", api.ingest(key, "user-42", body), 200);
    assertEquals("true", replayed.header("Idempotent-Replayed").orElse(""));
    conforms("POST /v1/events", api.ingest(key, "user-42", body.replace("Ada", "Grace")), 409);

    // Delivered: nothing to retry; a replay sends it again.
    awaitStatus(key, delivered, "DELIVERED");
    conforms("GET /v1/events/{id}", api.get("/v1/events/" + delivered, key));
    conforms("POST /v1/events/{id}/retry", api.postJson("/v1/events/" + delivered + "/retry", key, ""), 409);
    conforms("POST /v1/events/{id}/replay", api.postJson("/v1/events/" + delivered + "/replay", key,
        "{\"endpoint_id\":\"" + ok + "\"}"));

    // Waiting for a retry: retry now.
    String waiting = conforms("POST /v1/events",
        api.ingest(key, "order-1", "{\"type\":\"order.created\",\"payload\":{}}")).json().get("event_id").asText();
    awaitStatus(key, waiting, "RETRY_SCHEDULED");
    conforms("GET /v1/events/{id}", api.get("/v1/events/" + waiting, key));
    conforms("POST /v1/events/{id}/retry", api.postJson("/v1/events/" + waiting + "/retry", key, ""));

    // Dead-lettered at once (a 400 from the receiver), then replayed and recovered.
    String dead = conforms("POST /v1/events",
        api.ingest(key, "invoice-1", "{\"type\":\"invoice.paid\",\"payload\":{\"total\":10}}")).json().get("event_id").asText();
    awaitStatus(key, dead, "DEAD_LETTERED");
    conforms("GET /v1/events/{id}", api.get("/v1/events/" + dead, key));
    conforms("POST /v1/events/{id}/replay", api.postJson("/v1/events/" + dead + "/replay", key, ""));
    awaitStatus(key, dead, "DEAD_LETTERED");
    conforms("POST /v1/endpoints/{id}/recover",
        api.postJson("/v1/endpoints/" + bad + "/recover", key, "{\"since\":\"2025-01-01T00:00:00Z\"}"));

    // Every attempt, from the read model, in pages.
    Await.until("the read model has the dead letter's attempts", PATIENCE,
        () -> api.get("/v1/events/" + dead + "/attempts", key).json().path("data").size() >= 2);
    JsonNode attempts = conforms("GET /v1/events/{id}/attempts", api.get("/v1/events/" + dead + "/attempts?limit=1", key)).json();
    conforms("GET /v1/events/{id}/attempts", api.get("/v1/events/" + dead + "/attempts?limit=1&endpoint_id=" + bad
        + "&cursor=" + attempts.get("next_cursor").asText(), key));
    conforms("GET /v1/events/{id}/attempts", api.get("/v1/events/" + UUID.randomUUID() + "/attempts", key), 404);
    conforms("GET /v1/events/{id}/attempts", api.get("/v1/events/" + dead + "/attempts?limit=101", key), 400);

    // The audit trails hold every kind of record these made but AttemptDeferred.
    for (String id : List.of(delivered, waiting, dead)) {
      conforms("GET /v1/events/{id}/audit", api.get("/v1/events/" + id + "/audit", key));
    }

    // Expunged: the event without its payload, its audit with PayloadExpunged and the
    // delivery dead-lettered for it; a replay refused; an unknown event.
    conforms("DELETE /v1/events/{id}/payload", api.delete("/v1/events/" + waiting + "/payload", key));
    conforms("GET /v1/events/{id}", api.get("/v1/events/" + waiting, key));
    conforms("GET /v1/events/{id}/audit", api.get("/v1/events/" + waiting + "/audit", key));
    conforms("POST /v1/events/{id}/replay", api.postJson("/v1/events/" + waiting + "/replay", key, ""), 409);
    conforms("DELETE /v1/events/{id}/payload", api.delete("/v1/events/" + UUID.randomUUID() + "/payload", key), 404);

    // The list, once the read model has all three; its pages; its filters.
    Await.until("the read model lists the three events", PATIENCE,
        () -> api.get("/v1/events", key).json().get("data").size() == 3);
    JsonNode first = conforms("GET /v1/events", api.get("/v1/events?limit=2", key)).json();
    conforms("GET /v1/events", api.get("/v1/events?limit=2&cursor=" + first.get("next_cursor").asText(), key));
    conforms("GET /v1/events", api.get("/v1/events?status=dead_lettered&endpoint_id=" + bad
        + "&type=invoice.paid&since=2025-01-01T00:00:00Z", key));

    // Stats and health, now that there were attempts: rates and the last error are set.
    Await.until("the read model has the attempts", PATIENCE,
        () -> !api.get("/v1/stats", key).json().path("success_rate").isNull()
            && !api.get("/v1/endpoints/" + bad + "/health", key).json().path("last_error").isNull());
    Response stats = conforms("GET /v1/stats", api.get("/v1/stats", key));
    assertEquals(3, stats.json().get("endpoints").get("total").asInt(), stats.body());
    conforms("GET /v1/stats", api.get("/v1/stats?window=1h", key));
    conforms("GET /v1/stats", api.get("/v1/stats?window=60s", key));
    Response failing = conforms("GET /v1/endpoints/{id}/health", api.get("/v1/endpoints/" + bad + "/health", key));
    assertTrue(failing.json().hasNonNull("last_error") && failing.json().hasNonNull("success_rate_last_hour"),
        failing.body());
    conforms("GET /v1/endpoints/{id}/health", api.get("/v1/endpoints/" + ok + "/health", key));
    conforms("GET /v1/stats", api.get("/v1/stats?window=2d", key), 400);
    conforms("GET /v1/stats", api.get("/v1/stats?since=1h", key), 400);
    conforms("GET /v1/stats", api.get("/v1/stats", null), 401);

    // Refusals.
    conforms("GET /v1/events", api.get("/v1/events?limit=0", key), 400);
    conforms("GET /v1/events", api.get("/v1/events?state=DELIVERED", key), 400);
    conforms("GET /v1/events/{id}", api.get("/v1/events/" + UUID.randomUUID(), key), 404);
    conforms("GET /v1/events/{id}/audit", api.get("/v1/events/" + UUID.randomUUID() + "/audit", key), 404);
    conforms("POST /v1/events/{id}/replay", api.postJson("/v1/events/" + UUID.randomUUID() + "/replay", key, ""), 404);
    conforms("GET /v1/events/{id}", api.get("/v1/events/nope", key), 400);
    conforms("POST /v1/events", api.postJson("/v1/events", key, body), 400); // no Idempotency-Key
    conforms("POST /v1/events", api.ingest(key, "x", "{\"type\":\"user.created\",\"payload\":[]}"), 400);
    conforms("POST /v1/events", api.send(api.request("/v1/events", key).header("Content-Type", "text/plain")
        .header("Idempotency-Key", "plain").POST(HttpRequest.BodyPublishers.ofString(body))), 415);
    conforms("POST /v1/events", api.ingest(key, "nobody", "{\"type\":\"nobody.cares\",\"payload\":{}}"), 422);
    conforms("POST /v1/events", api.ingest(key, "gone",
        "{\"type\":\"user.created\",\"payload\":{},\"endpoint_id\":\"" + UUID.randomUUID() + "\"}"), 422);
    conforms("POST /v1/events", api.ingest("not-a-key", "x", body), 401);
  }

  /** A tenant's own keys, each scope's 403, and ingest's 429 past a key's rate limit. */
  @Test
  void apiKeys() {
    Tenant tenant = newTenant();
    String key = tenant.apiKey();
    api.createEndpoint(key, "{\"url\":\"" + receiver.url("/ok") + "\"}");
    Response created = conforms("POST /v1/api-keys", api.postJson("/v1/api-keys", key,
        "{\"name\":\"reader\",\"scopes\":[\"read\"]}"));
    String reader = created.json().get("key").asText();
    conforms("GET /v1/api-keys", api.get("/v1/api-keys", key));
    conforms("GET /v1/me", api.get("/v1/me", reader));

    conforms("GET /v1/api-keys", api.get("/v1/api-keys", reader), 403);
    conforms("POST /v1/api-keys", api.postJson("/v1/api-keys", reader, "{\"name\":\"x\",\"scopes\":[\"read\"]}"), 403);
    conforms("DELETE /v1/api-keys/{id}", api.delete("/v1/api-keys/" + UUID.randomUUID(), reader), 403);
    conforms("POST /v1/events", api.ingest(reader, "read-only", "{\"type\":\"user.created\",\"payload\":{}}"), 403);
    conforms("POST /v1/endpoints", api.postJson("/v1/endpoints", reader, "{\"url\":\"https://example.com\"}"), 403);
    conforms("POST /v1/api-keys", api.postJson("/v1/api-keys", key, "{\"name\":\"x\",\"scopes\":[\"root\"]}"), 400);

    String ingester = api.postJson("/v1/api-keys", key,
        "{\"name\":\"slow\",\"scopes\":[\"ingest\"],\"rate_limit_per_second\":1}").json().get("key").asText();
    conforms("GET /v1/events", api.get("/v1/events", ingester), 403);
    conforms("GET /v1/stats", api.get("/v1/stats", ingester), 403);
    for (String read : List.of("GET /v1/endpoints", "GET /v1/events/{id}", "GET /v1/events/{id}/audit")) {
      conforms(read, api.get(read.substring(4).replace("{id}", UUID.randomUUID().toString()), ingester), 403);
    }
    conforms("POST /v1/events", api.ingest(ingester, "rate-1", "{\"type\":\"user.created\",\"payload\":{}}"));
    conforms("POST /v1/events", api.ingest(ingester, "rate-2", "{\"type\":\"user.created\",\"payload\":{}}"), 429);

    conforms("DELETE /v1/api-keys/{id}", api.delete("/v1/api-keys/" + created.json().get("id").asText(), key));
    conforms("DELETE /v1/api-keys/{id}", api.delete("/v1/api-keys/" + created.json().get("id").asText(), key), 404);
    conforms("DELETE /v1/api-keys/{id}", api.delete("/v1/api-keys/nope", key), 400);
    conforms("GET /v1/api-keys", api.get("/v1/api-keys", reader), 401);
  }

  /** Alert channels: each kind's create, read with its sends, change, test, delete; refusals. */
  @Test
  void alertChannels() {
    Tenant tenant = newTenant();
    String key = tenant.apiKey();
    Response webhook = conforms("POST /v1/alert-channels", api.postJson("/v1/alert-channels", key,
        "{\"kind\":\"webhook\",\"url\":\"" + receiver.url("/ok") + "\",\"event_types\":[\"delivery.dead_lettered\"]}"));
    String id = webhook.json().get("id").asText();
    conforms("POST /v1/alert-channels", api.postJson("/v1/alert-channels", key,
        "{\"kind\":\"slack\",\"url\":\"" + receiver.url("/ok") + "\"}"));
    conforms("POST /v1/alert-channels", api.postJson("/v1/alert-channels", key,
        "{\"kind\":\"pagerduty\",\"url\":\"" + receiver.url("/ok") + "\",\"routing_key\":\"abcdef123456\"}"));
    conforms("GET /v1/alert-channels", api.get("/v1/alert-channels", key));
    Response test = conforms("POST /v1/alert-channels/{id}/test", api.postJson("/v1/alert-channels/" + id + "/test", key, ""));
    assertEquals("accepted", test.json().get("outcome").asText(), test.body());
    Response read = conforms("GET /v1/alert-channels/{id}", api.get("/v1/alert-channels/" + id, key));
    assertEquals(1, read.json().get("last_sends").size(), read.body());
    conforms("PATCH /v1/alert-channels/{id}", api.patchJson("/v1/alert-channels/" + id, key, "{\"event_types\":[]}"));

    conforms("POST /v1/alert-channels", api.postJson("/v1/alert-channels", key, "{\"kind\":\"sms\"}"), 400);
    conforms("POST /v1/alert-channels", api.postJson("/v1/alert-channels", key, "{\"kind\":\"email\",\"to\":[\"ops@example.com\"]}"), 422);
    conforms("PATCH /v1/alert-channels/{id}", api.patchJson("/v1/alert-channels/" + id, key, "{\"to\":[\"ops@example.com\"]}"), 400);
    conforms("GET /v1/alert-channels/{id}", api.get("/v1/alert-channels/" + UUID.randomUUID(), key), 404);
    conforms("POST /v1/alert-channels/{id}/test", api.postJson("/v1/alert-channels/nope/test", key, ""), 400);
    conforms("GET /v1/alert-channels", api.get("/v1/alert-channels", null), 401);

    conforms("DELETE /v1/alert-channels/{id}", api.delete("/v1/alert-channels/" + id, key));
    conforms("DELETE /v1/alert-channels/{id}", api.delete("/v1/alert-channels/" + id, key), 404);
  }

  @Test
  void eventTypes() {
    Tenant tenant = newTenant();
    String key = tenant.apiKey();
    String schema = "{\"type\":\"object\",\"required\":[\"id\"],\"properties\":{\"id\":{\"type\":\"string\"}}}";
    conforms("POST /v1/event-types", api.postJson("/v1/event-types", key,
        "{\"name\":\"order.created\",\"description\":\"d\",\"schema\":" + schema + ",\"example\":{\"id\":\"1\"}}"));
    conforms("POST /v1/event-types", api.postJson("/v1/event-types", key, "{\"name\":\"order.created\"}"), 409);
    conforms("POST /v1/event-types", api.postJson("/v1/event-types", key, "{\"name\":\"a*\"}"), 400);
    conforms("POST /v1/event-types", api.postJson("/v1/event-types", key, "{\"name\":\"b\",\"schema\":{\"type\":1}}"), 422);
    conforms("POST /v1/event-types", api.postJson("/v1/event-types", key,
        "{\"name\":\"b\",\"schema\":" + schema + ",\"example\":{}}"), 422);
    conforms("GET /v1/event-types", api.get("/v1/event-types", key));
    conforms("GET /v1/event-types", api.get("/v1/event-types?include_archived=maybe", key), 400);
    conforms("GET /v1/event-types/{name}", api.get("/v1/event-types/order.created", key));
    conforms("GET /v1/event-types/{name}", api.get("/v1/event-types/nope", key), 404);
    conforms("PATCH /v1/event-types/{name}", api.patchJson("/v1/event-types/order.created", key, "{\"example\":null}"));
    conforms("PATCH /v1/event-types/{name}", api.patchJson("/v1/event-types/order.created", key, "{\"example\":{\"id\":2}}"), 422);
    conforms("GET /v1/event-type-settings", api.get("/v1/event-type-settings", key));
    conforms("PATCH /v1/event-type-settings", api.patchJson("/v1/event-type-settings", key, "{\"require_registered_types\":false}"));
    conforms("PATCH /v1/event-type-settings", api.patchJson("/v1/event-type-settings", key, "{}"), 400);
    conforms("PATCH /v1/tenants/{id}", api.patchJson("/v1/tenants/" + tenant.id(), TestNode.ADMIN_KEY, "{\"require_registered_types\":false}"));

    api.createEndpoint(key, "{\"url\":\"" + receiver.url("/ok") + "\"}");
    Response violation = conforms("POST /v1/events", api.ingest(key, "schema-1", "{\"type\":\"order.created\",\"payload\":{}}"), 422);
    assertEquals("/id", violation.json().get("errors").get(0).get("pointer").asText(), violation.body());
    Response warned = conforms("POST /v1/endpoints", api.postJson("/v1/endpoints", key,
        "{\"url\":\"" + receiver.url("/ok") + "\",\"event_types\":[\"invoice.*\"]}"), 201);
    assertEquals(1, warned.json().get("warnings").size(), warned.body());

    conforms("DELETE /v1/event-types/{name}", api.delete("/v1/event-types/order.created", key));
    conforms("GET /v1/event-types/{name}/audit", api.get("/v1/event-types/order.created/audit", key));
    conforms("GET /v1/event-types/{name}/audit", api.get("/v1/event-types/never/audit", key), 404);
  }

  @Test
  void me() {
    Tenant tenant = newTenant();
    assertEquals("admin", conforms("GET /v1/me", api.get("/v1/me", TestNode.ADMIN_KEY)).json().get("kind").asText());
    Response me = conforms("GET /v1/me", api.get("/v1/me", tenant.apiKey()));
    assertEquals("manage", me.json().get("scope").asText(), me.body());
    assertTrue(me.json().get("endpoint_ids").isNull(), me.body());
    conforms("GET /v1/me", api.get("/v1/me", null), 401);
    conforms("GET /v1/me", api.get("/v1/me", "zyv_unknown"), 401);
  }

  /**
   * Portal tokens: opened by a tenant's key or the admin's, used as Bearer credentials, and
   * refused with 403 wherever the spec lists it for a token that may not.
   */
  @Test
  void portalSessions() {
    Tenant tenant = newTenant();
    String key = tenant.apiKey();
    String mine = api.createEndpoint(key, "{\"url\":\"" + receiver.url("/ok") + "\"}");
    String other = api.createEndpoint(key, "{\"url\":\"" + receiver.url("/ok") + "\"}");
    String event = conforms("POST /v1/events", api.ingest(key, "portal-1", "{\"type\":\"user.created\",\"payload\":{}}"))
        .json().get("event_id").asText();

    // A read token for one endpoint, from the tenant's key.
    Response session = conforms("POST /v1/portal-sessions", api.postJson("/v1/portal-sessions", key,
        "{\"scope\":\"read\",\"endpoint_ids\":[\"" + mine + "\"],\"ttl_seconds\":600}"));
    String read = session.json().get("token").asText();
    assertTrue(session.json().get("url").asText().endsWith("/#portal_token=" + read), session.body());
    Response me = conforms("GET /v1/me", api.get("/v1/me", read));
    assertEquals("read", me.json().get("scope").asText(), me.body());
    assertTrue(me.json().get("portal").asBoolean(), me.body());
    assertEquals(mine, me.json().get("endpoint_ids").get(0).asText(), me.body());

    // What it may read.
    assertEquals(1, conforms("GET /v1/endpoints", api.get("/v1/endpoints", read)).json().get("data").size());
    conforms("GET /v1/endpoints/{id}", api.get("/v1/endpoints/" + mine, read));
    conforms("GET /v1/endpoints/{id}/health", api.get("/v1/endpoints/" + mine + "/health", read));
    Await.until("the read model lists the event", PATIENCE,
        () -> api.get("/v1/events", read).json().get("data").size() == 1);
    conforms("GET /v1/events", api.get("/v1/events?endpoint_id=" + mine, read));
    conforms("GET /v1/events/{id}", api.get("/v1/events/" + event, read));
    conforms("GET /v1/events/{id}/audit", api.get("/v1/events/" + event + "/audit", read));

    // Every operation that lists 403 answers it to this token: its method, the endpoint it
    // does not cover, or the whole tenant. (The reads above list 403 for API keys without
    // the read scope; this token may make them.)
    Set<String> itsReads = Set.of("GET /v1/endpoints", "GET /v1/events/{id}", "GET /v1/events/{id}/audit");
    for (String operation : spec.operations()) {
      if (!spec.operation(operation).path("responses").has("403") || itsReads.contains(operation)) continue;
      String[] parts = operation.split(" ", 2);
      String path = parts[1].replace("{id}", parts[1].startsWith("/v1/endpoints/") ? other : event).replace("{name}", "a.b")
          + (operation.equals("GET /v1/events") || operation.equals("GET /v1/events/{id}/attempts")
              ? "?endpoint_id=" + other : "");
      // With the operation's example body, so that only the token is wrong.
      JsonNode example = spec.operation(operation).path("requestBody").path("content").path("application/json")
          .path("example");
      HttpRequest.Builder request = api.request(path, read);
      request = parts[0].equals("GET") ? request.GET()
          : request.header("Content-Type", "application/json")
              .method(parts[0], HttpRequest.BodyPublishers.ofString(example.isMissingNode() ? "{}" : example.toString()));
      conforms(operation, api.send(request), 403);
    }
    // An admin operation does not take it at all.
    conforms("GET /v1/tenants", api.get("/v1/tenants", read), 401);

    // A manage token for the whole tenant, from the admin key: it may change things.
    String manage = conforms("POST /v1/portal-sessions", api.postJson("/v1/portal-sessions", TestNode.ADMIN_KEY,
        "{\"tenant_id\":\"" + tenant.id() + "\",\"scope\":\"manage\"}")).json().get("token").asText();
    conforms("GET /v1/stats", api.get("/v1/stats", manage));
    conforms("PATCH /v1/endpoints/{id}", api.patchJson("/v1/endpoints/" + other, manage, "{\"description\":\"portal\"}"));
    conforms("GET /v1/me", api.get("/v1/me", manage));

    // Refusals of the session itself.
    conforms("POST /v1/portal-sessions", api.postJson("/v1/portal-sessions", key, "{\"scope\":\"admin\"}"), 400);
    conforms("POST /v1/portal-sessions", api.postJson("/v1/portal-sessions", TestNode.ADMIN_KEY,
        "{\"scope\":\"read\"}"), 400);
    conforms("POST /v1/portal-sessions", api.postJson("/v1/portal-sessions", key,
        "{\"scope\":\"read\",\"ttl_seconds\":10}"), 400);
    conforms("POST /v1/portal-sessions", api.postJson("/v1/portal-sessions", null, "{\"scope\":\"read\"}"), 401);
    conforms("POST /v1/portal-sessions", api.postJson("/v1/portal-sessions", manage, "{\"scope\":\"read\"}"), 403);
    conforms("POST /v1/portal-sessions", api.postJson("/v1/portal-sessions", key,
        "{\"scope\":\"read\",\"tenant_id\":\"" + UUID.randomUUID() + "\"}"), 403);
    conforms("POST /v1/portal-sessions", api.postJson("/v1/portal-sessions", TestNode.ADMIN_KEY,
        "{\"scope\":\"read\",\"tenant_id\":\"" + UUID.randomUUID() + "\"}"), 404);
    conforms("POST /v1/portal-sessions", api.send(api.request("/v1/portal-sessions", key)
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("{}"))), 415);
    conforms("POST /v1/portal-sessions", api.postJson("/v1/portal-sessions", key,
        "{\"scope\":\"read\",\"endpoint_ids\":[\"" + UUID.randomUUID() + "\"]}"), 422);
    String forged = read.substring(0, read.lastIndexOf('.') + 1) + "c2lnbmVkIGJ5IHNvbWVib2R5IGVsc2U";
    conforms("GET /v1/me", api.get("/v1/me", forged), 401);
  }

  @Test
  void operations() {
    conforms("GET /v1/cluster", api.get("/v1/cluster", TestNode.ADMIN_KEY));
    conforms("GET /v1/cluster", api.get("/v1/cluster", null), 401);
    conforms("GET /health/live", api.get("/health/live", null));
    conforms("GET /health/ready", api.get("/health/ready", null));
    conforms("GET /metrics", api.get("/metrics", null));
    conforms("GET /openapi.json", api.get("/openapi.json", null));
    conforms("GET /docs", api.get("/docs", null));
    for (String file : List.of("swagger-ui.css", "swagger-ui-bundle.js", "init.js")) {
      conforms("GET /docs/{file}", api.get("/docs/" + file, null));
    }
    conforms("GET /", api.get("/", null));
    for (String file : List.of("console.js", "console.css", "index.html")) {
      conforms("GET /console/{file}", api.get("/console/" + file, null));
    }
  }

  // ---- helpers ----

  /** A 2xx response to {@code operation} that conforms to the spec. */
  private static Response conforms(String operation, Response r) {
    assertTrue(r.status() >= 200 && r.status() < 300, operation + " answered " + r.status() + ": " + r.body());
    succeeded.add(operation);
    return conforms(operation, r, r.status());
  }

  /** A response of {@code status} to {@code operation} that conforms to the spec. */
  private static Response conforms(String operation, Response r, int status) {
    assertEquals(status, r.status(), operation + ": " + r.body());
    assertEquals(List.of(), spec.violations(operation, r), operation + " " + status + ": " + r.body());
    return r;
  }

  private static Tenant newTenant() {
    return api.createTenant("schema-" + UUID.randomUUID());
  }

  private static void awaitStatus(String key, String eventId, String status) {
    Await.until(eventId + " " + status, PATIENCE,
        () -> api.get("/v1/events/" + eventId, key).json().path("status").asText().equals(status));
  }
}
