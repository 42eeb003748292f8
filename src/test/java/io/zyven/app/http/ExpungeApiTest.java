package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
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
 * {@code DELETE /v1/events/{id}/payload} against a real node and PostgreSQL: the payload
 * is gone from the API, the journal's bytes and the read model; the audit says who; a
 * delivery still waiting is dead-lettered and its receiver hears nothing more; and a node
 * started afresh on the same database recovers the event without it.
 */
class ExpungeApiTest {
  private static final Duration PATIENCE = Duration.ofSeconds(15);
  private static final String PERSONAL = "Ada Lovelace 1815";
  private static final Map<String, Object> CONFIG = Map.of(
      "zyven.delivery.retry-schedule", List.of("10m"),
      "zyven.delivery.jitter", 0.0);

  private static final TestPostgres pg = TestPostgres.shared();
  private static TestNode node;
  private static ApiClient api;
  private Receiver receiver;
  private Tenant tenant;

  @BeforeAll
  static void startNode() {
    node = TestNode.start(pg, CONFIG);
    api = node.api;
  }

  @AfterAll
  static void stopNode() throws Exception {
    node.close();
  }

  @BeforeEach
  void receiverAndTenant() throws Exception {
    receiver = new Receiver();
    tenant = api.createTenant("expunge-" + UUID.randomUUID());
  }

  @AfterEach
  void stopReceiver() {
    receiver.close();
  }

  @Test
  void aDeliveredEventLosesItsPayloadEverywhereAndTheAuditSaysWho() {
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
    String id = ingest("delivered");
    Await.until("delivered in the read model", PATIENCE, () -> api.listIds(tenant.apiKey(), "DELIVERED").contains(id));
    assertTrue(journalHolds(id, PERSONAL), "the journal held the payload before");

    Response r = api.delete("/v1/events/" + id + "/payload", tenant.apiKey());

    assertEquals(204, r.status(), r.body());
    JsonNode event = api.get("/v1/events/" + id, tenant.apiKey()).json();
    assertTrue(event.get("payload").isNull(), event.toString());
    Instant expungedAt = Instant.parse(event.get("payload_expunged_at").asText());
    assertEquals("DELIVERED", event.get("status").asText(), "a finished delivery stays as it was");
    assertFalse(journalHolds(id, PERSONAL), "no journal row of the event holds the payload");
    assertFalse(event.toString().contains(PERSONAL));

    JsonNode entries = audit(id);
    JsonNode received = entries.get(0);
    assertEquals("Received", received.get("type").asText());
    assertTrue(received.get("payload").isNull(), received.toString());
    List<JsonNode> expunged = entries(entries, "PayloadExpunged");
    assertEquals(1, expunged.size());
    assertEquals("tenant:" + tenant.id(), expunged.get(0).get("by").asText());
    assertEquals(expungedAt, Instant.parse(expunged.get(0).get("at").asText()));
    assertFalse(entries.toString().contains(PERSONAL));

    Await.until("the read model records the expunge", PATIENCE,
        () -> pg.count("SELECT count(*) FROM events WHERE event_id = ?::uuid AND payload_expunged_at IS NOT NULL", id) == 1);
    assertFalse(readModelHolds(id, PERSONAL), "no read-model row of the event holds the payload");

    Response replay = api.postJson("/v1/events/" + id + "/replay", tenant.apiKey(), "");
    assertProblem(replay, 409);
    assertEquals("urn:zyven:problem:payload-expunged", replay.json().get("type").asText());
  }

  @Test
  void aDeliveryWaitingForItsRetryIsDeadLetteredAndTheReceiverHearsNothingMore() {
    receiver.on("/down", n -> Answer.status(503));
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/down") + "\"}");
    String id = ingest("waiting");
    Await.until("a retry scheduled", PATIENCE, () -> api.listIds(tenant.apiKey(), "RETRY_SCHEDULED").contains(id));
    assertEquals(1, receiver.requests("/down").size());

