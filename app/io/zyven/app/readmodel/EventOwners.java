package io.zyven.app.readmodel;

import io.zyven.app.event.EventEntity;
import io.zyven.app.store.Database;
import io.zyven.protocol.EventJournal;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;

/**
 * Which tenant an event belongs to, found without starting its entity or reading its
 * history: a request for another tenant's event must have no side effect at all, and
 * starting an entity resumes its deliveries.
 *
 * <p>The read model's {@code events} row says it. An event accepted a moment ago may not
 * have its row yet (the projection trails the journal by about half a second), so without
 * a row the journal's first row is read, and only that one: it is always the event's
 * {@code Received}, which names the tenant.
 */
public final class EventOwners {
  private final Database db;
  private final Serialization serialization;

  public EventOwners(Database db, ActorSystem<?> system) {
    this.db = db;
    this.serialization = SerializationExtension.get(system);
  }

  /** The owning tenant's id, or empty when there is no such event. */
  public CompletionStage<Optional<String>> owner(String eventId) {
    return db.query(
        c -> {
          try (PreparedStatement s = c.prepareStatement("SELECT tenant_id FROM events WHERE event_id = ?")) {
            s.setObject(1, UUID.fromString(eventId));
            try (ResultSet r = s.executeQuery()) {
              if (r.next()) return Optional.of(r.getString(1));
            }
          }
          try (PreparedStatement s = c.prepareStatement(
              "SELECT event_ser_id, event_ser_manifest, event_payload FROM event_journal"
                  + " WHERE persistence_id = ? AND sequence_number = 1 AND NOT deleted")) {
            s.setString(1, PersistenceId.of(EventEntity.TYPE_KEY.name(), eventId).id());
            try (ResultSet r = s.executeQuery()) {
              if (!r.next()) return Optional.empty();
              Object first = serialization.deserialize(r.getBytes(3), r.getInt(1), r.getString(2)).get();
              return first instanceof EventJournal.Received received
                  ? Optional.of(received.tenantId())
                  : Optional.empty();
            }
          }
        });
  }
}
