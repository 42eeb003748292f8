package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An id in a path that is not a UUID is the client's mistake, on every route that takes
 * one: 400 invalid-id, saying so, rather than a 404 that reads as "it was deleted".
 */
class InvalidIdApiTest {
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
    tenant = api.createTenant("ids-" + UUID.randomUUID());
  }

  @Test
  void everyEventRouteSaysAnEventIdMustBeAUuid() {
    assertInvalid(id -> api.get("/v1/events/" + id, tenant.apiKey()), "event");
    assertInvalid(id -> api.get("/v1/events/" + id + "/audit", tenant.apiKey()), "event");
    assertInvalid(id -> api.postJson("/v1/events/" + id + "/replay", tenant.apiKey(), ""), "event");
    assertInvalid(id -> api.postJson("/v1/events/" + id + "/replay", tenant.apiKey(),
        "{\"endpoint_id\":\"" + UUID.randomUUID() + "\"}"), "event");
    assertInvalid(id -> api.postJson("/v1/events/" + id + "/retry", tenant.apiKey(), ""), "event");
  }

  @Test
  void aTenantIdMustBeAUuidToo() {
    assertInvalid(id -> api.postJson("/v1/tenants/" + id + "/keys", TestNode.ADMIN_KEY, ""), "tenant");
  }

  @Test
  void everyEndpointRouteSaysAnEndpointIdMustBeAUuidAndWritesNothing() {
    long journal = endpointJournalRows();

    assertInvalid(id -> api.get("/v1/endpoints/" + id, tenant.apiKey()), "endpoint");
    assertInvalid(id -> api.patchJson("/v1/endpoints/" + id, tenant.apiKey(), "{\"enabled\":false}"), "endpoint");
    assertInvalid(id -> api.delete("/v1/endpoints/" + id, tenant.apiKey()), "endpoint");
    assertInvalid(id -> api.postJson("/v1/endpoints/" + id + "/enable", tenant.apiKey(), ""), "endpoint");
    assertInvalid(id -> api.postJson("/v1/endpoints/" + id + "/rotate-secret", tenant.apiKey(), ""), "endpoint");
    assertInvalid(id -> api.postJson("/v1/endpoints/" + id + "/recover", tenant.apiKey(),
        "{\"since\":\"2026-01-01T00:00:00Z\"}"), "endpoint");
    assertInvalid(id -> api.get("/v1/endpoints/" + id + "/health", tenant.apiKey()), "endpoint");

    assertEquals(journal, endpointJournalRows(), "nothing journaled");
  }

  @Test
  void theEchoedIdIsCutShort() {
    String longId = "x".repeat(500);
    Response r = api.get("/v1/events/" + longId, tenant.apiKey());
    assertEquals("event id must be a UUID, got '" + "x".repeat(40) + "…'", assertProblem(r, 400, "invalid-id"));
  }

  @Test
  void theIdIsCheckedOnlyForAnAuthenticatedCaller() {
    assertProblem(api.get("/v1/events/abc", null), 401, "unauthorized");
    assertProblem(api.get("/v1/endpoints/abc", "zyv_not-a-key"), 401, "unauthorized");
  }

  @Test
  void anEndpointIdInAReplayBodyThatIsNotAUuidIsAnInvalidRequest() {
    Response r = api.postJson("/v1/events/" + UUID.randomUUID() + "/replay", tenant.apiKey(), "{\"endpoint_id\":\"abc\"}");
    assertEquals("endpoint_id must be a UUID, got 'abc'", assertProblem(r, 400, "invalid-request"));
  }

  /** With a few ids that are not UUIDs, the request is 400 invalid-id naming {@code what}. */
  private static void assertInvalid(Function<String, Response> request, String what) {
    for (String id : new String[] {"abc", "12345", "not-a-uuid", "<script>"}) {
      Response r = request.apply(URLEncoder.encode(id, StandardCharsets.UTF_8));
      assertEquals("Invalid id", r.json().get("title").asText(), r.body());
      assertEquals(what + " id must be a UUID, got '" + id + "'", assertProblem(r, 400, "invalid-id"));
    }
  }

  private static long endpointJournalRows() {
    return pg.count("SELECT count(*) FROM event_journal WHERE persistence_id LIKE 'Endpoint|%'");
  }
}
