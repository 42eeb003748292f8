package io.zyven.app.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.event.EventEntity;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.DeliveryStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/events/{id}/audit} reads the journal itself: every transition, in order,
 * with its time and reason. Transitions are driven through sharding, as delivery will.
 */
class AuditApiTest {
  private static TestNode node;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    node = TestNode.start(TestPostgres.shared());
    api = node.api;
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void auditListsEveryTransitionInJournalOrder() throws Exception {
    Tenant tenant = api.createTenant("audit");
    String endpoint = api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/hook\"}");
    String id = api.ingest(tenant.apiKey(), "audit-1", "{\"type\":\"user.created\",\"payload\":{\"u\":1}}")
        .json().get("event_id").asText();

    Instant retryAt = Instant.now().plusSeconds(5);
    transition(id, r -> new EventEntity.StartAttempt(endpoint, "first attempt", r));
    transition(id, r -> new EventEntity.RecordAttempt(
        endpoint, attempt(1, 503, "HTTP 503"), DeliveryStatus.RETRY_SCHEDULED, retryAt, "retryable", r));
    transition(id, r -> new EventEntity.StartAttempt(endpoint, "retry due", r));
    transition(id, r -> new EventEntity.RecordAttempt(
        endpoint, attempt(2, 200, null), DeliveryStatus.DELIVERED, null, "2xx", r));

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
    assertEquals(List.of("Received", "DispatchStarted", "RetryScheduled", "DispatchStarted", "Delivered"), types);

    JsonNode entries = audit.get("entries");
    assertEquals("user.created", entries.get(0).get("event_type").asText());
    assertEquals(1, entries.get(0).get("payload").get("u").asInt());
    assertFalse(entries.get(0).has("tenant_id"));
    assertEquals("RETRY_SCHEDULED", entries.get(2).get("status").asText());
    assertEquals(retryAt, Instant.parse(entries.get(2).get("next_attempt_at").asText()));
    assertEquals("retryable", entries.get(2).get("reason").asText());
    assertEquals(503, entries.get(2).get("attempt").get("status_code").asInt());
    assertEquals(2, entries.get(3).get("attempt").asInt());
    assertEquals("DELIVERED", entries.get(4).get("status").asText());

    JsonNode event = api.get("/v1/events/" + id, tenant.apiKey()).json();
    assertEquals("DELIVERED", event.get("status").asText());
    assertEquals(2, event.get("deliveries").get(0).get("attempt_count").asInt());
    assertEquals(2, event.get("deliveries").get(0).get("attempts").size());
  }

  @Test
  void replayIsJournaledWithWhoAndWhen() throws Exception {
    Tenant tenant = api.createTenant("audit-replay");
    String endpoint = api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/hook\"}");
    String id = api.ingest(tenant.apiKey(), "audit-2", "{\"type\":\"user.created\",\"payload\":{}}")
        .json().get("event_id").asText();
    transition(id, r -> new EventEntity.StartAttempt(endpoint, "first attempt", r));
    transition(id, r -> new EventEntity.RecordAttempt(
        endpoint, attempt(1, 400, "HTTP 400"), DeliveryStatus.DEAD_LETTERED, null, "permanent", r));

    AuditApiTest.<EventEntity.ReplayStarted>ask(id, r -> new EventEntity.Replay(tenant.id(), null, "operator@example.com", r));

    JsonNode entries = api.get("/v1/events/" + id + "/audit", tenant.apiKey()).json().get("entries");
    JsonNode replayed = entries.get(entries.size() - 1);
    assertEquals("Replayed", replayed.get("type").asText());
    assertEquals("operator@example.com", replayed.get("by").asText());
    assertEquals("DISPATCHING", replayed.get("status").asText());
    assertTrue(replayed.hasNonNull("at"));
  }

  private static Attempt attempt(int number, int status, String error) {
    return new Attempt(number, Instant.now(), status, 12, error, "");
  }

  private static void transition(
      String eventId, Function<ActorRef<StatusReply<EventEntity.State>>, EventEntity.Command> command)
      throws Exception {
    ask(eventId, command);
  }

  private static <T> T ask(
      String eventId, Function<ActorRef<StatusReply<T>>, EventEntity.Command> command) throws Exception {
    return ClusterSharding.get(node.zyven().system())
        .entityRefFor(EventEntity.TYPE_KEY, eventId)
        .<T>askWithStatus(command::apply, Duration.ofSeconds(5))
        .toCompletableFuture()
        .get();
  }
}
