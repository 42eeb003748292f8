package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.net.http.HttpRequest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code /v1/endpoints} against a running node on real PostgreSQL: validation of every
 * field, tenant isolation, and that every configuration change is journaled.
 */
class EndpointApiTest {
  private static final String URL = "https://hooks.example.com/zyven";
  private static final String MINIMAL = "{\"url\":\"" + URL + "\"}";
  private static final String FULL =
      "{\"url\":\"https://a.example.com/hook\",\"description\":\"orders\","
          + "\"event_types\":[\"order.*\",\"user.created\"],\"max_in_flight\":5,"
          + "\"rate_limit_per_second\":20,\"timeout_ms\":1500,\"max_attempts\":4,"
          + "\"headers\":{\"X-Team\":\"payments\"}}";
  private static final SecureRandom RANDOM = new SecureRandom();

  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;

  private Tenant tenant;

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
    tenant = api.createTenant("endpoints-" + UUID.randomUUID());
  }

  // ---- create ----

  @Test
  void createWithOnlyUrlIs201WithGeneratedSecretAndDefaults() {
    Response r = create(MINIMAL);

    assertEquals(201, r.status(), r.body());
    assertEquals("application/json", r.contentType());
    JsonNode e = r.json();
    UUID.fromString(e.get("id").asText());
    assertEquals(URL, e.get("url").asText());
    String secret = e.get("secret").asText();
    assertTrue(secret.startsWith("whsec_"), secret);
    assertEquals(32, Base64.getDecoder().decode(secret.substring("whsec_".length())).length);
    assertTrue(e.get("enabled").asBoolean());
    assertTrue(e.get("enabled").isBoolean());
    assertEquals(10, e.get("max_in_flight").asInt());
    assertEquals(30000, e.get("timeout_ms").asInt());
    assertEquals(9, e.get("max_attempts").asInt());
    assertTrue(e.get("event_types").isArray() && e.get("event_types").isEmpty(), r.body());
    assertTrue(e.get("headers").isObject() && e.get("headers").isEmpty(), r.body());
    assertTrue(e.get("rate_limit_per_second") == null || e.get("rate_limit_per_second").isNull(), r.body());
    Instant created = Instant.parse(e.get("created_at").asText());
    assertEquals(created, Instant.parse(e.get("updated_at").asText()));
    assertTrue(e.get("created_at").asText().endsWith("Z"));
  }

  @Test
  void generatedSecretsDifferBetweenEndpoints() {
    String a = create(MINIMAL).json().get("secret").asText();
    String b = create(MINIMAL).json().get("secret").asText();
    assertNotEquals(a, b);
  }

  @Test
  void createKeepsEveryGivenField() {
    Response r = create(FULL);

    assertEquals(201, r.status(), r.body());
    JsonNode e = r.json();
    assertEquals("https://a.example.com/hook", e.get("url").asText());
    assertEquals("orders", e.get("description").asText());
    assertEquals("[\"order.*\",\"user.created\"]", e.get("event_types").toString());
    assertEquals(5, e.get("max_in_flight").asInt());
    assertEquals(20, e.get("rate_limit_per_second").asInt());
    assertEquals(1500, e.get("timeout_ms").asInt());
    assertEquals(4, e.get("max_attempts").asInt());
    assertEquals("{\"X-Team\":\"payments\"}", e.get("headers").toString());
  }

  @Test
  void givenValidSecretIsKept() {
    for (int bytes : new int[] {24, 32, 64}) {
      String secret = secretOf(bytes);
      Response r = create("{\"url\":\"" + URL + "\",\"secret\":\"" + secret + "\"}");
      assertEquals(201, r.status(), r.body());
      assertEquals(secret, r.json().get("secret").asText());
      assertEquals(secret, secret(r.json().get("id").asText()).json().get("secret").asText());
    }
  }

  // ---- secrets: returned on create, on rotate and by /secret only ----

  @Test
  void getListAndPatchNeverCarryTheSecret() {
    JsonNode created = create(MINIMAL).json();
    String id = created.get("id").asText();
    assertTrue(created.get("secret").asText().startsWith("whsec_"), "create shows it");

    assertFalse(get(id).json().has("secret"), get(id).body());
    assertFalse(patch(id, "{\"description\":\"x\"}").json().has("secret"));
    assertFalse(api.postJson("/v1/endpoints/" + id + "/enable", tenant.apiKey(), "").json().has("secret"));
    List<JsonNode> listed = list(tenant.apiKey());
    assertEquals(1, listed.size());
    assertFalse(listed.get(0).has("secret"), listed.get(0).toString());
    assertFalse(api.get("/v1/endpoints", tenant.apiKey()).body().contains(created.get("secret").asText()));
  }

  @Test
  void secretRouteAnswersTheCurrentSecretAndThePreviousWhileItSigns() {
    JsonNode created = create(MINIMAL).json();
    String id = created.get("id").asText();

    Response before = secret(id);
    assertEquals(200, before.status(), before.body());
    assertEquals(created.get("secret"), before.json().get("secret"));
    assertFalse(before.json().has("previous_secret"), before.body());
    assertFalse(before.json().has("previous_secret_expires_at"), before.body());

    JsonNode rotated = api.postJson("/v1/endpoints/" + id + "/rotate-secret", tenant.apiKey(), "").json();
    assertTrue(rotated.get("secret").asText().startsWith("whsec_"), "rotate shows the new one");
    assertNotEquals(created.get("secret"), rotated.get("secret"));

    JsonNode after = secret(id).json();
    assertEquals(rotated.get("secret"), after.get("secret"));
    assertEquals(created.get("secret"), after.get("previous_secret"));
    assertEquals(rotated.get("previous_secret_expires_at"), after.get("previous_secret_expires_at"));
    assertFalse(get(id).json().has("secret"));
  }

  @Test
  void secretRouteIsForTheOwnerWithTheManageScopeOnly() {
    String id = create(MINIMAL).json().get("id").asText();

    Tenant other = api.createTenant("other-" + UUID.randomUUID());
    assertProblem(api.get("/v1/endpoints/" + id + "/secret", other.apiKey()), 404, "not-found");
    String readToken = api.postJson("/v1/portal-sessions", tenant.apiKey(), "{\"scope\":\"read\"}").json()
        .get("token").asText();
    assertProblem(api.get("/v1/endpoints/" + id + "/secret", readToken), 403, "forbidden");
    String manageToken = api.postJson("/v1/portal-sessions", tenant.apiKey(), "{\"scope\":\"manage\"}").json()
        .get("token").asText();
    assertEquals(200, api.get("/v1/endpoints/" + id + "/secret", manageToken).status());
    assertUnauthorized(api.get("/v1/endpoints/" + id + "/secret", null));
  }

  @Test
  void theIndexAndTheJournalHoldNoSecretInClear() {
    JsonNode created = create(MINIMAL).json();
    String id = created.get("id").asText();
    String secret = created.get("secret").asText();
    String rotated = api.postJson("/v1/endpoints/" + id + "/rotate-secret", tenant.apiKey(), "").json()
        .get("secret").asText();

    for (String s : List.of(secret, rotated)) {
      String base64 = s.substring("whsec_".length());
      assertEquals(0, pg.count("SELECT count(*) FROM endpoints WHERE id = ?::uuid AND position(? in config::text) > 0",
          id, base64), "endpoints.config");
      // The journal's payloads are CBOR: the secret would be there as its UTF-8 bytes.
      assertEquals(0, pg.count("SELECT count(*) FROM event_journal WHERE persistence_id = ?"
          + " AND position(convert_to(?, 'UTF8') in event_payload) > 0", "Endpoint|" + id, base64), "event_journal");
      assertEquals(0, pg.count("SELECT count(*) FROM event_journal WHERE persistence_id = ?"
          + " AND position(decode(?, 'base64') in event_payload) > 0", "Endpoint|" + id, base64),
          "event_journal, the key bytes");
    }
    // What they hold instead: created and rotated, each sealed.
    assertEquals(2, pg.count("SELECT count(*) FROM event_journal WHERE persistence_id = ?"
        + " AND position(convert_to('v1:', 'UTF8') in event_payload) > 0", "Endpoint|" + id));
  }

  @Test
  void secretWithoutPrefixIs400() {
    String base64 = Base64.getEncoder().encodeToString(new byte[32]);
    assertRejected("{\"url\":\"" + URL + "\",\"secret\":\"" + base64 + "\"}");
    assertRejected("{\"url\":\"" + URL + "\",\"secret\":\"whsek_" + base64 + "\"}");
  }

  @Test
  void secretShorterThan24BytesIs400() {
    assertRejected("{\"url\":\"" + URL + "\",\"secret\":\"" + secretOf(23) + "\"}");
    assertRejected("{\"url\":\"" + URL + "\",\"secret\":\"whsec_\"}");
  }

  @Test
  void secretLongerThan64BytesIs400() {
    assertRejected("{\"url\":\"" + URL + "\",\"secret\":\"" + secretOf(65) + "\"}");
  }

  @Test
  void secretThatIsNotBase64Is400() {
    assertRejected("{\"url\":\"" + URL + "\",\"secret\":\"whsec_this is not base64 at all, no!!\"}");
    assertRejected("{\"url\":\"" + URL + "\",\"secret\":\"whsec_" + "%".repeat(44) + "\"}");
  }

  @Test
  void secretThatIsNotAStringIs400() {
    assertRejected("{\"url\":\"" + URL + "\",\"secret\":12345}");
  }

  @Test
  void missingUrlIs400() {
    assertRejected("{}");
    assertRejected("{\"description\":\"no url\"}");
    assertRejected("{\"url\":null}");
  }

  @Test
  void urlThatIsNotHttpIs400() {
    assertRejected("{\"url\":\"ftp://example.com/hook\"}");
    assertRejected("{\"url\":\"mailto:ops@example.com\"}");
    assertRejected("{\"url\":\"file:///etc/passwd\"}");
    assertRejected("{\"url\":\"example.com/hook\"}");
  }

  @Test
  void urlWithoutHostIs400() {
    assertRejected("{\"url\":\"http://\"}");
    assertRejected("{\"url\":\"http:///hook\"}");
    assertRejected("{\"url\":\"https:/hook\"}");
  }

  @Test
  void urlThatIsNotAStringIs400() {
    assertRejected("{\"url\":42}");
    assertRejected("{\"url\":[\"" + URL + "\"]}");
    assertRejected("{\"url\":{\"href\":\"" + URL + "\"}}");
    assertRejected("{\"url\":true}");
  }

  @Test
  void unknownFieldIs400() {
    assertEquals("unknown field 'event_type'; the fields are description, enabled, event_types, headers, "
            + "max_attempts, max_in_flight, rate_limit_per_second, secret, timeout_ms, transformation, url, verify",
        assertRejected("{\"url\":\"" + URL + "\",\"event_type\":[\"user.created\"]}", "invalid-request"));
    assertRejected("{\"url\":\"" + URL + "\",\"id\":\"" + UUID.randomUUID() + "\"}", "invalid-request");
    String echoed = assertRejected("{\"url\":\"" + URL + "\",\"" + "a".repeat(500) + "\":1}", "invalid-request");
    assertTrue(echoed.startsWith("unknown field '" + "a".repeat(40) + "…'; "), echoed);
  }

  @Test
  void aLongHeaderNameIsEchoedCutShort() {
    String echoed = assertRejected("{\"url\":\"" + URL + "\",\"headers\":{\"" + "h".repeat(500) + "\":\"x\"}}", "invalid-request");
    assertEquals("header '" + "h".repeat(40) + "…' is not allowed", echoed);
  }

  @Test
  void bodyThatIsNotAJsonObjectIs400() {
    assertRejected("[]", "invalid-request");
    assertRejected("\"" + URL + "\"", "invalid-request");
    assertRejected("null", "invalid-request");
    assertRejected("{\"url\":", "malformed-json");
  }

  /** Where and what, in words; never the parser's own message (checked by assertProblem). */
  @Test
  void malformedJsonSaysWhatAndWhereAndWritesNothing() {
    String url = "{\"url\":\"" + URL + "\"";
    assertEquals("unexpected end of input at line 1, column 41", assertRejected(url, "malformed-json"));
    assertEquals("unexpected character '}' at line 1, column 42: expected a field name in double quotes",
        assertRejected(url + ",}", "malformed-json"));
    assertEquals("unrecognized token 'tru' at line 1, column 52: expected a string, number, object, array, true, false or null",
        assertRejected(url + ",\"enabled\":tru}", "malformed-json"));
    assertEquals("unexpected content after the JSON value at line 1, column 42",
        assertRejected(url + "}{}", "malformed-json"));
    assertEquals("invalid number at line 3, column 21: a number cannot start with 0 unless it is 0",
        assertRejected("{\n  \"url\": \"" + URL + "\",\n  \"max_in_flight\": 05\n}", "malformed-json"));
    assertEquals("unexpected end of input in a string at line 2, column 16",
        assertRejected("{\n  \"url\": \"https", "malformed-json"));
  }

  /** Which of two values would count is anybody's guess: neither does. */
  @Test
  void duplicateFieldIs400() {
    assertEquals("duplicate field 'url' at line 1, column 47",
        assertRejected("{\"url\":\"" + URL + "\",\"url\":\"https://other.example.com\"}", "malformed-json"));
  }

  @Test
  void maxInFlightOutOfRangeIs400() {
    assertRejected("{\"url\":\"" + URL + "\",\"max_in_flight\":0}");
    assertRejected("{\"url\":\"" + URL + "\",\"max_in_flight\":1001}");
    assertRejected("{\"url\":\"" + URL + "\",\"max_in_flight\":-1}");
    assertRejected("{\"url\":\"" + URL + "\",\"max_in_flight\":2.5}");
    assertRejected("{\"url\":\"" + URL + "\",\"max_in_flight\":\"10\"}");
  }

  @Test
  void maxInFlightBoundsAreAccepted() {
    assertEquals(1, create("{\"url\":\"" + URL + "\",\"max_in_flight\":1}").json().get("max_in_flight").asInt());
    assertEquals(1000, create("{\"url\":\"" + URL + "\",\"max_in_flight\":1000}").json().get("max_in_flight").asInt());
  }

  @Test
  void timeoutMsZeroIs400() {
    assertRejected("{\"url\":\"" + URL + "\",\"timeout_ms\":0}");
  }

  @Test
  void maxAttemptsZeroIs400() {
    assertRejected("{\"url\":\"" + URL + "\",\"max_attempts\":0}");
  }

  @Test
  void rateLimitZeroIs400() {
    assertRejected("{\"url\":\"" + URL + "\",\"rate_limit_per_second\":0}");
  }

  @Test
  void eventTypeWithASpaceIs400() {
    assertRejected("{\"url\":\"" + URL + "\",\"event_types\":[\"user created\"]}");
    assertRejected("{\"url\":\"" + URL + "\",\"event_types\":[\"user.created\",\"order paid\"]}");
  }

  @Test
  void eventTypesThatAreNotAListOfStringsIs400() {
    assertRejected("{\"url\":\"" + URL + "\",\"event_types\":\"user.created\"}");
    assertRejected("{\"url\":\"" + URL + "\",\"event_types\":[42]}");
    assertRejected("{\"url\":\"" + URL + "\",\"event_types\":[\"\"]}");
  }

  @Test
  void reservedHeaderIs400() {
    assertRejected("{\"url\":\"" + URL + "\",\"headers\":{\"webhook-id\":\"x\"}}");
    assertRejected("{\"url\":\"" + URL + "\",\"headers\":{\"Webhook-Signature\":\"x\"}}");
    assertRejected("{\"url\":\"" + URL + "\",\"headers\":{\"Content-Type\":\"text/plain\"}}");
    assertRejected("{\"url\":\"" + URL + "\",\"headers\":{\"X-Signature\":\"x\"}}");
    assertRejected("{\"url\":\"" + URL + "\",\"headers\":{\"x-webhook-id\":\"x\"}}");
    assertRejected("{\"url\":\"" + URL + "\",\"headers\":{\"Content-Encoding\":\"gzip\"}}");
    assertRejected("{\"url\":\"" + URL + "\",\"headers\":{\"Upgrade\":\"h2c\"}}");
  }

  @Test
  void headerGivenTwiceInAnyCaseIs400() {
    assertRejected("{\"url\":\"" + URL + "\",\"headers\":{\"X-A\":\"1\",\"x-a\":\"2\"}}");
  }

  @Test
  void urlWithAnImpossiblePortIs400() {
    assertRejected("{\"url\":\"https://hooks.example.com:99999/x\"}");
  }

  @Test
  void customHeaderIsKept() {
    Response r = create("{\"url\":\"" + URL + "\",\"headers\":{\"X-Tenant-Token\":\"abc 123\"}}");
    assertEquals(201, r.status(), r.body());
    assertEquals("abc 123", r.json().get("headers").get("X-Tenant-Token").asText());
  }

  @Test
  void nonJsonContentTypeIs415() {
    assertRejected(
        () -> api.send(api.request("/v1/endpoints", tenant.apiKey())
            .header("Content-Type", "text/plain")
            .POST(HttpRequest.BodyPublishers.ofString(MINIMAL))),
        415);
  }

  @Test
  void rejectedCreateWritesNothing() {
    create(MINIMAL);
    long journal = endpointJournalRows();

    assertProblem(create("{\"url\":\"" + URL + "\",\"max_in_flight\":0}"), 400);
    assertProblem(create("{\"url\":\"ftp://example.com\"}"), 400);

    assertEquals(1, list(tenant.apiKey()).size());
    assertEquals(journal, endpointJournalRows());
  }

  // ---- list and read ----

  @Test
  void listShowsOnlyTheTenantsEndpoints() {
    String a = api.createEndpoint(tenant.apiKey(), MINIMAL);
    String b = api.createEndpoint(tenant.apiKey(), FULL);
    Tenant other = api.createTenant("other-" + UUID.randomUUID());
    String theirs = api.createEndpoint(other.apiKey(), MINIMAL);

    List<String> mine = ids(list(tenant.apiKey()));
    List<String> otherList = ids(list(other.apiKey()));

    assertEquals(List.of(a, b), mine);
    assertEquals(List.of(theirs), otherList);
  }

  @Test
  void listOfANewTenantIsEmpty() {
    Response r = api.get("/v1/endpoints", tenant.apiKey());
    assertEquals(200, r.status(), r.body());
    assertTrue(r.json().get("data").isArray() && r.json().get("data").isEmpty(), r.body());
  }

  @Test
  void getByIdShowsTheEndpointAsCreated() {
    JsonNode created = withoutSecret(create(FULL).json());

    Response r = get(created.get("id").asText());

    assertEquals(200, r.status(), r.body());
    assertEquals(created, r.json());
  }

  @Test
  void listShowsTheEndpointAsCreated() {
    JsonNode created = withoutSecret(create(FULL).json());
    assertEquals(List.of(created), list(tenant.apiKey()));
  }

  @Test
  void getAnotherTenantsEndpointIs404() {
    Tenant other = api.createTenant("other-" + UUID.randomUUID());
    String theirs = api.createEndpoint(other.apiKey(), MINIMAL);

    assertProblem(get(theirs), 404);
  }

  @Test
  void getUnknownIdIs404() {
    assertProblem(get(UUID.randomUUID().toString()), 404);
  }

  @Test
  void getNonUuidIdIs400InvalidId() {
    assertEquals("endpoint id must be a UUID, got 'not-a-uuid'", assertProblem(get("not-a-uuid"), 400, "invalid-id"));
    assertEquals("endpoint id must be a UUID, got '12345'", assertProblem(get("12345"), 400, "invalid-id"));
  }

  // ---- update ----

  @Test
  void patchChangesOnlyTheGivenFieldsAndUpdatedAt() {
    JsonNode before = create(FULL).json();
    String id = before.get("id").asText();

    Response r = patch(id, "{\"url\":\"https://b.example.com/new\",\"max_in_flight\":3}");

    assertEquals(200, r.status(), r.body());
    JsonNode after = r.json();
    assertEquals("https://b.example.com/new", after.get("url").asText());
    assertEquals(3, after.get("max_in_flight").asInt());
    for (String field : List.of("id", "description", "event_types", "enabled",
        "rate_limit_per_second", "timeout_ms", "max_attempts", "headers", "created_at")) {
      assertEquals(before.get(field), after.get(field), field);
    }
    assertTrue(Instant.parse(after.get("updated_at").asText())
        .isAfter(Instant.parse(before.get("updated_at").asText())), r.body());
    assertEquals(after, get(id).json());
    assertEquals(List.of(after), list(tenant.apiKey()));
  }

  @Test
  void patchKeepsTheSecret() {
    JsonNode before = create(MINIMAL).json();
    String id = before.get("id").asText();

    patch(id, "{\"enabled\":false,\"event_types\":[\"a.*\"],\"headers\":{\"X-A\":\"b\"}}");

    JsonNode after = get(id).json();
    assertEquals(before.get("secret"), secret(id).json().get("secret"));
    assertFalse(after.get("enabled").asBoolean());
    assertEquals("[\"a.*\"]", after.get("event_types").toString());
    assertEquals("{\"X-A\":\"b\"}", after.get("headers").toString());
  }

  @Test
  void patchRateLimitNullClearsIt() {
    String id = create(FULL).json().get("id").asText();

    Response r = patch(id, "{\"rate_limit_per_second\":null}");

    assertEquals(200, r.status(), r.body());
    assertTrue(r.json().get("rate_limit_per_second").isNull(), r.body());
    assertTrue(get(id).json().get("rate_limit_per_second").isNull());
    assertEquals(5, get(id).json().get("max_in_flight").asInt());
  }

  @Test
  void patchDescriptionNullClearsIt() {
    String id = create("{\"url\":\"" + URL + "\",\"description\":\"billing\"}").json().get("id").asText();

    Response r = patch(id, "{\"description\":null}");

    assertEquals(200, r.status(), r.body());
    assertTrue(get(id).json().get("description").isNull(), r.body());
  }

  @Test
  void patchThatChangesNothingJournalsNothing() {
    String id = create(FULL).json().get("id").asText();
    JsonNode before = get(id).json();
    long rows = journalRows(id);

    assertEquals(200, patch(id, "{}").status());
    assertEquals(200, patch(id, "{\"max_in_flight\":" + before.get("max_in_flight").asInt() + "}").status());

    assertEquals(rows, journalRows(id));
    assertEquals(before, get(id).json());
  }

  @Test
  void upperCaseIdNamesTheSameEndpoint() {
    String id = create(MINIMAL).json().get("id").asText();

    Response r = get(id.toUpperCase());

    assertEquals(200, r.status(), r.body());
    assertEquals(id, r.json().get("id").asText());
  }

  @Test
  void patchRateLimitSetsIt() {
    String id = create(MINIMAL).json().get("id").asText();
    assertEquals(7, patch(id, "{\"rate_limit_per_second\":7}").json().get("rate_limit_per_second").asInt());
    assertEquals(7, get(id).json().get("rate_limit_per_second").asInt());
  }

  @Test
  void patchWithSecretIs400AndChangesNothing() {
    JsonNode before = withoutSecret(create(MINIMAL).json());
    String id = before.get("id").asText();

    assertProblem(patch(id, "{\"secret\":\"" + secretOf(32) + "\"}"), 400);
    assertProblem(patch(id, "{\"url\":\"https://c.example.com\",\"secret\":\"" + secretOf(32) + "\"}"), 400);

    assertEquals(before, get(id).json());
    assertEquals(1, journalRows(id));
  }

  @Test
  void invalidPatchIs400AndChangesNothing() {
    JsonNode before = withoutSecret(create(MINIMAL).json());
    String id = before.get("id").asText();

    assertProblem(patch(id, "{\"max_in_flight\":0}"), 400);
    assertProblem(patch(id, "{\"url\":\"ftp://example.com\"}"), 400);
    assertProblem(patch(id, "{\"headers\":{\"webhook-id\":\"x\"}}"), 400);
    assertProblem(patch(id, "{\"event_type\":[\"x\"]}"), 400);

    assertEquals(before, get(id).json());
    assertEquals(1, journalRows(id));
  }

  @Test
  void patchOfAnotherTenantsEndpointIs404AndChangesNothing() {
    JsonNode before = withoutSecret(create(FULL).json());
    String id = before.get("id").asText();
    Tenant other = api.createTenant("other-" + UUID.randomUUID());

    assertProblem(api.patchJson("/v1/endpoints/" + id, other.apiKey(), "{\"url\":\"https://evil.example.com\"}"), 404);

    assertEquals(before, get(id).json());
    assertEquals(List.of(before), list(tenant.apiKey()));
    assertEquals(1, journalRows(id));
  }

  @Test
  void patchOfUnknownIdIs404AndOfNonUuidIdIs400() {
    assertProblem(patch(UUID.randomUUID().toString(), "{\"enabled\":false}"), 404, "not-found");
    assertProblem(patch("not-a-uuid", "{\"enabled\":false}"), 400, "invalid-id");
  }

  // ---- delete ----

  @Test
  void deleteIs204ThenTheEndpointIsGone() {
    String keep = api.createEndpoint(tenant.apiKey(), MINIMAL);
    String id = api.createEndpoint(tenant.apiKey(), FULL);

    Response r = api.delete("/v1/endpoints/" + id, tenant.apiKey());

    assertEquals(204, r.status(), r.body());
    assertTrue(r.body().isEmpty(), r.body());
    assertProblem(get(id), 404);
    assertEquals(List.of(keep), ids(list(tenant.apiKey())));
    assertProblem(api.delete("/v1/endpoints/" + id, tenant.apiKey()), 404);
    assertProblem(patch(id, "{\"enabled\":true}"), 404);
  }

  @Test
  void deleteOfAnotherTenantsEndpointIs404AndChangesNothing() {
    JsonNode before = withoutSecret(create(MINIMAL).json());
    String id = before.get("id").asText();
    Tenant other = api.createTenant("other-" + UUID.randomUUID());

    assertProblem(api.delete("/v1/endpoints/" + id, other.apiKey()), 404);

    assertEquals(before, get(id).json());
    assertEquals(1, journalRows(id));
  }

  @Test
  void deleteOfUnknownIdIs404AndOfNonUuidIdIs400() {
    assertProblem(api.delete("/v1/endpoints/" + UUID.randomUUID(), tenant.apiKey()), 404, "not-found");
    assertProblem(api.delete("/v1/endpoints/not-a-uuid", tenant.apiKey()), 400, "invalid-id");
  }

  // ---- journal ----

  @Test
  void everyConfigChangeIsJournaled() {
    String id = api.createEndpoint(tenant.apiKey(), MINIMAL);
    assertEquals(1, journalRows(id));

    assertEquals(200, patch(id, "{\"max_attempts\":3}").status());
    assertEquals(2, journalRows(id));

    assertEquals(204, api.delete("/v1/endpoints/" + id, tenant.apiKey()).status());
    assertEquals(3, journalRows(id));
  }

  // ---- auth ----

  @Test
  void requestsWithoutAKeyAre401() {
    String id = api.createEndpoint(tenant.apiKey(), MINIMAL);
    long journal = endpointJournalRows();

    assertUnauthorized(api.get("/v1/endpoints", null));
    assertUnauthorized(api.postJson("/v1/endpoints", null, MINIMAL));
    assertUnauthorized(api.get("/v1/endpoints/" + id, null));
    assertUnauthorized(api.patchJson("/v1/endpoints/" + id, null, "{\"enabled\":false}"));
    assertUnauthorized(api.delete("/v1/endpoints/" + id, null));

    assertEquals(journal, endpointJournalRows());
    assertTrue(get(id).json().get("enabled").asBoolean());
  }

  @Test
  void requestsWithAnUnknownKeyAre401() {
    String id = api.createEndpoint(tenant.apiKey(), MINIMAL);

    assertUnauthorized(api.get("/v1/endpoints", "zyv_unknown"));
    assertUnauthorized(api.postJson("/v1/endpoints", "zyv_unknown", MINIMAL));
    assertUnauthorized(api.get("/v1/endpoints/" + id, "zyv_unknown"));
    assertUnauthorized(api.delete("/v1/endpoints/" + id, "zyv_unknown"));

    assertEquals(1, journalRows(id));
  }

  // ---- helpers ----

  private Response create(String json) {
    return api.postJson("/v1/endpoints", tenant.apiKey(), json);
  }

  /** What a GET shows of a created endpoint: all but the secret, which only create shows. */
  private static JsonNode withoutSecret(JsonNode created) {
    com.fasterxml.jackson.databind.node.ObjectNode copy = created.deepCopy();
    assertTrue(copy.remove("secret").asText().startsWith("whsec_"));
    return copy;
  }

  private Response secret(String id) {
    return api.get("/v1/endpoints/" + id + "/secret", tenant.apiKey());
  }

  private Response get(String id) {
    return api.get("/v1/endpoints/" + id, tenant.apiKey());
  }

  private Response patch(String id, String json) {
    return api.patchJson("/v1/endpoints/" + id, tenant.apiKey(), json);
  }

  private static List<JsonNode> list(String apiKey) {
    Response r = api.get("/v1/endpoints", apiKey);
    assertEquals(200, r.status(), r.body());
    List<JsonNode> views = new ArrayList<>();
    r.json().get("data").forEach(views::add);
    return views;
  }

  private static List<String> ids(List<JsonNode> views) {
    return views.stream().map(v -> v.get("id").asText()).toList();
  }

  private static long journalRows(String endpointId) {
    return pg.count("SELECT count(*) FROM event_journal WHERE persistence_id = ?", "Endpoint|" + endpointId);
  }

  private static long endpointJournalRows() {
    return pg.count("SELECT count(*) FROM event_journal WHERE persistence_id LIKE 'Endpoint|%'");
  }

  private static String secretOf(int bytes) {
    byte[] key = new byte[bytes];
    RANDOM.nextBytes(key);
    return "whsec_" + Base64.getEncoder().encodeToString(key);
  }

  /** A create with this body is refused with 400, and nothing is written. */
  private void assertRejected(String json) {
    assertRejected(() -> create(json), 400);
  }

  /** A create with this body is refused with a 400 of this type, and nothing is written; its detail. */
  private String assertRejected(String json, String slug) {
    return assertRejected(() -> create(json), 400, slug);
  }

  /** The request is refused with {@code status}; the list and the journal are unchanged. */
  private void assertRejected(Supplier<Response> request, int status) {
    assertRejected(request, status, null);
  }

  /** As above, and the problem's type is {@code slug} (unless null); its detail. */
  private String assertRejected(Supplier<Response> request, int status, String slug) {
    int listed = list(tenant.apiKey()).size();
    long journal = endpointJournalRows();

    Response r = request.get();

    assertProblem(r, status);
    String detail = slug == null ? r.json().get("detail").asText() : assertProblem(r, status, slug);
    assertEquals(listed, list(tenant.apiKey()).size(), "list length unchanged");
    assertEquals(journal, endpointJournalRows(), "journal unchanged");
    return detail;
  }

  private static void assertUnauthorized(Response r) {
    assertProblem(r, 401);
    assertTrue(r.header("WWW-Authenticate").isPresent(), r.headers().toString());
  }
}
