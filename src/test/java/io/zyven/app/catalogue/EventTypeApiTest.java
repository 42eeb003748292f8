package io.zyven.app.catalogue;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The event-type catalogue against a running node: CRUD, audit, bad input as problems that
 * write nothing, and what ingest does with it (schema violations with their pointers,
 * archived and unregistered types refused, nothing written), and endpoint filter warnings.
 */
class EventTypeApiTest {
  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;

  /** A typical schema: required, types, enum, pattern, a nested object, no extra properties, a $ref. */
  static final String ORDER_SCHEMA = """
      {"$schema":"https://json-schema.org/draft/2020-12/schema",
       "type":"object","required":["id","amount","status","customer"],"additionalProperties":false,
       "$defs":{"email":{"type":"string","pattern":"^[^@ ]+@[^@ ]+$"}},
       "properties":{
         "id":{"type":"string","pattern":"^ord_[0-9]+$"},
         "amount":{"type":"integer","minimum":0},
         "status":{"enum":["new","paid","shipped"]},
         "customer":{"type":"object","required":["email"],
           "properties":{"email":{"$ref":"#/$defs/email"},"name":{"type":"string"}}}}}
      """;
  static final String GOOD_ORDER = "{\"id\":\"ord_1\",\"amount\":5,\"status\":\"paid\",\"customer\":{\"email\":\"a@b.c\"}}";

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(TestPostgres.shared());
    api = node.api;
    receiver = new Receiver();
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.close();
    node.close();
  }

  private static Tenant tenantWithEndpoint(String name) {
    Tenant t = api.createTenant(name);
    api.createEndpoint(t.apiKey(), "{\"url\":\"" + receiver.url("/" + name) + "\"}");
    return t;
  }

  private static String type(String name, String schema, String example) {
    return "{\"name\":\"" + name + "\",\"description\":\"orders\""
        + (schema != null ? ",\"schema\":" + schema : "") + (example != null ? ",\"example\":" + example : "") + "}";
  }

  private static Response send(Tenant t, String type, String payload) {
    return api.ingest(t.apiKey(), UUID.randomUUID().toString(), "{\"type\":\"" + type + "\",\"payload\":" + payload + "}");
  }

  @Test
  void aPayloadThatViolatesItsSchemaIsRefusedWithEachPointerAndNothingIsWritten() {
    Tenant t = tenantWithEndpoint("schema-violations");
    assertEquals(201, api.postJson("/v1/event-types", t.apiKey(), type("order.created", ORDER_SCHEMA, GOOD_ORDER)).status());

    Response bad = send(t, "order.created",
        "{\"id\":\"x1\",\"amount\":\"5\",\"status\":\"lost\",\"customer\":{\"email\":\"nope\"},\"coupon\":\"A\"}");
    assertProblem(bad, 422, "schema-violation");
    List<String> pointers = new ArrayList<>();
    bad.json().get("errors").forEach(e -> {
      pointers.add(e.get("pointer").asText());
      assertFalse(e.get("message").asText().isBlank());
    });
    // pattern, type, enum, pattern through $ref in a nested object, additionalProperties: false
    assertEquals(List.of("/amount", "/coupon", "/customer/email", "/id", "/status"), pointers.stream().sorted().toList(),
        bad.body());

    Response missing = send(t, "order.created", "{\"id\":\"ord_2\",\"amount\":1,\"status\":\"new\",\"customer\":{}}");
    assertProblem(missing, 422, "schema-violation");
    assertEquals("/customer/email", missing.json().get("errors").get(0).get("pointer").asText(), missing.body());

    Response noRequired = send(t, "order.created", "{}");
    List<String> required = new ArrayList<>();
    noRequired.json().get("errors").forEach(e -> required.add(e.get("pointer").asText()));
    assertEquals(List.of("/amount", "/customer", "/id", "/status"), required.stream().sorted().toList(), noRequired.body());

    assertEquals(202, send(t, "order.created", GOOD_ORDER).status());
    // A type without a schema takes any object.
    assertEquals(202, send(t, "order.anything", "{\"free\":true}").status());
    // Nothing was written for the refused ones: once the two accepted events are listed, they are all there is.
    Await.until("the accepted events listed", Duration.ofSeconds(10),
        () -> api.get("/v1/events", t.apiKey()).json().get("data").size() >= 2);
    assertEquals(2, api.get("/v1/events", t.apiKey()).json().get("data").size());
    assertEquals(2, TestPostgres.shared().count("SELECT count(*) FROM events WHERE tenant_id = ?::uuid", t.id()));
  }

  @Test
  void archivedTypesAreRefusedAndUnregisteredOnesWhenTheTenantRequiresRegistration() {
    Tenant t = tenantWithEndpoint("catalogue-rules");
    api.postJson("/v1/event-types", t.apiKey(), type("user.created", null, null));
    assertEquals(200, api.patchJson("/v1/event-types/user.created", t.apiKey(), "{\"archived\":true}").status());
    assertProblem(send(t, "user.created", "{}"), 422, "event-type-archived");

    assertEquals(202, send(t, "user.deleted", "{}").status(), "unregistered is fine by default");
    Response set = api.patchJson("/v1/event-type-settings", t.apiKey(), "{\"require_registered_types\":true}");
    assertEquals(200, set.status(), set.body());
    assertProblem(send(t, "user.deleted", "{}"), 422, "event-type-unregistered");
    assertProblem(send(t, "user.created", "{}"), 422, "event-type-archived");

    assertEquals(200, api.patchJson("/v1/event-types/user.created", t.apiKey(), "{\"archived\":false}").status());
    assertEquals(202, send(t, "user.created", "{}").status());

    // The admin sets it on the tenant too, and the tenant's view shows it.
    Response admin = api.patchJson("/v1/tenants/" + t.id(), TestNode.ADMIN_KEY, "{\"require_registered_types\":false}");
    assertEquals(200, admin.status(), admin.body());
    assertFalse(admin.json().get("require_registered_types").asBoolean());
    assertEquals(202, send(t, "user.deleted", "{}").status());
  }

  @Test
  void theSameKeyAndBodyIsStillAReplayAfterTheSchemaChanged() {
    Tenant t = tenantWithEndpoint("schema-replay");
    api.postJson("/v1/event-types", t.apiKey(), type("invoice.paid", null, null));
    String body = "{\"type\":\"invoice.paid\",\"payload\":{\"n\":1}}";
    assertEquals(202, api.ingest(t.apiKey(), "k-1", body).status());
    api.patchJson("/v1/event-types/invoice.paid", t.apiKey(), "{\"schema\":{\"required\":[\"m\"]}}");
    assertEquals(200, api.ingest(t.apiKey(), "k-1", body).status(), "a key accepted before answers as before");
    assertProblem(api.ingest(t.apiKey(), "k-2", body), 422, "schema-violation");
  }

  @Test
  void typesAreCreatedReadListedChangedDeletedAndAudited() {
    Tenant t = api.createTenant("catalogue-crud");
    Response created = api.postJson("/v1/event-types", t.apiKey(), type("order.created", ORDER_SCHEMA, GOOD_ORDER));
    assertEquals(201, created.status(), created.body());
    JsonNode v = created.json();
    assertEquals("order.created", v.get("name").asText());
    assertEquals("orders", v.get("description").asText());
    assertEquals("ord_1", v.get("example").get("id").asText());
    assertEquals("object", v.get("schema").get("type").asText());
    assertFalse(v.get("archived").asBoolean());

    assertProblem(api.postJson("/v1/event-types", t.apiKey(), type("order.created", null, null)), 409, "event-type-exists");
    api.postJson("/v1/event-types", t.apiKey(), type("a.first", null, null));

    Response got = api.get("/v1/event-types/order.created", t.apiKey());
    assertEquals(200, got.status());
    assertEquals(v.get("version"), got.json().get("version"));

    Response patched = api.patchJson("/v1/event-types/order.created", t.apiKey(), "{\"description\":\"new orders\",\"example\":null}");
    assertEquals(200, patched.status(), patched.body());
    assertTrue(patched.json().get("example").isNull());
    assertTrue(patched.json().get("version").asLong() > v.get("version").asLong());
    api.patchJson("/v1/event-types/order.created", t.apiKey(), "{\"archived\":true}");

    Response all = api.get("/v1/event-types?limit=1", t.apiKey());
    assertEquals("a.first", all.json().get("data").get(0).get("name").asText());
    String cursor = all.json().get("next_cursor").asText();
    Response next = api.get("/v1/event-types?limit=1&cursor=" + cursor, t.apiKey());
    assertEquals("order.created", next.json().get("data").get(0).get("name").asText());
    assertTrue(next.json().get("next_cursor").isNull());
    assertEquals(1, api.get("/v1/event-types?include_archived=false", t.apiKey()).json().get("data").size());

    assertEquals(204, api.delete("/v1/event-types/order.created", t.apiKey()).status());
    assertProblem(api.get("/v1/event-types/order.created", t.apiKey()), 404, "not-found");

    Response audit = api.get("/v1/event-types/order.created/audit", t.apiKey());
    assertEquals(200, audit.status(), audit.body());
    List<String> actions = new ArrayList<>();
    audit.json().get("entries").forEach(e -> {
      actions.add(e.get("action").asText());
      assertTrue(e.get("by").asText().startsWith("api_key:"), e.toString());
      assertFalse(e.get("at").asText().isEmpty());
    });
    assertEquals(List.of("deleted", "archived", "updated", "created"), actions);
    JsonNode update = audit.json().get("entries").get(2).get("changes");
    assertEquals("new orders", update.get("description").asText());
    assertTrue(update.get("example").isNull());

    // Another tenant sees none of it.
    Tenant other = api.createTenant("catalogue-other");
    assertProblem(api.get("/v1/event-types/a.first", other.apiKey()), 404, "not-found");
    assertEquals(0, api.get("/v1/event-types", other.apiKey()).json().get("data").size());
  }

  @Test
  void badInputIsAProblemAndWritesNothing() {
    Tenant t = api.createTenant("catalogue-bad-input");
    Map<String, String> bodies = new java.util.LinkedHashMap<>();
    bodies.put(type("order.*", null, null), "invalid-request");
    bodies.put(type("has space", null, null), "invalid-request");
    bodies.put(type("x".repeat(129), null, null), "invalid-request");
    bodies.put("{\"description\":\"no name\"}", "invalid-request");
    bodies.put("{\"name\":\"a\",\"nope\":1}", "invalid-request");
    bodies.put("{\"name\":\"a\",\"schema\":\"string\"}", "invalid-request");
    bodies.put("{\"name\":\"a\",\"example\":[1]}", "invalid-request");
    bodies.put(type("a", "{\"type\":5}", null), "invalid-schema");
    bodies.put(type("a", "{\"required\":\"id\"}", null), "invalid-schema");
    bodies.put(type("a", "{\"$ref\":\"http://127.0.0.1:9/s.json\"}", null), "invalid-schema");
    bodies.put(type("a", "{\"properties\":{\"p\":{\"pattern\":\"(\"}}}", null), "invalid-schema");
    bodies.put(type("a", ORDER_SCHEMA, "{\"id\":\"ord_1\"}"), "schema-violation");
    for (Map.Entry<String, String> b : bodies.entrySet()) {
      Response r = api.postJson("/v1/event-types", t.apiKey(), b.getKey());
      int status = b.getValue().equals("invalid-request") ? 400 : 422;
      assertProblem(r, status, b.getValue());
    }
    Response example = api.postJson("/v1/event-types", t.apiKey(), type("a", ORDER_SCHEMA, "{\"id\":\"ord_1\"}"));
    assertTrue(example.json().get("errors").size() >= 3, example.body());
    assertEquals(0, TestPostgres.shared().count("SELECT count(*) FROM event_types WHERE tenant_id = ?::uuid", t.id()));
    assertEquals(0, TestPostgres.shared().count("SELECT count(*) FROM event_type_changes WHERE tenant_id = ?::uuid", t.id()));

    // A patch is checked as a whole: an example against the stored schema.
    api.postJson("/v1/event-types", t.apiKey(), type("order.created", ORDER_SCHEMA, null));
    assertProblem(api.patchJson("/v1/event-types/order.created", t.apiKey(), "{\"example\":{\"id\":1}}"), 422, "schema-violation");
    assertTrue(api.get("/v1/event-types/order.created", t.apiKey()).json().get("example").isNull());
    assertProblem(api.get("/v1/event-types/no*such", t.apiKey()), 400, "invalid-request");
  }

  @Test
  void readKeysReadAndOnlyManageKeysChange() {
    Tenant t = api.createTenant("catalogue-scopes");
    String read = api.postJson("/v1/api-keys", t.apiKey(), "{\"name\":\"r\",\"scopes\":[\"read\"]}").json().get("key").asText();
    api.postJson("/v1/event-types", t.apiKey(), type("a.b", null, null));
    assertEquals(200, api.get("/v1/event-types", read).status());
    assertEquals(200, api.get("/v1/event-types/a.b", read).status());
    assertProblem(api.postJson("/v1/event-types", read, type("c.d", null, null)), 403, "forbidden");
    assertProblem(api.patchJson("/v1/event-types/a.b", read, "{\"archived\":true}"), 403, "forbidden");
    assertProblem(api.patchJson("/v1/event-type-settings", read, "{\"require_registered_types\":true}"), 403, "forbidden");
  }

  @Test
  void anEndpointFilterThatMatchesNoRegisteredTypeGetsAWarning() {
    Tenant t = api.createTenant("catalogue-warnings");
    String url = receiver.url("/warnings");
    // No catalogue yet: nothing to compare with, so no warning.
    Response before = api.postJson("/v1/endpoints", t.apiKey(), "{\"url\":\"" + url + "\",\"event_types\":[\"nothing.*\"]}");
    assertEquals(201, before.status(), before.body());
    assertTrue(before.json().get("warnings") == null, before.body());

    api.postJson("/v1/event-types", t.apiKey(), type("order.created", null, null));
    api.postJson("/v1/event-types", t.apiKey(), "{\"name\":\"order.old\",\"archived\":true}");
    Response created = api.postJson("/v1/endpoints", t.apiKey(),
        "{\"url\":\"" + url + "\",\"event_types\":[\"order.*\",\"ordr.created\",\"order.old\"]}");
    assertEquals(201, created.status(), created.body());
    JsonNode warnings = created.json().get("warnings");
    assertEquals(2, warnings.size(), created.body());
    assertTrue(warnings.get(0).asText().contains("ordr.created"));
    assertTrue(warnings.get(1).asText().contains("only archived"));
    assertTrue(created.json().get("secret").asText().startsWith("whsec_"), "the endpoint's own answer is kept");

    String id = created.json().get("id").asText();
    Response patched = api.patchJson("/v1/endpoints/" + id, t.apiKey(), "{\"event_types\":[\"order.created\"]}");
    assertEquals(200, patched.status());
    assertTrue(patched.json().get("warnings") == null, patched.body());
    Response patchedBad = api.patchJson("/v1/endpoints/" + id, t.apiKey(), "{\"event_types\":[\"invoice.*\"]}");
    assertEquals(1, patchedBad.json().get("warnings").size(), patchedBad.body());
  }
}
