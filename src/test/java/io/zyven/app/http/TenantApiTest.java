package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code POST /v1/tenants} against a running node on real PostgreSQL: admin only, keys stored hashed. */
class TenantApiTest {

  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;

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

  // ---- who may create tenants ----

  @Test
  void createWithoutAKeyIs401() {
    assertRefused(() -> postTenant(null, "{\"name\":\"no-key\"}"), 401);
  }

  @Test
  void createWithAWrongKeyIs401() {
    assertRefused(() -> postTenant("not-the-admin-key", "{\"name\":\"wrong-key\"}"), 401);
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY + "x", "{\"name\":\"wrong-key\"}"), 401);
  }

  @Test
  void createWithATenantsKeyIs401() {
    Tenant tenant = api.createTenant("tenant-" + UUID.randomUUID());
    assertRefused(() -> postTenant(tenant.apiKey(), "{\"name\":\"by-a-tenant\"}"), 401);
  }

  @Test
  void createWithTheAdminKeyIs201WithIdNameAndApiKey() {
    String name = "acme-" + UUID.randomUUID();

    Response r = postTenant(TestNode.ADMIN_KEY, "{\"name\":\"" + name + "\"}");

    assertEquals(201, r.status(), r.body());
    assertEquals("application/json", r.contentType());
    JsonNode body = r.json();
    UUID id = UUID.fromString(body.get("id").asText());
    assertEquals(name, body.get("name").asText());
    assertTrue(body.hasNonNull("api_key") && !body.get("api_key").asText().isBlank(), r.body());
    assertEquals(1, pg.count("SELECT count(*) FROM tenants WHERE id = ? AND name = ?", id, name));
  }

  @Test
  void theAdminKeyIsAcceptedAsXApiKey() {
    Response r = api.send(api.request("/v1/tenants", null)
        .header("X-API-Key", TestNode.ADMIN_KEY)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"via-x-api-key\"}")));
    assertEquals(201, r.status(), r.body());
  }

  @Test
  void eachTenantGetsItsOwnIdAndKey() {
    JsonNode a = postTenant(TestNode.ADMIN_KEY, "{\"name\":\"same\"}").json();
    JsonNode b = postTenant(TestNode.ADMIN_KEY, "{\"name\":\"same\"}").json();
    assertFalse(a.get("id").asText().equals(b.get("id").asText()));
    assertFalse(a.get("api_key").asText().equals(b.get("api_key").asText()));
  }

  // ---- the key ----

  @Test
  void theNewKeyWorksAsBearer() {
    String key = newTenantKey();
    Response r = api.get("/v1/endpoints", key);
    assertEquals(200, r.status(), r.body());
    assertEquals(0, r.json().get("data").size());
  }

  @Test
  void theNewKeyWorksAsXApiKey() {
    String key = newTenantKey();
    Response r = api.send(api.request("/v1/endpoints", null).header("X-API-Key", key).GET());
    assertEquals(200, r.status(), r.body());
    assertEquals(0, r.json().get("data").size());
  }

  @Test
  void theAdminKeyIsNotATenantKey() {
    assertProblem(api.get("/v1/endpoints", TestNode.ADMIN_KEY), 401);
  }

  @Test
  void theKeyIsStoredOnlyAsItsSha256() throws Exception {
    String key = newTenantKey();

    assertEquals(0, pg.count("SELECT count(*) FROM api_keys WHERE key_hash = ?", key));
    assertEquals(1, pg.count("SELECT count(*) FROM api_keys WHERE key_hash = ?", sha256(key)));
  }

  // ---- listing tenants, and a new key for a tenant that lost its own ----

  @Test
  void theAdminListsTenantsWithoutTheirKeys() {
    Tenant tenant = api.createTenant("listed-" + UUID.randomUUID());

    Response r = api.get("/v1/tenants", TestNode.ADMIN_KEY);

    assertEquals(200, r.status(), r.body());
    JsonNode listed = null;
    for (JsonNode t : r.json().get("data")) if (t.get("id").asText().equals(tenant.id())) listed = t;
    assertTrue(listed != null, "the new tenant is listed: " + r.body());
    assertTrue(listed.get("name").asText().startsWith("listed-"));
    assertTrue(listed.hasNonNull("created_at"));
    assertEquals(1, listed.get("api_keys").asInt());
    assertEquals(0, listed.get("endpoints").asInt());
    assertEquals(0, listed.get("dead_letters").asInt());
    assertFalse(r.body().contains(tenant.apiKey()), "never a key");
    assertFalse(r.body().contains("api_key\""), "no key field at all");
  }

  @Test
  void theListCountsEachTenantsEndpointsAndDeadLetters() {
    Tenant tenant = api.createTenant("counted-" + UUID.randomUUID());
    // Nothing listens on port 9, and one attempt is all it gets: a dead letter at once.
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/x\",\"max_attempts\":1}");
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/y\",\"event_types\":[\"other.*\"]}");
    api.ingest(tenant.apiKey(), "k", "{\"type\":\"user.created\",\"payload\":{}}");
    io.zyven.app.testing.Await.until("dead-lettered in the read model", java.time.Duration.ofSeconds(20),
        () -> !api.listIds(tenant.apiKey(), "DEAD_LETTERED").isEmpty());

    JsonNode listed = null;
    for (JsonNode t : api.get("/v1/tenants", TestNode.ADMIN_KEY).json().get("data")) {
      if (t.get("id").asText().equals(tenant.id())) listed = t;
    }

    assertEquals(2, listed.get("endpoints").asInt());
    assertEquals(1, listed.get("dead_letters").asInt());
  }

  @Test
  void onlyTheAdminListsTenants() {
    Tenant tenant = api.createTenant("not-a-lister-" + UUID.randomUUID());
    assertProblem(api.get("/v1/tenants", tenant.apiKey()), 401);
    assertProblem(api.get("/v1/tenants", null), 401);
  }

  @Test
  void aTenantThatLostItsKeyGetsANewOneFromTheAdmin() throws Exception {
    Tenant tenant = api.createTenant("forgetful-" + UUID.randomUUID());
    String endpointList = "/v1/endpoints";

    Response issued = api.postJson("/v1/tenants/" + tenant.id() + "/keys", TestNode.ADMIN_KEY, "");

    assertEquals(201, issued.status(), issued.body());
    String newKey = issued.json().get("api_key").asText();
    assertTrue(newKey.startsWith("zyv_"));
    assertEquals(tenant.id(), issued.json().get("tenant_id").asText());
    assertFalse(newKey.equals(tenant.apiKey()));
    // The new key opens the same tenant: what one key creates, the other sees.
    String endpointId = api.createEndpoint(newKey, "{\"url\":\"http://127.0.0.1:9/hooks\"}");
    assertTrue(api.get(endpointList, tenant.apiKey()).body().contains(endpointId));
    assertEquals(1, pg.count("SELECT count(*) FROM api_keys WHERE key_hash = ?", sha256(newKey)));
    assertEquals(0, pg.count("SELECT count(*) FROM api_keys WHERE key_hash = ?", newKey));
    assertEquals(2, pg.count("SELECT count(*) FROM api_keys WHERE tenant_id = ?::uuid", tenant.id()));
  }

  @Test
  void onlyTheAdminIssuesKeys() {
    Tenant tenant = api.createTenant("self-service-" + UUID.randomUUID());
    long before = pg.count("SELECT count(*) FROM api_keys WHERE tenant_id = ?::uuid", tenant.id());

    assertProblem(api.postJson("/v1/tenants/" + tenant.id() + "/keys", tenant.apiKey(), ""), 401);

    assertEquals(before, pg.count("SELECT count(*) FROM api_keys WHERE tenant_id = ?::uuid", tenant.id()));
  }

  @Test
  void aKeyForAnUnknownTenantIs404() {
    assertProblem(api.postJson("/v1/tenants/" + UUID.randomUUID() + "/keys", TestNode.ADMIN_KEY, ""), 404);
  }

  private static String sha256(String key) throws Exception {
    return HexFormat.of().formatHex(
        MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
  }

  // ---- 400 / 415 ----

  @Test
  void blankNameIs400() {
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY, "{\"name\":\"\"}"), 400);
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY, "{\"name\":\"   \"}"), 400);
  }

  @Test
  void missingNameIs400() {
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY, "{}"), 400);
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY, "{\"name\":null}"), 400);
  }

  @Test
  void nameOf201CharactersIs400And200IsAccepted() {
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY, "{\"name\":\"" + "n".repeat(201) + "\"}"), 400);
    Response ok = postTenant(TestNode.ADMIN_KEY, "{\"name\":\"" + "n".repeat(200) + "\"}");
    assertEquals(201, ok.status(), ok.body());
  }

  @Test
  void bodyThatIsNotAJsonObjectIs400() {
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY, "{\"name\":"), 400);
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY, "[]"), 400);
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY, "\"acme\""), 400);
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY, "null"), 400);
  }

  @Test
  void nameThatIsNotAStringOrAnUnknownFieldIs400() {
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY, "{\"name\":5}"), 400);
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY, "{\"name\":true}"), 400);
    assertRefused(() -> postTenant(TestNode.ADMIN_KEY, "{\"name\":\"x\",\"plan\":\"gold\"}"), 400);
  }

  @Test
  void nonJsonContentTypeIs415() {
    assertRefused(() -> api.send(api.request("/v1/tenants", TestNode.ADMIN_KEY)
        .header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"plain\"}"))), 415);
  }

  // ---- helpers ----

  private static Response postTenant(String key, String json) {
    return api.postJson("/v1/tenants", key, json);
  }

  private static String newTenantKey() {
    return api.createTenant("key-" + UUID.randomUUID()).apiKey();
  }

  /** Refused with a problem of {@code status}, and no tenant was created. */
  private static void assertRefused(Supplier<Response> request, int status) {
    long before = pg.count("SELECT count(*) FROM tenants");
    assertProblem(request.get(), status);
    assertEquals(before, pg.count("SELECT count(*) FROM tenants"), "no tenant written");
  }
}
