package io.zyven.app.alerts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.ProblemAssertions;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /v1/alert-channels}: create, read, list, change and delete; bad input is a 4xx
 * problem that writes nothing (no channel, no internal endpoint); a channel's own endpoint
 * never shows among the tenant's endpoints; the manage scope; another tenant's channel is
 * not there.
 */
class AlertChannelApiTest {
  private static TestNode node;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    // No SMTP server: email channels are refused.
    node = TestNode.start(TestPostgres.shared(), Map.of());
    api = node.api;
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  private static long written(Tenant tenant) {
    return TestPostgres.shared().count("SELECT count(*) FROM alert_channels WHERE tenant_id = ?::uuid", tenant.id())
        + TestPostgres.shared().count("SELECT count(*) FROM endpoints WHERE tenant_id = ?::uuid", tenant.id());
  }

  @Test
  void badInputIsAProblemAndWritesNothing() {
    Tenant tenant = api.createTenant("alerts-bad-input");
    Map<String, Integer> bodies = new java.util.LinkedHashMap<>();
    bodies.put("{\"kind\":\"sms\",\"url\":\"https://example.com/x\"}", 400);
    bodies.put("{\"url\":\"https://example.com/x\"}", 400);
    bodies.put("{\"kind\":\"slack\"}", 400);
    bodies.put("{\"kind\":\"webhook\"}", 400);
    bodies.put("{\"kind\":\"pagerduty\"}", 400);
    bodies.put("{\"kind\":\"pagerduty\",\"routing_key\":\"has spaces\"}", 400);
    bodies.put("{\"kind\":\"slack\",\"url\":\"ftp://example.com/x\"}", 400);
    bodies.put("{\"kind\":\"slack\",\"url\":\"not a url\"}", 400);
    bodies.put("{\"kind\":\"webhook\",\"url\":\"https://example.com/x\",\"event_types\":[\"endpoint.exploded\"]}", 400);
    bodies.put("{\"kind\":\"webhook\",\"url\":\"https://example.com/x\",\"event_types\":\"endpoint.disabled\"}", 400);
    bodies.put("{\"kind\":\"webhook\",\"url\":\"https://example.com/x\",\"routing_key\":\"abc\"}", 400);
    bodies.put("{\"kind\":\"email\",\"to\":[\"not-an-address\"]}", 400);
    bodies.put("{\"kind\":\"email\"}", 400);
    bodies.put("{\"kind\":\"webhook\",\"url\":\"https://example.com/x\",\"secret\":\"x\"}", 400);
    bodies.put("[]", 400);
    bodies.put("{\"kind\":", 400);
    // Well-formed, but this node has no SMTP server.
    bodies.put("{\"kind\":\"email\",\"to\":[\"ops@example.com\"]}", 422);
    long before = written(tenant);
    bodies.forEach((body, status) -> {
      Response r = api.postJson("/v1/alert-channels", tenant.apiKey(), body);
      ProblemAssertions.assertProblem(r, status);
    });
    assertEquals(before, written(tenant), "nothing written");
  }

