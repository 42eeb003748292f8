package io.zyven.app.delivery;

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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/events/{id}/retry}: a delivery whose next attempt is ten minutes away is
 * sent at once, seen from the receiver. The event may have left memory meanwhile (its retry
 * is distant, so it passivates itself), and the test watches the read model, not the
 * entity, so nothing but the retry request wakes it.
 */
class RetryNowTest {
  private static final Duration PATIENCE = Duration.ofSeconds(15);

  private static TestNode node;
  private static ApiClient api;
  private Receiver receiver;
  private Tenant tenant;

  @BeforeAll
  static void startNode() {
    node = TestNode.start(TestPostgres.shared(), Map.of(
        "zyven.delivery.retry-schedule", List.of("10m"),
        "zyven.delivery.jitter", 0.0));
    api = node.api;
  }

  @AfterAll
  static void stopNode() throws Exception {
    node.close();
  }

  @BeforeEach
  void receiverAndTenant() throws Exception {
    receiver = new Receiver();
    tenant = api.createTenant("retry-now-" + UUID.randomUUID());
  }

  @AfterEach
  void stopReceiver() {
    receiver.close();
  }

  @Test
  void aDeliveryWaitingTenMinutesIsSentNowAndTheRequestIsJournaledWithWhoAsked() {
    receiver.on("/hook", n -> Answer.status(n == 1 ? 503 : 200));
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/hook") + "\"}");
    String id = ingest("a");
    Await.until("a retry scheduled", PATIENCE, () -> api.listIds(tenant.apiKey(), "RETRY_SCHEDULED").contains(id));

    Response r = api.postJson("/v1/events/" + id + "/retry", tenant.apiKey(), "");

    assertEquals(202, r.status(), r.body());
    assertEquals(id, r.json().get("event_id").asText());
    assertEquals(1, r.json().get("endpoint_ids").size());
    Await.until("the second attempt at the receiver", PATIENCE, () -> receiver.requests("/hook").size() == 2);
    Await.until("delivered in the read model", PATIENCE, () -> api.listIds(tenant.apiKey(), "DELIVERED").contains(id));
    List<JsonNode> asked = entries(id, "RetryRequested");
    assertEquals(1, asked.size());
    assertEquals("tenant:" + tenant.id(), asked.get(0).get("by").asText());
    assertEquals(2, asked.get(0).get("attempt").asInt(), "the attempt the schedule would have made");
  }

  @Test
  void theEventShowsEachAttemptsResponseBody() {
    receiver.on("/body", n -> Answer.status(503));
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/body") + "\"}");
    String id = ingest("b");
    Await.until("a retry scheduled", PATIENCE, () -> api.listIds(tenant.apiKey(), "RETRY_SCHEDULED").contains(id));

    JsonNode attempt = api.get("/v1/events/" + id, tenant.apiKey()).json().get("deliveries").get(0).get("attempts").get(0);

    assertEquals(503, attempt.get("status_code").asInt());
    assertEquals("answer 503", attempt.get("response_body").asText());
  }

  @Test
  void onlyOneEndpointsDeliveryWhenOneIsNamed() {
    receiver.on("/one", n -> Answer.status(n == 1 ? 503 : 200));
    receiver.on("/two", n -> Answer.status(n == 1 ? 503 : 200));
    String one = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/one") + "\"}");
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/two") + "\"}");
    String id = ingest("c");
    Await.until("both retries scheduled", PATIENCE, () -> receiver.requests("/one").size() == 1
        && receiver.requests("/two").size() == 1
        && api.listIds(tenant.apiKey(), "RETRY_SCHEDULED").contains(id));

    Response r = api.postJson("/v1/events/" + id + "/retry", tenant.apiKey(), "{\"endpoint_id\":\"" + one + "\"}");

    assertEquals(202, r.status(), r.body());
    assertEquals(List.of(one), ApiClient.JSON.convertValue(r.json().get("endpoint_ids"), List.class));
    // Journaled before the 202: exactly one retry requested, for endpoint one.
    List<JsonNode> asked = entries(id, "RetryRequested");
    assertEquals(1, asked.size());
    assertEquals(one, asked.get(0).get("endpoint_id").asText());
    Await.until("endpoint one's second attempt", PATIENCE, () -> receiver.requests("/one").size() == 2);
  }

  @Test
  void aDeliveredEventHasNothingToRetry() {
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
    String id = ingest("d");
    Await.until("delivered", PATIENCE, () -> api.listIds(tenant.apiKey(), "DELIVERED").contains(id));
    long rows = journalEntries(id);

    Response r = api.postJson("/v1/events/" + id + "/retry", tenant.apiKey(), "");

    assertProblem(r, 409);
    assertEquals("urn:zyven:problem:nothing-to-retry", r.json().get("type").asText());
    assertEquals(rows, journalEntries(id), "nothing journaled");
  }

  @Test
  void anotherTenantsEventIsNotFound() {
    receiver.on("/theirs", n -> Answer.status(503));
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/theirs") + "\"}");
    String id = ingest("e");
    Await.until("a retry scheduled", PATIENCE, () -> api.listIds(tenant.apiKey(), "RETRY_SCHEDULED").contains(id));
    Tenant other = api.createTenant("other-" + UUID.randomUUID());

    assertProblem(api.postJson("/v1/events/" + id + "/retry", other.apiKey(), ""), 404);
    assertProblem(api.postJson("/v1/events/" + UUID.randomUUID() + "/retry", tenant.apiKey(), ""), 404);
    assertTrue(entries(id, "RetryRequested").isEmpty(), "nothing journaled for the other tenant's request");
  }

  private String ingest(String key) {
    Response r = api.ingest(tenant.apiKey(), key, "{\"type\":\"order.paid\",\"payload\":{\"n\":1}}");
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  private long journalEntries(String id) {
    return api.get("/v1/events/" + id + "/audit", tenant.apiKey()).json().get("entries").size();
  }

  private List<JsonNode> entries(String eventId, String type) {
    List<JsonNode> found = new ArrayList<>();
    api.get("/v1/events/" + eventId + "/audit", tenant.apiKey()).json().get("entries").forEach(e -> {
      if (e.get("type").asText().equals(type)) found.add(e);
    });
    return found;
  }
}
