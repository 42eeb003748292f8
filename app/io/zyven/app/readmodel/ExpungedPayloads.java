package io.zyven.app.readmodel;

import io.zyven.app.event.EventEntity;
import io.zyven.app.store.Database;
import io.zyven.protocol.EventJournal;
import java.sql.PreparedStatement;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;

/**
 * Takes an expunged payload out of the journal itself. The event entity journals {@code
 * PayloadExpunged}, so its state, the read model and the audit trail say who and when; but
 * the event's first journal row, its {@code Received}, still holds the payload at rest.
 * This rewrites that one row with the {@code Received} re-serialized without its payload,
 * through Pekko's own serialization, so the bytes, serializer id and manifest are exactly
 * what the journal plugin would have written for it.
 *
 * <p>Why a direct UPDATE of an event-sourced row is safe here: the row keeps its {@code
 * ordering}, {@code persistence_id}, {@code sequence_number} and tags (the {@code
 * event_tag} rows point at the ordering, which is unchanged), so {@code eventsByTag} and
 * the projection's offsets are untouched; the projection projected this row long ago (the
 * read model keeps no payload anyway) and applies {@code PayloadExpunged} when it comes.
 * Recovery replays a {@code Received} without payload followed by {@code PayloadExpunged},
 * the same state the live entity holds. The entity is the only writer of its rows and
 * never writes this one again. If the node dies between the journaling and this rewrite,
 * the state still drops the payload, and the next expunge of the event (idempotent)
 * rewrites the row.
 */
public final class ExpungedPayloads {
  private final Database db;
  private final Serialization serialization;

  public ExpungedPayloads(Database db, ActorSystem<?> system) {
    this.db = db;
    this.serialization = SerializationExtension.get(system);
  }

  /** Rewrites the event's {@code Received} row (always its sequence number 1) as {@code received}. */
  public CompletionStage<Integer> rewrite(EventJournal.Received received) {
    if (received.payload() != null) throw new IllegalArgumentException("the payload is still there");
    Serializer serializer = serialization.findSerializerFor(received);
    byte[] bytes = serializer.toBinary(received);
    String manifest = Serializers.manifestFor(serializer, received);
    String persistenceId = PersistenceId.of(EventEntity.TYPE_KEY.name(), received.eventId()).id();
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement(
              "UPDATE event_journal SET event_payload = ?, event_ser_id = ?, event_ser_manifest = ?"
                  + " WHERE persistence_id = ? AND sequence_number = 1")) {
            st.setBytes(1, bytes);
            st.setInt(2, serializer.identifier());
            st.setString(3, manifest);
            st.setString(4, persistenceId);
            return st.executeUpdate();
          }
        });
  }
}