  @Test
  void aChannelIsCreatedReadListedChangedAndDeleted() {
    Tenant tenant = api.createTenant("alerts-crud");
    Response created = api.postJson("/v1/alert-channels", tenant.apiKey(),
        "{\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:9/alerts\",\"event_types\":[\"endpoint.disabled\"]}");
    assertEquals(201, created.status(), created.body());
    JsonNode channel = created.json();
    String id = channel.get("id").asText();
    assertEquals("webhook", channel.get("kind").asText());
    assertTrue(channel.get("secret").asText().startsWith("whsec_"));
    assertEquals(List.of("endpoint.disabled"), List.of(channel.at("/event_types/0").asText()));

    JsonNode read = api.get("/v1/alert-channels/" + id, tenant.apiKey()).json();
    assertFalse(read.has("secret"), "the secret is shown on create only");
    assertEquals(0, read.get("last_sends").size());
    JsonNode list = api.get("/v1/alert-channels", tenant.apiKey()).json().get("data");
    assertEquals(1, list.size());
    assertEquals(id, list.get(0).get("id").asText());

    // Its own endpoint is nowhere among the tenant's endpoints, and no request of the
    // tenant reaches it: not the endpoint routes, not ingest.
    assertEquals(0, api.get("/v1/endpoints", tenant.apiKey()).json().get("data").size());
    String own = TestPostgres.shared().queryString("SELECT endpoint_id::text FROM alert_channels WHERE id = ?::uuid", id);
    ProblemAssertions.assertProblem(api.get("/v1/endpoints/" + own, tenant.apiKey()), 404);
    ProblemAssertions.assertProblem(api.delete("/v1/endpoints/" + own, tenant.apiKey()), 404);
    ProblemAssertions.assertProblem(api.ingest(tenant.apiKey(), "to-the-channel",
        "{\"type\":\"a.b\",\"payload\":{},\"endpoint_id\":\"" + own + "\"}"), 422);
    ProblemAssertions.assertProblem(api.ingest(tenant.apiKey(), "to-everyone", "{\"type\":\"a.b\",\"payload\":{}}"), 422);

    Response patched = api.patchJson("/v1/alert-channels/" + id, tenant.apiKey(),
        "{\"event_types\":[],\"url\":\"http://127.0.0.1:9/other\"}");
    assertEquals(200, patched.status(), patched.body());
    assertEquals(0, patched.json().get("event_types").size());
    assertEquals("http://127.0.0.1:9/other", patched.json().get("url").asText());
    ProblemAssertions.assertProblem(api.patchJson("/v1/alert-channels/" + id, tenant.apiKey(), "{\"kind\":\"slack\"}"), 400);
    ProblemAssertions.assertProblem(api.patchJson("/v1/alert-channels/" + id, tenant.apiKey(), "{\"routing_key\":\"abc\"}"), 400);
    assertEquals("http://127.0.0.1:9/other", api.get("/v1/alert-channels/" + id, tenant.apiKey()).json().get("url").asText());

    Tenant other = api.createTenant("alerts-crud-other");
    ProblemAssertions.assertProblem(api.get("/v1/alert-channels/" + id, other.apiKey()), 404);
    ProblemAssertions.assertProblem(api.delete("/v1/alert-channels/" + id, other.apiKey()), 404);
    ProblemAssertions.assertProblem(api.postJson("/v1/alert-channels/" + id + "/test", other.apiKey(), ""), 404);

    assertEquals(204, api.delete("/v1/alert-channels/" + id, tenant.apiKey()).status());
    ProblemAssertions.assertProblem(api.get("/v1/alert-channels/" + id, tenant.apiKey()), 404);
    assertEquals(0, api.get("/v1/alert-channels", tenant.apiKey()).json().get("data").size());
  }

  @Test
  void aPagerDutyChannelDefaultsToPagerDutysUrlAndMasksItsRoutingKey() {
    Tenant tenant = api.createTenant("alerts-pagerduty");
    Response created = api.postJson("/v1/alert-channels", tenant.apiKey(),
        "{\"kind\":\"pagerduty\",\"routing_key\":\"R0123456789abcdef0123456789abcde\"}");
    assertEquals(201, created.status(), created.body());
    assertEquals("https://events.pagerduty.com/v2/enqueue", created.json().get("url").asText());
    assertEquals("****bcde", created.json().get("routing_key").asText());
  }

  @Test
  void alertChannelsNeedTheManageScope() {
    Tenant tenant = api.createTenant("alerts-scope");
    Response key = api.postJson("/v1/api-keys", tenant.apiKey(), "{\"name\":\"reader\",\"scopes\":[\"read\"]}");
    assertEquals(201, key.status(), key.body());
    String reader = key.json().get("key").asText();
    ProblemAssertions.assertProblem(api.get("/v1/alert-channels", reader), 403);
    ProblemAssertions.assertProblem(
        api.postJson("/v1/alert-channels", reader, "{\"kind\":\"slack\",\"url\":\"https://hooks.example.com/x\"}"), 403);
  }
}
