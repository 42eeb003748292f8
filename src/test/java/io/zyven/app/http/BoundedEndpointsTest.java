package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A tenant's endpoints are capped and listed in keyset pages, and a recover walks any
 * number of dead letters in batches: against a node with small bounds (5 endpoints per
 * tenant, recover batches of 3 with 2 replays outstanding) on real PostgreSQL.
 */
class BoundedEndpointsTest {
  private static final int CAP = 5;
  private static final Duration PATIENCE = Duration.ofSeconds(20);

  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;

  @BeforeAll
  static void start() throws Exception {
    pg = TestPostgres.shared();
    node =
        TestNode.start(
            pg,
            Map.of(
                "zyven.endpoints.max-per-tenant", CAP,
                "zyven.recover.batch-size", 3,
                "zyven.recover.max-in-flight", 2));
    api = node.api;
    receiver = new Receiver();
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.close();
    node.close();
  }

  @Test
  void pastTheCapCreateIs409AndWritesNothing() {
    Tenant tenant = api.createTenant("cap-" + UUID.randomUUID());
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < CAP; i++) ids.add(api.createEndpoint(tenant.apiKey(), "{\"url\":\"https://a.example.com/" + i + "\"}"));
    long journaled = pg.count("SELECT count(*) FROM event_journal WHERE persistence_id LIKE 'Endpoint|%'");

    Response refused = api.postJson("/v1/endpoints", tenant.apiKey(), "{\"url\":\"https://a.example.com/one-more\"}");

    String detail = assertProblem(refused, 409, "endpoint-limit-reached");
    assertTrue(detail.contains(String.valueOf(CAP)), detail);
    assertEquals(CAP, pg.count("SELECT count(*) FROM endpoints WHERE tenant_id = ?::uuid", tenant.id()), "no row");
    assertEquals(journaled, pg.count("SELECT count(*) FROM event_journal WHERE persistence_id LIKE 'Endpoint|%'"),
        "no endpoint journaled");

    // A deleted endpoint leaves room for a new one.
    assertEquals(204, api.delete("/v1/endpoints/" + ids.get(0), tenant.apiKey()).status());
    assertEquals(201, api.postJson("/v1/endpoints", tenant.apiKey(), "{\"url\":\"https://a.example.com/again\"}").status());
  }

  @Test
  void theListIsWalkedInKeysetPagesEveryEndpointOnceInOrder() {
    Tenant tenant = api.createTenant("pages-" + UUID.randomUUID());
    Set<String> created = new HashSet<>();
    for (int i = 0; i < CAP; i++) created.add(api.createEndpoint(tenant.apiKey(), "{\"url\":\"https://a.example.com/" + i + "\"}"));

    List<JsonNode> walked = new ArrayList<>();
    List<Integer> pageSizes = new ArrayList<>();
    String cursor = null;
    do {
      Response r = api.get("/v1/endpoints?limit=2" + (cursor == null ? "" : "&cursor=" + cursor), tenant.apiKey());
      assertEquals(200, r.status(), r.body());
      r.json().get("data").forEach(walked::add);
      pageSizes.add(r.json().get("data").size());
      cursor = r.json().get("next_cursor").isNull() ? null : r.json().get("next_cursor").asText();
    } while (cursor != null);

    assertEquals(List.of(2, 2, 1), pageSizes);
    List<String> ids = walked.stream().map(e -> e.get("id").asText()).toList();
    assertEquals(created, new HashSet<>(ids), "every endpoint");
    assertEquals(CAP, ids.size(), "each once");
    for (int i = 1; i < walked.size(); i++) {
      Instant before = Instant.parse(walked.get(i - 1).get("created_at").asText());
      Instant after = Instant.parse(walked.get(i).get("created_at").asText());
      assertTrue(before.isBefore(after) || (before.equals(after) && ids.get(i - 1).compareTo(ids.get(i)) < 0),
          "oldest first: " + ids);
    }
    // Without a limit: the first 20, and no next page here.
    Response all = api.get("/v1/endpoints", tenant.apiKey());
    assertEquals(CAP, all.json().get("data").size());
    assertTrue(all.json().get("next_cursor").isNull());
  }

  @Test
  void badPagingParametersAre400() {
    Tenant tenant = api.createTenant("bad-pages-" + UUID.randomUUID());
    assertProblem(api.get("/v1/endpoints?limit=0", tenant.apiKey()), 400, "invalid-request");
    assertProblem(api.get("/v1/endpoints?limit=101", tenant.apiKey()), 400, "invalid-request");
    assertProblem(api.get("/v1/endpoints?cursor=not-a-cursor", tenant.apiKey()), 400, "invalid-request");
    assertProblem(api.get("/v1/endpoints?page=2", tenant.apiKey()), 400, "invalid-request");
    String farFuture = java.util.Base64.getUrlEncoder().withoutPadding()
        .encodeToString(("999999999999:0:" + UUID.randomUUID()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertProblem(api.get("/v1/endpoints?cursor=" + farFuture, tenant.apiKey()), 400, "invalid-request");
  }

  @Test
  void recoverReplaysMoreDeadLettersThanOneBatch() {
    Tenant tenant = api.createTenant("recover-" + UUID.randomUUID());
    AtomicBoolean fixed = new AtomicBoolean();
    receiver.on("/recover", n -> Answer.status(fixed.get() ? 200 : 400)); // 400: dead-lettered at once
    String endpointId = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/recover") + "\"}");
    Instant since = Instant.now().minusSeconds(1);
    int events = 8; // three batches of 3
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      Response r = api.ingest(tenant.apiKey(), UUID.randomUUID().toString(), "{\"type\":\"a.b\",\"payload\":{\"i\":" + i + "}}");
      assertEquals(202, r.status(), r.body());
      ids.add(r.json().get("event_id").asText());
    }
    Await.until("the read model has every dead letter", PATIENCE, () -> pg.count(
        "SELECT count(*) FROM deliveries WHERE endpoint_id = ?::uuid AND status = 'DEAD_LETTERED'", endpointId) == events);
    fixed.set(true);

    Response r = api.postJson("/v1/endpoints/" + endpointId + "/recover", tenant.apiKey(), "{\"since\":\"" + since + "\"}");

    assertEquals(202, r.status(), r.body());
    assertEquals(events, r.json().get("dead_letters").asInt());
    Await.until("every dead letter delivered through the receiver", PATIENCE, () -> pg.count(
        "SELECT count(*) FROM deliveries WHERE endpoint_id = ?::uuid AND status = 'DELIVERED'", endpointId) == events);
    Set<String> delivered = new HashSet<>();
    receiver.requests("/recover").stream().filter(q -> q.answered() == 200).forEach(q -> delivered.add(q.header("webhook-id")));
    assertEquals(new HashSet<>(ids), delivered, "each event sent again and answered 200");
  }
}
