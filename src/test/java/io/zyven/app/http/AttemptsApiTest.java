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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An event keeps only each delivery's latest attempts in memory ({@code
 * zyven.delivery.attempts-kept}, 2 here), and shows those in {@code GET /v1/events/{id}};
 * the journal keeps every one, and {@code GET /v1/events/{id}/attempts} pages through them
 * all from the read model.
 */
class AttemptsApiTest {
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
                "zyven.delivery.attempts-kept", 2,
                "zyven.delivery.retry-schedule", List.of("20ms"),
                "zyven.delivery.jitter", 0));
    api = node.api;
    receiver = new Receiver();
    receiver.on("/failing", n -> Answer.status(500));
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.close();
    node.close();
  }

  @Test
  void theEventShowsItsLatestAttemptsAndTheAttemptsListHasThemAll() {
    Tenant tenant = api.createTenant("attempts-" + UUID.randomUUID());
    String endpointId = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/failing") + "\",\"max_attempts\":5}");
    String eventId = ingest(tenant);
    Await.until("five attempts, then dead-lettered, in the read model", PATIENCE, () -> pg.count(
        "SELECT count(*) FROM deliveries WHERE event_id = ?::uuid AND status = 'DEAD_LETTERED'", eventId) == 1
        && pg.count("SELECT count(*) FROM attempts WHERE event_id = ?::uuid", eventId) == 5);

    JsonNode delivery = api.get("/v1/events/" + eventId, tenant.apiKey()).json().get("deliveries").get(0);
    assertEquals(5, delivery.get("attempt_count").asInt());
    assertEquals(List.of(4, 5), numbers(delivery.get("attempts")), "the entity keeps the latest two");
    assertEquals(5, StreamSupport.stream(api.get("/v1/events/" + eventId + "/audit", tenant.apiKey()).json()
        .get("entries").spliterator(), false).filter(e -> e.has("attempt") && e.get("attempt").isObject()).count(),
        "the journal keeps all five");

    List<JsonNode> walked = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      Response r = api.get("/v1/events/" + eventId + "/attempts?limit=2" + (cursor == null ? "" : "&cursor=" + cursor),
          tenant.apiKey());
      assertEquals(200, r.status(), r.body());
      r.json().get("data").forEach(walked::add);
      cursor = r.json().get("next_cursor").isNull() ? null : r.json().get("next_cursor").asText();
      pages++;
    } while (cursor != null);
    assertEquals(3, pages);
    assertEquals(List.of(1, 2, 3, 4, 5), walked.stream().map(a -> a.get("number").asInt()).toList());
    for (JsonNode a : walked) {
      assertEquals(endpointId, a.get("endpoint_id").asText());
      assertEquals(500, a.get("status_code").asInt());
      assertTrue(a.has("started_at") && a.has("latency_ms") && a.has("error"), a.toString());
    }
    Response one = api.get("/v1/events/" + eventId + "/attempts?endpoint_id=" + endpointId, tenant.apiKey());
    assertEquals(5, one.json().get("data").size());
    assertTrue(one.json().get("next_cursor").isNull());
  }

  @Test
  void anotherTenantsEventOrAnUnknownOneIs404AndBadParametersAre400() {
    Tenant tenant = api.createTenant("attempts-own-" + UUID.randomUUID());
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/failing") + "\",\"max_attempts\":1}");
    String eventId = ingest(tenant);
    Await.until("in the read model", PATIENCE,
        () -> pg.count("SELECT count(*) FROM deliveries WHERE event_id = ?::uuid", eventId) == 1);
    Tenant other = api.createTenant("attempts-other-" + UUID.randomUUID());

    assertProblem(api.get("/v1/events/" + eventId + "/attempts", other.apiKey()), 404, "not-found");
    assertProblem(api.get("/v1/events/" + UUID.randomUUID() + "/attempts", tenant.apiKey()), 404, "not-found");
    assertProblem(api.get("/v1/events/" + eventId + "/attempts?limit=0", tenant.apiKey()), 400, "invalid-request");
    assertProblem(api.get("/v1/events/" + eventId + "/attempts?cursor=xyz", tenant.apiKey()), 400, "invalid-request");
    assertProblem(api.get("/v1/events/" + eventId + "/attempts?status=x", tenant.apiKey()), 400, "invalid-request");
    assertProblem(api.get("/v1/events/" + eventId + "/attempts?endpoint_id=nope", tenant.apiKey()), 400, "invalid-request");
    assertProblem(api.get("/v1/events/not-an-id/attempts", tenant.apiKey()), 400, "invalid-id");
  }

  private static String ingest(Tenant tenant) {
    Response r = api.ingest(tenant.apiKey(), UUID.randomUUID().toString(), "{\"type\":\"a.b\",\"payload\":{}}");
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  private static List<Integer> numbers(JsonNode attempts) {
    List<Integer> numbers = new ArrayList<>();
    attempts.forEach(a -> numbers.add(a.get("number").asInt()));
    return numbers;
  }
}
