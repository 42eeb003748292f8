package io.zyven.app.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An endpoint that keeps failing past {@code zyven.circuit.disable-after} is disabled: the
 * circuit opening and the disabling are journaled by the endpoint, its waiting deliveries
 * are dead-lettered (to be recovered), and re-enabling it brings delivery back.
 */
class CircuitDisableTest {
  private static final Duration PATIENCE = Duration.ofSeconds(20);
  private static TestNode node;
  private static Receiver receiver;

  @BeforeAll
  static void start() throws Exception {
    receiver = new Receiver();
    node = TestNode.start(TestPostgres.shared(), Map.of(
        "zyven.delivery.retry-schedule", List.of("100ms"),
        "zyven.circuit.failure-threshold", 2,
        "zyven.circuit.cooldown", "200ms",
        "zyven.circuit.max-cooldown", "400ms",
        "zyven.circuit.disable-after", "1500ms"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    receiver.close();
  }

  @Test
  void anEndpointFailingPastDisableAfterIsDisabledAndCanBeEnabledAgain() {
    ApiClient api = node.api;
    long disabledBefore = disabledCounter(api);
    boolean[] up = {false};
    receiver.on("/failing", n -> Answer.status(up[0] ? 200 : 503));
    Tenant tenant = api.createTenant("disable");
    String endpointId = api.createEndpoint(tenant.apiKey(),
        "{\"url\":\"" + receiver.url("/failing") + "\",\"max_attempts\":100,\"timeout_ms\":500}");
    String eventId = api.ingest(tenant.apiKey(), "e1", "{\"type\":\"a.b\",\"payload\":{}}").json().get("event_id").asText();

    Await.until("endpoint disabled", PATIENCE,
        () -> !api.get("/v1/endpoints/" + endpointId, tenant.apiKey()).json().get("enabled").asBoolean());

    assertEquals(1, endpointJournal(endpointId, "CircuitOpened"));
    assertEquals(1, endpointJournal(endpointId, "Disabled"));
    assertTrue(disabledCounter(api) >= disabledBefore + 1, "counted in /metrics");
    Await.until("the waiting delivery is dead-lettered", PATIENCE,
        () -> api.get("/v1/events/" + eventId, tenant.apiKey()).json().get("status").asText().equals("DEAD_LETTERED"));
    assertEquals(422, api.ingest(tenant.apiKey(), "e2", "{\"type\":\"a.b\",\"payload\":{}}").status());

    up[0] = true;
    assertEquals(200, api.postJson("/v1/endpoints/" + endpointId + "/enable", tenant.apiKey(), "").status());
    assertTrue(api.get("/v1/endpoints/" + endpointId, tenant.apiKey()).json().get("enabled").asBoolean());
    assertEquals(202, api.postJson("/v1/events/" + eventId + "/replay", tenant.apiKey(), "").status());
    Await.until("delivered after enable and replay", PATIENCE,
        () -> api.get("/v1/events/" + eventId, tenant.apiKey()).json().get("status").asText().equals("DELIVERED"));
  }

  private static long disabledCounter(ApiClient api) {
    return api.get("/metrics", null).body().lines()
        .filter(l -> l.startsWith("zyven_endpoints_disabled_total "))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.indexOf(" ") + 1)))
        .findFirst().orElseThrow();
  }

  private static long endpointJournal(String endpointId, String eventType) {
    return TestPostgres.shared().count(
        "SELECT count(*) FROM event_journal WHERE persistence_id = ? AND event_ser_manifest LIKE ?",
        "Endpoint|" + endpointId, "%$" + eventType);
  }
}
