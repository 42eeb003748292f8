package io.zyven.app.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/events/{id}/audit} reads the journal itself: every transition of a real
 * delivery, in order, with its time and reason.
 */
class AuditApiTest {
  private static TestNode node;
  private static ApiClient api;
  private static Receiver receiver;

  @BeforeAll
  static void start() throws Exception {
    receiver = new Receiver();
    node = TestNode.start(TestPostgres.shared(), Map.of("zyven.delivery.retry-schedule", List.of("100ms")));
    api = node.api;
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    receiver.close();
  }

  @Test
  void auditListsEveryTransitionInJournalOrder() {
    receiver.on("/flaky", n -> Answer.status(n == 1 ? 503 : 200));
    Tenant tenant = api.createTenant("audit");
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/flaky") + "\"}");
    String id = api.ingest(tenant.apiKey(), "audit-1", "{\"type\":\"user.created\",\"payload\":{\"u\":1}}")
        .json().get("event_id").asText();
    Await.until("delivered", Duration.ofSeconds(10),
        () -> api.get("/v1/events/" + id, tenant.apiKey()).json().get("status").asText().equals("DELIVERED"));

    JsonNode audit = api.get("/v1/events/" + id + "/audit", tenant.apiKey()).json();

    assertEquals(id, audit.get("event_id").asText());
    List<String> types = new ArrayList<>();
    long seq = 0;
    Instant previous = Instant.EPOCH;
    for (JsonNode entry : audit.get("entries")) {
      types.add(entry.get("type").asText());
      assertEquals(++seq, entry.get("sequence_nr").asLong());
      Instant at = Instant.parse(entry.get("timestamp").asText());
      assertFalse(at.isBefore(previous), "timestamps never go back");
      previous = at;
    }
    assertEquals(List.of("Received", "RetryScheduled", "DispatchStarted", "Delivered"), types);

    JsonNode entries = audit.get("entries");
    assertEquals("user.created", entries.get(0).get("event_type").asText());
    assertEquals(1, entries.get(0).get("payload").get("u").asInt());
    assertFalse(entries.get(0).has("tenant_id"));
    // The acceptance began the first attempt.
    assertTrue(entries.get(0).get("first_attempt_started").asBoolean());
    assertEquals("RETRY_SCHEDULED", entries.get(1).get("status").asText());
    assertEquals(1, entries.get(1).get("attempt").get("number").asInt());
    assertEquals(503, entries.get(1).get("attempt").get("status_code").asInt());
    assertTrue(entries.get(1).hasNonNull("next_attempt_at"));
    assertEquals(2, entries.get(2).get("attempt").asInt());
    assertEquals("DELIVERED", entries.get(3).get("status").asText());
    assertEquals(200, entries.get(3).get("attempt").get("status_code").asInt());
  }

  @Test
  void replayIsJournaledWithWhoAndWhen() {
    receiver.on("/refuses-once", n -> Answer.status(n == 1 ? 400 : 200));
    Tenant tenant = api.createTenant("audit-replay");
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/refuses-once") + "\"}");
    String id = api.ingest(tenant.apiKey(), "audit-2", "{\"type\":\"user.created\",\"payload\":{}}")
        .json().get("event_id").asText();
    Await.until("dead-lettered", Duration.ofSeconds(10),
        () -> api.get("/v1/events/" + id, tenant.apiKey()).json().get("status").asText().equals("DEAD_LETTERED"));

    assertEquals(202, api.postJson("/v1/events/" + id + "/replay", tenant.apiKey(), "{}").status());
    Await.until("delivered after replay", Duration.ofSeconds(10),
        () -> api.get("/v1/events/" + id, tenant.apiKey()).json().get("status").asText().equals("DELIVERED"));

    JsonNode entries = api.get("/v1/events/" + id + "/audit", tenant.apiKey()).json().get("entries");
    List<String> types = new ArrayList<>();
    entries.forEach(e -> types.add(e.get("type").asText()));
    assertEquals(List.of("Received", "DeadLettered", "Replayed", "Delivered"), types);
    JsonNode replayed = entries.get(2);
    assertEquals("tenant:" + tenant.id(), replayed.get("by").asText());
    assertEquals("DISPATCHING", replayed.get("status").asText());
    assertEquals(2, replayed.get("attempt").asInt());
    assertTrue(replayed.hasNonNull("at"));
  }
}
