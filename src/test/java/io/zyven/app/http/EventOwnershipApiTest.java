package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import io.zyven.protocol.EventJournal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Who owns an event is known before the read model has its row: an event accepted a moment
 * ago is found through the first row of its journal. To make "a moment ago" last, the test
 * journals an event's {@code Received} itself, untagged, so that the projection never
 * writes its read-model row.
 */
class EventOwnershipApiTest {
  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;

  @BeforeAll
  static void start() {
    pg = TestPostgres.shared();
    node = TestNode.start(pg);
    api = node.api;
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void anEventTheReadModelDoesNotHaveYetIsItsOwnersAndNobodyElses() throws Exception {
    Tenant owner = api.createTenant("owner-" + UUID.randomUUID());
    Tenant stranger = api.createTenant("stranger-" + UUID.randomUUID());
    String eventId = UUID.randomUUID().toString();
    journalReceived(eventId, owner.id());
    assertEquals(0, pg.count("SELECT count(*) FROM events WHERE event_id = ?", UUID.fromString(eventId)));

    Response audit = api.get("/v1/events/" + eventId + "/audit", owner.apiKey());
    assertEquals(200, audit.status(), audit.body());
    assertEquals("Received", audit.json().get("entries").get(0).get("type").asText());

    assertProblem(api.get("/v1/events/" + eventId + "/audit", stranger.apiKey()), 404, "not-found");
    assertProblem(api.get("/v1/events/" + eventId, stranger.apiKey()), 404, "not-found");
    assertProblem(api.postJson("/v1/events/" + eventId + "/replay", stranger.apiKey(), ""), 404, "not-found");
    assertProblem(api.postJson("/v1/events/" + eventId + "/retry", stranger.apiKey(), ""), 404, "not-found");
    assertEquals(1, pg.journalRows(eventId), "the stranger's requests journaled nothing");
  }

  /** The event's first journal row, as its entity would write it, but with no tag. */
  private static void journalReceived(String eventId, String tenantId) throws Exception {
    EventJournal.Received received = new EventJournal.Received(
        eventId, tenantId, "owner.test", "{}", "key-" + eventId, "hash", "request", List.of(), Instant.now());
    Serialization serialization = SerializationExtension.get(node.zyven().system());
    Serializer serializer = serialization.findSerializerFor(received);
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "");
        PreparedStatement s = c.prepareStatement(
            "INSERT INTO event_journal (persistence_id, sequence_number, writer, write_timestamp, adapter_manifest,"
                + " event_ser_id, event_ser_manifest, event_payload) VALUES (?, 1, 'test', ?, '', ?, ?, ?)")) {
      s.setString(1, "Event|" + eventId);
      s.setLong(2, System.currentTimeMillis());
      s.setInt(3, serializer.identifier());
      s.setString(4, Serializers.manifestFor(serializer, received));
      s.setBytes(5, serializer.toBinary(received));
      s.executeUpdate();
    }
  }
}