    assertEquals(204, api.delete("/v1/events/" + id + "/payload", tenant.apiKey()).status());

    JsonNode delivery = api.get("/v1/events/" + id, tenant.apiKey()).json().get("deliveries").get(0);
    assertEquals("DEAD_LETTERED", delivery.get("status").asText());
    assertEquals("payload expunged", delivery.get("last_error").asText());
    assertEquals(1, delivery.get("attempt_count").asInt(), "no attempt was made for the decision");
    List<JsonNode> dead = entries(audit(id), "DeadLettered");
    assertEquals(1, dead.size());
    assertEquals("payload expunged", dead.get(0).get("reason").asText());
    Await.until("dead-lettered in the read model", PATIENCE,
        () -> api.listIds(tenant.apiKey(), "DEAD_LETTERED").contains(id));
    // Nothing is left to retry, and the retry now that would have sent it is refused.
    assertProblem(api.postJson("/v1/events/" + id + "/retry", tenant.apiKey(), ""), 409);
    assertEquals(1, receiver.requests("/down").size(), "the receiver heard nothing more");
  }

  @Test
  void anAttemptWaitingInTheEndpointsQueueIsNotSentAfterTheExpunge() {
    // One request at a time: the first event holds the endpoint, the second waits in its queue.
    receiver.on("/one-at-a-time", n -> n == 1 ? Answer.status(200).after(5000) : Answer.status(200));
    String endpoint = api.createEndpoint(tenant.apiKey(),
        "{\"url\":\"" + receiver.url("/one-at-a-time") + "\",\"max_in_flight\":1}");
    String holding = ingest("holding");
    Await.until("the first event on the wire", PATIENCE, () -> receiver.arrivals("/one-at-a-time").size() == 1);
    String queued = ingest("queued");
    Await.until("the second event waiting in the endpoint's queue", PATIENCE,
        () -> api.get("/v1/endpoints/" + endpoint + "/health", tenant.apiKey()).json().path("queued").asInt() == 1);

    assertEquals(204, api.delete("/v1/events/" + queued + "/payload", tenant.apiKey()).status());
    assertEquals(1, receiver.arrivals("/one-at-a-time").size(), "the premise: the first is still on the wire");
    String after = ingest("after");

    // The queue is first in, first out: once the third event is in, the second would have been.
    Await.until("the third event delivered", PATIENCE, () -> receiver.requests("/one-at-a-time").stream()
        .anyMatch(r -> after.equals(r.header("webhook-id"))));
    List<String> heard = receiver.requests("/one-at-a-time").stream().map(r -> r.header("webhook-id")).toList();
    assertEquals(List.of(holding, after), heard, "the expunged event was never sent");
    JsonNode delivery = api.get("/v1/events/" + queued, tenant.apiKey()).json().get("deliveries").get(0);
    assertEquals("DEAD_LETTERED", delivery.get("status").asText());
    assertEquals("payload expunged", delivery.get("last_error").asText());
  }

  @Test
  void aSecondExpungeIsAcceptedAndJournalsNothing() {
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
    String id = ingest("twice");
    Await.until("delivered", PATIENCE, () -> api.listIds(tenant.apiKey(), "DELIVERED").contains(id));
    assertEquals(204, api.delete("/v1/events/" + id + "/payload", tenant.apiKey()).status());
    long rows = pg.journalRows(id);
    String at = api.get("/v1/events/" + id, tenant.apiKey()).json().get("payload_expunged_at").asText();

    assertEquals(204, api.delete("/v1/events/" + id + "/payload", tenant.apiKey()).status());

    assertEquals(rows, pg.journalRows(id), "nothing journaled again");
    assertEquals(at, api.get("/v1/events/" + id, tenant.apiKey()).json().get("payload_expunged_at").asText());
  }

  @Test
  void aReadKeyIsForbiddenAndAnotherTenantFindsNothingAndNothingIsWritten() {
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
    String id = ingest("guarded");
    Await.until("delivered", PATIENCE, () -> api.listIds(tenant.apiKey(), "DELIVERED").contains(id));
    long rows = pg.journalRows(id);
    Response key = api.postJson("/v1/api-keys", tenant.apiKey(), "{\"name\":\"reader\",\"scopes\":[\"read\"]}");
    assertEquals(201, key.status(), key.body());
    Tenant other = api.createTenant("expunge-other-" + UUID.randomUUID());

    assertProblem(api.delete("/v1/events/" + id + "/payload", key.json().get("key").asText()), 403, "forbidden");
    assertProblem(api.delete("/v1/events/" + id + "/payload", other.apiKey()), 404);
    assertProblem(api.delete("/v1/events/" + UUID.randomUUID() + "/payload", tenant.apiKey()), 404);

    assertEquals(rows, pg.journalRows(id), "nothing journaled");
    assertTrue(journalHolds(id, PERSONAL), "the payload is still there");
    assertFalse(api.get("/v1/events/" + id, tenant.apiKey()).json().get("payload").isNull());
  }

  @Test
  void aNodeStartedAfreshRecoversTheEventWithoutItsPayload() throws Exception {
    receiver.on("/down", n -> Answer.status(503));
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/down") + "\"}");
    String id = ingest("recovered");
    Await.until("a retry scheduled", PATIENCE, () -> api.listIds(tenant.apiKey(), "RETRY_SCHEDULED").contains(id));
    assertEquals(204, api.delete("/v1/events/" + id + "/payload", tenant.apiKey()).status());
    JsonNode before = api.get("/v1/events/" + id, tenant.apiKey()).json();

    // Nothing of the entity survives in memory: its state comes from the journal alone.
    node.close();
    node = TestNode.start(pg, CONFIG);
    api = node.api;

    JsonNode after = api.get("/v1/events/" + id, tenant.apiKey()).json();
    assertTrue(after.get("payload").isNull(), after.toString());
    assertEquals(before.get("payload_expunged_at").asText(), after.get("payload_expunged_at").asText());
    assertEquals("DEAD_LETTERED", after.get("deliveries").get(0).get("status").asText());
    assertEquals("payload expunged", after.get("deliveries").get(0).get("last_error").asText());
    assertEquals(1, receiver.requests("/down").size(), "the recovered event sends nothing");
  }

  private String ingest(String key) {
    Response r = api.ingest(tenant.apiKey(), key,
        "{\"type\":\"user.created\",\"payload\":{\"name\":\"" + PERSONAL + "\"}}");
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  private JsonNode audit(String id) {
    Response r = api.get("/v1/events/" + id + "/audit", tenant.apiKey());
    assertEquals(200, r.status(), r.body());
    return r.json().get("entries");
  }

  private static List<JsonNode> entries(JsonNode entries, String type) {
    List<JsonNode> found = new ArrayList<>();
    entries.forEach(e -> {
      if (e.get("type").asText().equals(type)) found.add(e);
    });
    return found;
  }

  /** Whether any journal row of the event holds {@code text} in its stored bytes. */
  private static boolean journalHolds(String id, String text) {
    return anyRowHolds("SELECT event_payload FROM event_journal WHERE persistence_id = ?", "Event|" + id, text);
  }

  /** Whether any read-model row of the event holds {@code text} in any column. */
  private static boolean readModelHolds(String id, String text) {
    for (String table : List.of("events", "deliveries", "attempts")) {
      if (anyRowHolds("SELECT t::text FROM " + table + " t WHERE event_id = ?::uuid", id, text)) return true;
    }
    return false;
  }

  private static boolean anyRowHolds(String sql, String param, String text) {
    byte[] needle = text.getBytes(StandardCharsets.UTF_8);
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "");
        PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, param);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          byte[] row = sql.contains("::text") ? rs.getString(1).getBytes(StandardCharsets.UTF_8) : rs.getBytes(1);
          if (indexOf(row, needle) >= 0) return true;
        }
      }
      return false;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) continue outer;
      }
      return i;
    }
    return -1;
  }
}
