package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /v1/api-keys} against a real node: keys with scopes, shown once, listed without
 * the key, revoked (on every node), their last use, and the ingest rate limit per key.
 */
class ApiKeyApiTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;

  @BeforeAll
  static void start() throws Exception {
    pg = TestPostgres.shared();
    // last_used_at written at most once a second, so that a test can see it move.
    node = TestNode.start(pg, Map.of("zyven.api-keys.last-used-every", "1s"));
    api = node.api;
    receiver = new Receiver();
    receiver.on("/hook", n -> Answer.status(200));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    receiver.close();
  }

  // ---- create, list, revoke ----

  @Test
  void aKeyIsShownOnceAndNeverListed() {
    Tenant tenant = api.createTenant("keys-once");
    Response created = api.postJson("/v1/api-keys", tenant.apiKey(),
        "{\"name\":\"producer\",\"scopes\":[\"read\",\"ingest\"],\"rate_limit_per_second\":50}");
    assertEquals(201, created.status(), created.body());
    JsonNode k = created.json();
    String key = k.get("key").asText();
    assertTrue(key.startsWith("zyv_"), key);
    assertEquals("producer", k.get("name").asText());
    assertEquals(List.of("ingest", "read"), strings(k.get("scopes")));
    assertEquals(50, k.get("rate_limit_per_second").asInt());
    assertNotNull(k.get("created_at").asText());

    Response list = api.get("/v1/api-keys", tenant.apiKey());
    assertEquals(200, list.status(), list.body());
    assertFalse(list.body().contains(key), "the key itself is never listed");
    assertFalse(list.body().contains(key.substring(4, 20)), "not even a part of it");
    JsonNode listed = byId(list.json(), k.get("id").asText());
    assertNotNull(listed, list.body());
    assertFalse(listed.has("key"), listed.toString());
    assertEquals("producer", listed.get("name").asText());
    assertEquals(List.of("ingest", "read"), strings(listed.get("scopes")));
    assertTrue(listed.get("last_used_at").isNull(), "never used yet: " + listed);
    assertFalse(api.get("/v1/tenants", TestNode.ADMIN_KEY).body().contains(key));
  }

  @Test
  void theFirstKeyAndAdminIssuedKeysHaveEveryScope() {
    Tenant tenant = api.createTenant("keys-first");
    JsonNode keys = api.get("/v1/api-keys", tenant.apiKey()).json().get("data");
    assertEquals(1, keys.size(), keys.toString());
    assertEquals(List.of("ingest", "read", "manage"), strings(keys.get(0).get("scopes")));

    JsonNode me = api.get("/v1/me", tenant.apiKey()).json();
    assertEquals("manage", me.get("scope").asText());
    assertEquals(List.of("ingest", "read", "manage"), strings(me.get("scopes")));

    Response issued = api.postJson("/v1/tenants/" + tenant.id() + "/keys", TestNode.ADMIN_KEY, "{}");
    assertEquals(201, issued.status(), issued.body());
    String adminIssued = issued.json().get("api_key").asText();
    assertEquals(List.of("ingest", "read", "manage"), strings(api.get("/v1/me", adminIssued).json().get("scopes")));
    assertEquals(2, api.get("/v1/api-keys", adminIssued).json().get("data").size());
  }

  @Test
  void aRevokedKeyStopsWorkingAndLeavesTheList() {
    Tenant tenant = api.createTenant("keys-revoke");
    JsonNode k = createKey(tenant, "to-revoke", "[\"read\"]", null);
    String key = k.get("key").asText();
    String id = k.get("id").asText();
    assertEquals(200, api.get("/v1/events", key).status()); // now cached on this node

    Response revoked = api.delete("/v1/api-keys/" + id, tenant.apiKey());
    assertEquals(204, revoked.status(), revoked.body());
    assertProblem(api.get("/v1/events", key), 401, "unauthorized");
    assertEquals(null, byId(api.get("/v1/api-keys", tenant.apiKey()).json(), id));
    assertProblem(api.delete("/v1/api-keys/" + id, tenant.apiKey()), 404, "not-found");
  }

  @Test
  void anotherTenantsKeyCannotBeRevoked() {
    Tenant a = api.createTenant("keys-a");
    Tenant b = api.createTenant("keys-b");
    JsonNode bKey = createKey(b, "b's", "[\"read\"]", null);
    assertProblem(api.delete("/v1/api-keys/" + bKey.get("id").asText(), a.apiKey()), 404, "not-found");
    assertEquals(200, api.get("/v1/events", bKey.get("key").asText()).status(), "b's key still works");
    assertEquals(null, byId(api.get("/v1/api-keys", a.apiKey()).json(), bKey.get("id").asText()));
  }

  @Test
  void badKeyRequestsAreRefused() {
    Tenant tenant = api.createTenant("keys-bad");
    for (String body : List.of(
        "{\"scopes\":[\"read\"]}",
        "{\"name\":\"x\"}",
        "{\"name\":\"x\",\"scopes\":[]}",
        "{\"name\":\"x\",\"scopes\":[\"admin\"]}",
        "{\"name\":\"x\",\"scopes\":[\"read\",\"read\"]}",
        "{\"name\":\"x\",\"scopes\":\"read\"}",
        "{\"name\":\"x\",\"scopes\":[\"read\"],\"rate_limit_per_second\":0}",
        "{\"name\":\"x\",\"scopes\":[\"read\"],\"rate_limit_per_second\":1.5}",
        "{\"name\":\"x\",\"scopes\":[\"read\"],\"expires\":1}")) {
      assertProblem(api.postJson("/v1/api-keys", tenant.apiKey(), body), 400, "invalid-request");
    }
    assertProblem(api.delete("/v1/api-keys/not-a-uuid", tenant.apiKey()), 400, "invalid-id");
    assertEquals(1, api.get("/v1/api-keys", tenant.apiKey()).json().get("data").size(), "nothing was created");
  }

  // ---- scopes ----

  @Test
  void anIngestKeyOnlySendsEvents() {
    Tenant tenant = api.createTenant("scope-ingest");
    String endpoint = api.createEndpoint(tenant.apiKey(), endpointBody());
    String key = createKey(tenant, "ingest-only", "[\"ingest\"]", null).get("key").asText();

    Response sent = api.ingest(key, "i-1", event());
    assertEquals(202, sent.status(), sent.body());

    forbidden(api.get("/v1/events", key));
    forbidden(api.get("/v1/events/" + sent.json().get("event_id").asText(), key));
    forbidden(api.get("/v1/endpoints", key));
    forbidden(api.postJson("/v1/endpoints", key, endpointBody()));
    forbidden(api.delete("/v1/endpoints/" + endpoint, key));
    forbidden(api.get("/v1/api-keys", key));
    forbidden(api.postJson("/v1/api-keys", key, "{\"name\":\"more\",\"scopes\":[\"manage\"]}"));
    forbidden(api.postJson("/v1/portal-sessions", key, "{\"scope\":\"read\"}"));

    assertEquals(1, api.get("/v1/endpoints", tenant.apiKey()).json().get("data").size(), "nothing created or deleted");
    assertEquals(2, api.get("/v1/api-keys", tenant.apiKey()).json().get("data").size(), "no key created");
    assertEquals("ingest", api.get("/v1/me", key).json().get("scope").asText());
  }

  @Test
  void aReadKeyReadsButChangesNothing() {
    Tenant tenant = api.createTenant("scope-read");
    String endpoint = api.createEndpoint(tenant.apiKey(), endpointBody());
    String eventId = api.ingest(tenant.apiKey(), "r-0", event()).json().get("event_id").asText();
    String key = createKey(tenant, "dashboard", "[\"read\"]", null).get("key").asText();

    assertEquals(200, api.get("/v1/endpoints", key).status());
    assertEquals(200, api.get("/v1/endpoints/" + endpoint, key).status());
    assertEquals(200, api.get("/v1/events/" + eventId, key).status());
    assertEquals(200, api.get("/v1/events", key).status());
    assertEquals(200, api.get("/v1/stats", key).status());
    assertEquals("read", api.get("/v1/me", key).json().get("scope").asText());

    forbidden(api.ingest(key, "r-1", event()));
    forbidden(api.patchJson("/v1/endpoints/" + endpoint, key, "{\"description\":\"changed\"}"));
    forbidden(api.postJson("/v1/events/" + eventId + "/replay", key, "{}"));
    forbidden(api.get("/v1/api-keys", key));
    forbidden(api.delete("/v1/api-keys/" + UUID.randomUUID(), key));
    forbidden(api.postJson("/v1/portal-sessions", key, "{\"scope\":\"read\"}"));

    // Nothing was written: the refused Idempotency-Key is still free, the endpoint unchanged.
    Response later = api.ingest(tenant.apiKey(), "r-1", event());
    assertEquals(202, later.status(), "a new event, not a replay of one the read key sent: " + later.body());
    assertFalse(api.get("/v1/endpoints/" + endpoint, tenant.apiKey()).body().contains("changed"));
  }

  @Test
  void aManageKeyDoesEverything() {
    Tenant tenant = api.createTenant("scope-manage");
    String key = createKey(tenant, "ops", "[\"manage\"]", null).get("key").asText();
    String endpoint = api.createEndpoint(key, endpointBody());
    assertEquals(202, api.ingest(key, "m-1", event()).status());
    assertEquals(200, api.get("/v1/endpoints/" + endpoint, key).status());
    assertEquals(200, api.get("/v1/api-keys", key).status());
    assertEquals(201, api.postJson("/v1/portal-sessions", key, "{\"scope\":\"read\"}").status());
    String other = createKey(tenant, "made by ops", "[\"read\"]", null).get("id").asText();
    assertEquals(204, api.delete("/v1/api-keys/" + other, key).status());
  }

  // ---- last use ----

  @Test
  void lastUsedAtMoves() {
    Tenant tenant = api.createTenant("keys-last-used");
    JsonNode k = createKey(tenant, "reader", "[\"read\"]", null);
    String key = k.get("key").asText();
    String id = k.get("id").asText();

    assertEquals(200, api.get("/v1/events", key).status());
    Await.until("last_used_at set", PATIENCE, () -> lastUsed(tenant, id) != null);
    Instant first = lastUsed(tenant, id);
    // Written at most once a second (this node's setting): later uses move it on.
    Await.until("last_used_at moved", PATIENCE, () -> {
      api.get("/v1/events", key);
      return lastUsed(tenant, id).isAfter(first);
    });
  }

  // ---- rate limit ----

  @Test
  void aKeyOverItsRateLimitGets429AndNothingIsWritten() {
    Tenant tenant = api.createTenant("keys-rate");
    api.createEndpoint(tenant.apiKey(), endpointBody());
    String key = createKey(tenant, "slow", "[\"ingest\"]", 2).get("key").asText();
    long limitedBefore = rateLimitedCounter();

    Set<String> accepted = new HashSet<>();
    List<String> refusedKeys = new ArrayList<>();
    long started = System.nanoTime();
    for (int i = 0; i < 10; i++) {
      Response r = api.ingest(key, "burst-" + i, event());
      if (r.status() == 202) {
        accepted.add(r.json().get("event_id").asText());
      } else {
        String detail = assertProblem(r, 429, "rate-limited");
        assertTrue(detail.contains("rate limit"), detail);
        assertEquals("1", r.header("Retry-After").orElseThrow(), "half a second to the next token, rounded up");
        refusedKeys.add("burst-" + i);
      }
    }
    double elapsed = (System.nanoTime() - started) / 1e9;
    assertTrue(accepted.size() >= 2, "a burst of the rate (2) goes through: " + accepted.size());
    assertTrue(accepted.size() <= 2 + Math.ceil(elapsed * 2),
        accepted.size() + " accepted in " + elapsed + " s at 2/s with a burst of 2");
    assertFalse(refusedKeys.isEmpty(), "some of the burst was refused");
    assertEquals(refusedKeys.size(), rateLimitedCounter() - limitedBefore, "each 429 counted in /metrics");

    // The read model holds exactly the accepted events, and each refused key is still free.
    Await.until("accepted events listed", PATIENCE, () -> eventIds(tenant).containsAll(accepted));
    assertEquals(accepted, eventIds(tenant));
    String refused = refusedKeys.get(0);
    Await.until("a refused key accepted after Retry-After", PATIENCE, () -> {
      Response r = api.ingest(key, refused, event());
      assertTrue(r.status() == 202 || r.status() == 429, "a new event or still limited: " + r);
      return r.status() == 202;
    });
  }

  @Test
  void keysWithoutTheirOwnLimitAreNotLimitedByDefault() {
    Tenant tenant = api.createTenant("keys-unlimited");
    api.createEndpoint(tenant.apiKey(), endpointBody());
    for (int i = 0; i < 20; i++) assertEquals(202, api.ingest(tenant.apiKey(), "u-" + i, event()).status());
  }

  // ---- two nodes ----

  @Test
  void aKeyRevokedOnOneNodeStopsWorkingOnTheOther() throws Exception {
    String seed = Cluster.get(node.zyven().system()).selfMember().address().toString();
    try (TestNode second = TestNode.start(pg, Map.of("pekko.cluster.seed-nodes", List.of(seed)))) {
      Tenant tenant = api.createTenant("keys-two-nodes");
      JsonNode k = createKey(tenant, "shared", "[\"read\"]", null);
      String key = k.get("key").asText();
      assertEquals(200, second.api.get("/v1/events", key).status()); // cached on the second node

      assertEquals(204, api.delete("/v1/api-keys/" + k.get("id").asText(), tenant.apiKey()).status());
      assertProblem(api.get("/v1/events", key), 401, "unauthorized");
      // The second node reads the key again after zyven.api-keys.cache-ttl (5 s by default).
      Instant revoked = Instant.now();
      Await.until("revoked on the second node", Duration.ofSeconds(15),
          () -> second.api.get("/v1/events", key).status() == 401);
      assertTrue(Duration.between(revoked, Instant.now()).toMillis() < 10_000, "within the cache TTL and a margin");
      assertProblem(second.api.get("/v1/events", key), 401, "unauthorized");
    }
  }

  @Test
  void theConfiguredDefaultLimitsKeysWithoutTheirOwnOnTheNodeThatHasIt() throws Exception {
    String seed = Cluster.get(node.zyven().system()).selfMember().address().toString();
    try (TestNode limited = TestNode.start(pg,
        Map.of("pekko.cluster.seed-nodes", List.of(seed), "zyven.ingest.rate-limit-per-key", 1))) {
      Tenant tenant = api.createTenant("keys-default-limit");
      api.createEndpoint(tenant.apiKey(), endpointBody());
      String own = createKey(tenant, "own limit", "[\"ingest\"]", 1000).get("key").asText();

      // The node's default (1/s) applies to the first key, which has no limit of its own.
      int accepted = 0;
      int refused = 0;
      long started = System.nanoTime();
      for (int i = 0; i < 5; i++) {
        Response r = limited.api.ingest(tenant.apiKey(), "d-" + i, event());
        if (r.status() == 202) {
          accepted++;
        } else {
          assertProblem(r, 429, "rate-limited");
          assertEquals("1", r.header("Retry-After").orElseThrow());
          refused++;
        }
      }
      double elapsed = (System.nanoTime() - started) / 1e9;
      assertTrue(accepted >= 1 && accepted <= 1 + Math.ceil(elapsed), accepted + " accepted in " + elapsed + " s at 1/s");
      assertTrue(refused >= 1, "the rest of the burst was refused");
      // A key's own limit wins over the default.
      for (int i = 0; i < 5; i++) assertEquals(202, limited.api.ingest(own, "o-" + i, event()).status());
      // Buckets are per node: the first node has no default limit.
      for (int i = 0; i < 5; i++) assertEquals(202, api.ingest(tenant.apiKey(), "f-" + i, event()).status());
    }
  }

  // ---- helpers ----

  private static JsonNode createKey(Tenant tenant, String name, String scopes, Integer rate) {
    Response r = api.postJson("/v1/api-keys", tenant.apiKey(),
        "{\"name\":\"" + name + "\",\"scopes\":" + scopes + (rate == null ? "" : ",\"rate_limit_per_second\":" + rate) + "}");
    assertEquals(201, r.status(), r.body());
    return r.json();
  }

  private static void forbidden(Response r) {
    assertProblem(r, 403, "forbidden");
  }

  private static Instant lastUsed(Tenant tenant, String keyId) {
    JsonNode k = byId(api.get("/v1/api-keys", tenant.apiKey()).json(), keyId);
    return k.get("last_used_at").isNull() ? null : Instant.parse(k.get("last_used_at").asText());
  }

  private static JsonNode byId(JsonNode list, String id) {
    for (JsonNode k : list.get("data")) if (k.get("id").asText().equals(id)) return k;
    return null;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** The tenant's events in the read model (a few: one page). */
  private static Set<String> eventIds(Tenant tenant) {
    Set<String> ids = new HashSet<>();
    api.get("/v1/events?limit=100", tenant.apiKey()).json().get("data").forEach(e -> ids.add(e.get("id").asText()));
    return ids;
  }

  private static long rateLimitedCounter() {
    for (String line : api.get("/metrics", null).body().split("\n")) {
      if (line.startsWith("zyven_ingest_rate_limited_total ")) return (long) Double.parseDouble(line.split(" ")[1]);
    }
    throw new AssertionError("no zyven_ingest_rate_limited_total in /metrics");
  }

  private static String endpointBody() {
    return "{\"url\":\"" + receiver.url("/hook") + "\"}";
  }

  private static String event() {
    return "{\"type\":\"user.created\",\"payload\":{\"n\":1}}";
  }
}
