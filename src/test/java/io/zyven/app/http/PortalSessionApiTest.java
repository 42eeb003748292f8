package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.zyven.app.http.Principal.Scope;
import io.zyven.app.ingest.IngestService;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/portal-sessions} and the portal tokens it issues, used as Bearer
 * credentials against a real node: who may issue them, what they may do, and that forged,
 * expired and out-of-scope ones are refused.
 */
class PortalSessionApiTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;

  @BeforeAll
  static void start() throws Exception {
    pg = TestPostgres.shared();
    node = TestNode.start(pg);
    api = node.api;
    receiver = new Receiver();
    receiver.on("/a", n -> Answer.status(200));
    receiver.on("/b", n -> Answer.status(200));
    receiver.on("/dead", n -> Answer.status(400)); // refused: dead-lettered at once
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    receiver.close();
  }

  // ---- issuing ----

  @Test
  void aTenantKeyOpensASessionForItsOwnTenant() {
    Tenant tenant = api.createTenant("portal-own");
    String endpoint = api.createEndpoint(tenant.apiKey(), endpointBody("/a"));

    Response r = api.postJson("/v1/portal-sessions", tenant.apiKey(), "{\"scope\":\"read\"}");

    assertEquals(201, r.status(), r.body());
    JsonNode session = r.json();
    String token = session.get("token").asText();
    assertEquals(api.request("", null).build().uri() + "/#portal_token=" + token, session.get("url").asText(),
        "the console URL, from the Host header, with the token in the fragment");
    assertEquals("read", session.get("scope").asText());
    assertEquals(0, session.get("endpoint_ids").size());
    Instant expiresAt = Instant.parse(session.get("expires_at").asText());
    assertTrue(Math.abs(Duration.between(Instant.now().plusSeconds(3600), expiresAt).toSeconds()) < 60, "1 h by default");

    JsonNode claims = claims(token);
    assertEquals("zyven", claims.get("iss").asText());
    assertEquals("zyven-portal", claims.get("aud").asText());
    assertEquals(tenant.id(), claims.get("sub").asText());
    assertEquals("read", claims.get("scope").asText());
    assertEquals(expiresAt.getEpochSecond(), claims.get("exp").asLong());
    assertEquals(3600, claims.get("exp").asLong() - claims.get("iat").asLong());
    assertTrue(claims.hasNonNull("jti"));
    assertFalse(claims.has("endpoint_ids"), "omitted when the token covers every endpoint");
    assertEquals("HS256", header(token).get("alg").asText());

    Response endpoints = api.get("/v1/endpoints", token);
    assertEquals(200, endpoints.status(), endpoints.body());
    assertEquals(endpoint, endpoints.json().get("data").get(0).get("id").asText());

    Tenant other = api.createTenant("portal-own-other");
    assertProblem(
        api.postJson("/v1/portal-sessions", tenant.apiKey(), "{\"scope\":\"read\",\"tenant_id\":\"" + other.id() + "\"}"),
        403, "forbidden");
    assertEquals(201, api.postJson("/v1/portal-sessions", tenant.apiKey(),
        "{\"scope\":\"manage\",\"tenant_id\":\"" + tenant.id() + "\"}").status(), "its own id may be given");
  }

  @Test
  void theAdminOpensASessionForATenantThatExists() {
    Tenant tenant = api.createTenant("portal-admin");
    String endpoint = api.createEndpoint(tenant.apiKey(), endpointBody("/a"));
    Tenant other = api.createTenant("portal-admin-other");
    String othersEndpoint = api.createEndpoint(other.apiKey(), endpointBody("/a"));

    assertProblem(api.postJson("/v1/portal-sessions", TestNode.ADMIN_KEY, "{\"scope\":\"read\"}"), 400, "invalid-request");
    assertProblem(api.postJson("/v1/portal-sessions", TestNode.ADMIN_KEY,
        "{\"scope\":\"read\",\"tenant_id\":\"" + java.util.UUID.randomUUID() + "\"}"), 404, "not-found");
    assertProblem(api.postJson("/v1/portal-sessions", TestNode.ADMIN_KEY,
        "{\"scope\":\"read\",\"tenant_id\":\"" + tenant.id() + "\",\"endpoint_ids\":[\"" + othersEndpoint + "\"]}"),
        422, "unprocessable");

    Response r = api.postJson("/v1/portal-sessions", TestNode.ADMIN_KEY,
        "{\"scope\":\"manage\",\"tenant_id\":\"" + tenant.id() + "\",\"endpoint_ids\":[\"" + endpoint.toUpperCase() + "\"]}");

    assertEquals(201, r.status(), r.body());
    assertEquals(List.of(endpoint), texts(r.json().get("endpoint_ids")), "canonical ids");
    JsonNode claims = claims(r.json().get("token").asText());
    assertEquals(tenant.id(), claims.get("sub").asText());
    assertEquals("manage", claims.get("scope").asText());
    assertEquals(List.of(endpoint), texts(claims.get("endpoint_ids")));
    assertEquals(200, api.get("/v1/endpoints/" + endpoint, r.json().get("token").asText()).status());
  }

  @Test
  void theBodyIsChecked() {
    Tenant tenant = api.createTenant("portal-body");
    for (String body : List.of(
        "{\"scope\":\"read\",\"ttl_seconds\":59}",
        "{\"scope\":\"read\",\"ttl_seconds\":86401}",
        "{\"scope\":\"read\",\"ttl_seconds\":\"3600\"}",
        "{\"scope\":\"read\",\"ttl_seconds\":600.5}",
        "{\"scope\":\"write\"}",
        "{}",
        "{\"scope\":\"read\",\"endpoint_ids\":\"all\"}",
        "{\"scope\":\"read\",\"endpoint_ids\":[\"not-a-uuid\"]}",
        "{\"scope\":\"read\",\"ttl\":60}")) {
      assertProblem(api.postJson("/v1/portal-sessions", tenant.apiKey(), body), 400, "invalid-request");
    }
    for (int ttl : List.of(60, 86400)) {
      JsonNode claims = claims(api.postJson("/v1/portal-sessions", tenant.apiKey(),
          "{\"scope\":\"read\",\"ttl_seconds\":" + ttl + "}").json().get("token").asText());
      assertEquals(ttl, claims.get("exp").asLong() - claims.get("iat").asLong());
    }
    assertProblem(api.postJson("/v1/portal-sessions", "zyv_unknown", "{\"scope\":\"read\"}"), 401, "unauthorized");
  }

  @Test
  void aPortalTokenCannotOpenSessionsNorUseAdminRoutes() {
    Tenant tenant = api.createTenant("portal-no-mint");
    for (String scope : List.of("read", "manage")) {
      String token = token(tenant.apiKey(), "{\"scope\":\"" + scope + "\"}");
      String detail = assertProblem(
          api.postJson("/v1/portal-sessions", token, "{\"scope\":\"read\"}"), 403, "forbidden");
      assertTrue(detail.contains("portal token cannot open portal sessions"), detail);
      assertProblem(api.get("/v1/tenants", token), 401, "unauthorized");
      assertProblem(api.postJson("/v1/tenants", token, "{\"name\":\"x\"}"), 401, "unauthorized");
      assertProblem(api.postJson("/v1/tenants/" + tenant.id() + "/keys", token, "{}"), 401, "unauthorized");
      assertProblem(api.get("/v1/cluster", token), 401, "unauthorized");
    }
  }

  // ---- refused tokens ----

  @Test
  void anExpiredTokenIsRefused() {
    Tenant tenant = api.createTenant("portal-expired");
    String fresh = token(tenant.apiKey(), "{\"scope\":\"read\",\"ttl_seconds\":60}");
    assertEquals(200, api.get("/v1/endpoints", fresh).status());

    // Issued two hours ago for 60 s, with the node's own key: only its exp is wrong.
    Clock twoHoursAgo = Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC);
    String expired = new PortalTokens(signingKey(), twoHoursAgo)
        .issue(tenant.id(), Scope.READ, Set.of(), Duration.ofSeconds(60)).token();

    String detail = assertProblem(api.get("/v1/endpoints", expired), 401, "unauthorized");
    assertEquals("portal token expired", detail);
    assertTrue(api.get("/v1/endpoints", expired).header("WWW-Authenticate").isPresent());
  }

  @Test
  void forgedTokensAreRefused() throws Exception {
    Tenant tenant = api.createTenant("portal-forged");
    String token = token(tenant.apiKey(), "{\"scope\":\"read\"}");
    String[] parts = token.split("\\.");

    // One character of the signature changed (mid-signature: the last one may only hold padding bits).
    char c = parts[2].charAt(10);
    String changed = parts[0] + "." + parts[1] + "." + parts[2].substring(0, 10) + (c == 'A' ? 'B' : 'A') + parts[2].substring(11);
    assertEquals("portal token signature is not valid", refused(changed));

    // The claims changed (read -> manage) under the original signature.
    String manage = b64(claims(token).toString().replace("\"scope\":\"read\"", "\"scope\":\"manage\""));
    assertEquals("portal token signature is not valid", refused(parts[0] + "." + manage + "." + parts[2]));

    // Signed with another key.
    byte[] otherKey = new byte[32];
    new SecureRandom().nextBytes(otherKey);
    String otherSigned = new PortalTokens(otherKey, Clock.systemUTC())
        .issue(tenant.id(), Scope.MANAGE, Set.of(), Duration.ofHours(1)).token();
    assertEquals("portal token signature is not valid", refused(otherSigned));

    // alg none, no signature.
    assertEquals("portal token is not signed", refused(b64("{\"alg\":\"none\"}") + "." + parts[1] + "."));
    // alg none, with the genuine signature left on.
    refused(b64("{\"alg\":\"none\"}") + "." + parts[1] + "." + parts[2]);

    // Another HMAC algorithm, with the right key: still not HS256.
    SignedJWT hs512 = new SignedJWT(new JWSHeader(JWSAlgorithm.HS512), JWTClaimsSet.parse(claims(token).toString()));
    hs512.sign(new MACSigner(pad64(signingKey())));
    assertEquals("portal token is not signed with HS256", refused(hs512.serialize()));

    // The right key and algorithm, but not a portal token (another audience), or no exp.
    assertTrue(refused(sign(claimsBuilder(tenant.id()).audience("someone-else").build())).contains("wrong iss or aud"));
    assertTrue(refused(sign(claimsBuilder(tenant.id()).issuer("not-zyven").build())).contains("wrong iss or aud"));
    assertTrue(refused(sign(claimsBuilder(tenant.id()).expirationTime(null).build())).contains("malformed"));
    // A tenant that does not exist.
    assertEquals("the portal token's tenant does not exist",
        refused(sign(claimsBuilder(java.util.UUID.randomUUID().toString()).build())));

    assertEquals("malformed portal token", refused("abc.def.ghi"));
    assertEquals(200, api.get("/v1/endpoints", sign(claimsBuilder(tenant.id()).build())).status(),
        "the same claims, properly signed, are accepted");
  }

  // ---- what a token may do ----

  @Test
  void aTokenForOneTenantCannotSeeAnothersEvents() {
    Tenant a = api.createTenant("portal-tenant-a");
    Tenant b = api.createTenant("portal-tenant-b");
    api.createEndpoint(a.apiKey(), endpointBody("/a"));
    String bEndpoint = api.createEndpoint(b.apiKey(), endpointBody("/a"));
    String aEvent = ingest(a.apiKey(), "a-1", null);
    String bEvent = ingest(b.apiKey(), "b-1", null);
    String token = token(TestNode.ADMIN_KEY, "{\"scope\":\"manage\",\"tenant_id\":\"" + a.id() + "\"}");

    assertEquals(200, api.get("/v1/events/" + aEvent, token).status());
    assertProblem(api.get("/v1/events/" + bEvent, token), 404, "not-found");
    assertProblem(api.get("/v1/events/" + bEvent + "/audit", token), 404, "not-found");
    assertProblem(api.get("/v1/endpoints/" + bEndpoint, token), 404, "not-found");
    assertProblem(api.postJson("/v1/events/" + bEvent + "/replay", token, "{}"), 404, "not-found");
    // Both events are in the read model before the check that one is not listed.
    Await.until("both events listed for their own tenants", PATIENCE,
        () -> listIds(token, "").contains(aEvent) && listIds(b.apiKey(), "").contains(bEvent));
    assertFalse(listIds(token, "").contains(bEvent));
  }

  @Test
  void aReadTokenReadsAndChangesNothing() {
    Tenant tenant = api.createTenant("portal-read");
    String endpoint = api.createEndpoint(tenant.apiKey(), endpointBody("/dead"));
    String event = ingest(tenant.apiKey(), "read-1", null);
    awaitStatus(tenant.apiKey(), event, "DEAD_LETTERED");
    String token = token(tenant.apiKey(), "{\"scope\":\"read\"}");
    long journal = pg.journalRows(event);
    String endpointBefore = api.get("/v1/endpoints/" + endpoint, tenant.apiKey()).body();

    assertEquals(200, api.get("/v1/events/" + event, token).status());
    assertEquals(200, api.get("/v1/events/" + event + "/audit", token).status());
    assertEquals(200, api.get("/v1/endpoints/" + endpoint, token).status());
    assertEquals(200, api.get("/v1/events", token).status());

    List<Response> refused = List.of(
        api.postJson("/v1/events/" + event + "/replay", token, "{}"),
        api.postJson("/v1/events/" + event + "/retry", token, "{}"),
        api.patchJson("/v1/endpoints/" + endpoint, token, "{\"description\":\"changed\"}"),
        api.delete("/v1/endpoints/" + endpoint, token),
        api.postJson("/v1/endpoints/" + endpoint + "/rotate-secret", token, "{}"),
        api.postJson("/v1/endpoints", token, endpointBody("/a")),
        api.ingest(token, "read-2", "{\"type\":\"user.created\",\"payload\":{}}"));
    for (Response r : refused) {
      String detail = assertProblem(r, 403, "forbidden");
      assertTrue(detail.contains("scope 'read'"), detail);
    }

    assertEquals(journal, pg.journalRows(event), "the event journaled nothing");
    assertEquals(0, pg.acceptances(IngestService.eventId(tenant.id(), "read-2")), "no event accepted");
    assertEquals(endpointBefore, api.get("/v1/endpoints/" + endpoint, tenant.apiKey()).body(), "the endpoint is unchanged");
    assertEquals("DEAD_LETTERED", api.get("/v1/events/" + event, tenant.apiKey()).json().get("status").asText());

    String manage = token(tenant.apiKey(), "{\"scope\":\"manage\"}");
    assertEquals(200, api.patchJson("/v1/endpoints/" + endpoint, manage, "{\"description\":\"changed\"}").status());
    assertEquals(202, api.postJson("/v1/events/" + event + "/replay", manage, "{}").status());
  }

  @Test
  void aTokenLimitedToEndpointsSeesAndTouchesOnlyThose() {
    Tenant tenant = api.createTenant("portal-limited");
    String mine = api.createEndpoint(tenant.apiKey(), endpointBody("/a"));
    String other = api.createEndpoint(tenant.apiKey(), endpointBody("/dead"));
    String onlyMine = ingest(tenant.apiKey(), "lim-1", mine);
    String onlyOther = ingest(tenant.apiKey(), "lim-2", other);
    String both = ingest(tenant.apiKey(), "lim-3", null);
    awaitStatus(tenant.apiKey(), both, "DEAD_LETTERED"); // the other endpoint refuses
    String token = token(tenant.apiKey(), "{\"scope\":\"manage\",\"endpoint_ids\":[\"" + mine + "\"]}");

    // Endpoints
    JsonNode endpoints = api.get("/v1/endpoints", token).json().get("data");
    assertEquals(1, endpoints.size());
    assertEquals(mine, endpoints.get(0).get("id").asText());
    assertEquals(200, api.get("/v1/endpoints/" + mine, token).status());
    for (Response r : List.of(
        api.get("/v1/endpoints/" + other, token),
        api.get("/v1/endpoints/" + other.toUpperCase(), token),
        api.patchJson("/v1/endpoints/" + other, token, "{\"description\":\"x\"}"),
        api.delete("/v1/endpoints/" + other, token),
        api.postJson("/v1/endpoints/" + other + "/enable", token, "{}"),
        api.postJson("/v1/endpoints/" + other + "/recover", token, "{\"since\":\"2020-01-01T00:00:00Z\"}"),
        api.postJson("/v1/endpoints/" + other + "/test", token, "{}"),
        api.postJson("/v1/endpoints/" + other + "/verify", token, ""),
        api.postJson("/v1/endpoints", token, endpointBody("/a")),
        api.ingest(token, "lim-4", "{\"type\":\"user.created\",\"payload\":{}}"),
        api.get("/v1/events?endpoint_id=" + other, token))) {
      assertProblem(r, 403, "forbidden");
    }
    assertEquals(0, pg.acceptances(IngestService.eventId(tenant.id(), "lim-4")));

    // The list: only events with a delivery to its endpoint, and only that delivery.
    // The list reads the read model, which trails the entities: wait until it has all three,
    // the dead letter as such.
    Await.until("all three listed", PATIENCE, () -> listIds(tenant.apiKey(), "").size() == 3
        && listIds(tenant.apiKey(), "&status=DEAD_LETTERED").contains(both));
    assertEquals(Set.of(onlyMine, both), listIds(token, ""));
    assertEquals(Set.of(onlyMine, both), listIds(token, "&endpoint_id=" + mine));
    assertEquals(Set.of(both), listIds(token, "&type=user.created&since=2020-01-01T00:00:00Z&status=DEAD_LETTERED"));
    for (JsonNode e : api.get("/v1/events", token).json().get("data")) {
      assertEquals(1, e.get("deliveries").size(), e.toString());
      assertEquals(mine, e.get("deliveries").get(0).get("endpoint_id").asText());
    }

    // One event: hidden when none of its deliveries is to its endpoint; else only that one.
    assertProblem(api.get("/v1/events/" + onlyOther, token), 404, "not-found");
    assertProblem(api.get("/v1/events/" + onlyOther + "/audit", token), 404, "not-found");
    JsonNode detail = api.get("/v1/events/" + both, token).json();
    assertEquals(1, detail.get("deliveries").size());
    assertEquals(mine, detail.get("deliveries").get(0).get("endpoint_id").asText());
    JsonNode audit = api.get("/v1/events/" + both + "/audit", token).json().get("entries");
    assertEquals(List.of(mine), texts(audit.get(0).get("endpoint_ids")));
    for (JsonNode entry : audit) {
      assertFalse(entry.toString().contains(other), "no entry names the other endpoint: " + entry);
    }
    int allEntries = api.get("/v1/events/" + both + "/audit", tenant.apiKey()).json().get("entries").size();
    assertTrue(audit.size() < allEntries, "the other endpoint's entries are left out");

    // Replay and retry: only its endpoint, which it must name.
    long journal = pg.journalRows(both);
    assertProblem(api.postJson("/v1/events/" + both + "/replay", token, "{}"), 403, "forbidden");
    assertProblem(api.postJson("/v1/events/" + both + "/replay", token, "{\"endpoint_id\":\"" + other + "\"}"), 403, "forbidden");
    assertProblem(api.postJson("/v1/events/" + both + "/retry", token, "{}"), 403, "forbidden");
    assertProblem(api.postJson("/v1/events/" + both + "/retry", token, "{\"endpoint_id\":\"" + other + "\"}"), 403, "forbidden");
    assertEquals(journal, pg.journalRows(both), "nothing journaled");
    awaitStatus(tenant.apiKey(), both, "DEAD_LETTERED");
    Response replay = api.postJson("/v1/events/" + both + "/replay", token, "{\"endpoint_id\":\"" + mine + "\"}");
    assertEquals(202, replay.status(), replay.body());
    assertEquals(List.of(mine), texts(replay.json().get("endpoint_ids")));
    JsonNode replayed = null;
    for (JsonNode entry : api.get("/v1/events/" + both + "/audit", token).json().get("entries")) {
      if (entry.get("type").asText().equals("Replayed")) replayed = entry;
    }
    assertTrue(replayed != null);
    String jti = claims(token).get("jti").asText();
    assertEquals("tenant:" + tenant.id() + " (portal token " + jti + ")", replayed.get("by").asText());
  }

  @Test
  void anotherNodeOfTheClusterAcceptsTheTokensOfThisOne() throws Exception {
    Tenant tenant = api.createTenant("portal-two-nodes");
    String endpoint = api.createEndpoint(tenant.apiKey(), endpointBody("/a"));
    String seed = Cluster.get(node.zyven().system()).selfMember().address().toString();
    try (TestNode second = TestNode.start(pg, Map.of("pekko.cluster.seed-nodes", List.of(seed)))) {
      String fromFirst = token(tenant.apiKey(), "{\"scope\":\"read\"}");
      Response r = second.api.get("/v1/endpoints", fromFirst);
      assertEquals(200, r.status(), r.body());
      assertEquals(endpoint, r.json().get("data").get(0).get("id").asText());

      String fromSecond = second.api.postJson("/v1/portal-sessions", TestNode.ADMIN_KEY,
          "{\"scope\":\"read\",\"tenant_id\":\"" + tenant.id() + "\"}").json().get("token").asText();
      assertEquals(200, api.get("/v1/endpoints/" + endpoint, fromSecond).status());
    }
  }

  // ---- helpers ----

  private static String endpointBody(String path) {
    return "{\"url\":\"" + receiver.url(path) + "\",\"max_attempts\":1}";
  }

  private static String token(String key, String body) {
    Response r = api.postJson("/v1/portal-sessions", key, body);
    assertEquals(201, r.status(), r.body());
    return r.json().get("token").asText();
  }

  private static String ingest(String key, String idempotencyKey, String endpointId) {
    String target = endpointId == null ? "" : ",\"endpoint_id\":\"" + endpointId + "\"";
    Response r = api.ingest(key, idempotencyKey, "{\"type\":\"user.created\",\"payload\":{}" + target + "}");
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  private static void awaitStatus(String key, String event, String status) {
    Await.until(event + " " + status, PATIENCE,
        () -> api.get("/v1/events/" + event, key).json().get("status").asText().equals(status));
  }

  private static Set<String> listIds(String key, String query) {
    Response r = api.get("/v1/events?limit=100" + query, key);
    assertEquals(200, r.status(), r.body());
    Set<String> ids = new HashSet<>();
    r.json().get("data").forEach(e -> ids.add(e.get("id").asText()));
    return ids;
  }

  /** The 401 a token gets, and its detail. */
  private static String refused(String token) {
    return assertProblem(api.get("/v1/endpoints", token), 401, "unauthorized");
  }

  /** The node's signing key, as it stored it on its first start. */
  private static byte[] signingKey() {
    return Base64.getMimeDecoder().decode(pg.queryString("SELECT encode(key, 'base64') FROM portal_signing_key"));
  }

  /** HS512 needs 512 bits: the node's key, repeated. */
  private static byte[] pad64(byte[] key) {
    byte[] out = new byte[64];
    for (int i = 0; i < out.length; i++) out[i] = key[i % key.length];
    return out;
  }

  private static JWTClaimsSet.Builder claimsBuilder(String tenantId) {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer("zyven")
        .audience("zyven-portal")
        .subject(tenantId)
        .claim("scope", "read")
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(600)))
        .jwtID("test");
  }

  private static String sign(JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    jwt.sign(new MACSigner(signingKey()));
    return jwt.serialize();
  }

  private static JsonNode claims(String token) {
    return part(token, 1);
  }

  private static JsonNode header(String token) {
    return part(token, 0);
  }

  private static JsonNode part(String token, int index) {
    try {
      return ApiClient.JSON.readTree(Base64.getUrlDecoder().decode(token.split("\\.")[index]));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
