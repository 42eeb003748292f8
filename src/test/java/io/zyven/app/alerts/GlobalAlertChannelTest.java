package io.zyven.app.alerts;

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
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator's global channel (zyven.alerts.global): every tenant's operational events,
 * whether or not the tenant has channels of its own, sent again when it failed.
 */
class GlobalAlertChannelTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static TestNode node;
  private static Receiver receiver;
  private static ApiClient api;

  @BeforeAll
  static void start() throws Exception {
    receiver = new Receiver();
    // The operator's Slack fails once, then takes everything.
    receiver.on("/global/slack", n -> Answer.status(n == 1 ? 503 : 200));
    node = TestNode.start(TestPostgres.shared(), Map.of(
        "zyven.alerts.tick", "100ms",
        "zyven.alerts.group-wait", "100ms",
        "zyven.alerts.group-interval", "200ms",
        "zyven.alerts.global.kind", "slack",
        "zyven.alerts.global.url", receiver.url("/global/slack"),
        "zyven.alerts.global.event-types", "delivery.dead_lettered"));
    api = node.api;
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    receiver.close();
  }

  @Test
  void theOperatorHearsOfEveryTenant() throws Exception {
    receiver.on("/global/reject", n -> Answer.status(400));
    Tenant first = api.createTenant("global-1");
    Tenant second = api.createTenant("global-2");
    for (Tenant tenant : List.of(first, second)) {
      String endpointId = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/global/reject") + "\"}");
      Response r = api.ingest(tenant.apiKey(), "k-" + UUID.randomUUID(),
          "{\"type\":\"order.created\",\"payload\":{},\"endpoint_id\":\"" + endpointId + "\"}");
      assertEquals(202, r.status(), r.body());
    }

    // Other tests' tenants share this database: only these two count here.
    for (Tenant tenant : List.of(first, second)) {
      Await.until("a message about " + tenant.id(), PATIENCE, () -> about(tenant).size() == 1);
      assertTrue(about(tenant).get(0).contains("dead-lettered"), about(tenant).toString());
    }
    assertEquals(503, receiver.requests("/global/slack").get(0).answered(), "the first try failed and was made again");
    Await.until("nothing more to send", PATIENCE, () -> TestPostgres.shared().count(
        "SELECT count(*) FROM operational_events o LEFT JOIN alert_batches b ON b.id = o.batch_id"
            + " WHERE o.tenant_id IN (?::uuid, ?::uuid) AND b.sent_at IS NULL", first.id(), second.id()) == 0);
    for (Tenant tenant : List.of(first, second)) assertEquals(1, about(tenant).size(), "once per tenant");
  }

  /** The texts of the operator's messages about a tenant, answered 200. */
  private static List<String> about(Tenant tenant) {
    return receiver.requests("/global/slack").stream().filter(r -> r.answered() == 200)
        .map(r -> json(r.bodyText()).get("text").asText())
        .filter(t -> t.contains("tenant " + tenant.id())).toList();
  }

  private static JsonNode json(String text) {
    try {
      return ApiClient.JSON.readTree(text);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
