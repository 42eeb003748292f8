package io.zyven.app.readmodel;

import io.zyven.app.event.EventEntity;
import io.zyven.app.store.Database;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.DeliveryStatus;
import io.zyven.protocol.EventJournal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.GroupedProjection;
import org.apache.pekko.projection.javadsl.SourceProvider;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;
import org.apache.pekko.projection.jdbc.javadsl.JdbcProjection;

/**
 * Projects the event journal into the read-model tables ({@code events}, {@code deliveries},
 * {@code attempts}), exactly once: a group of envelopes and its offset commit in one
 * transaction (one commit per group rather than per journal row). One projection per tag of
 * {@link EventEntity#TAGS}, run as a sharded daemon process so the cluster runs each exactly
 * once, wherever it is.
 */
public final class EventProjection extends JdbcHandler<List<EventEnvelope<EventJournal>>, ReadModelSession> {

  private static final int GROUP_SIZE = 200;
  private static final Duration GROUP_WITHIN = Duration.ofMillis(100);

  public static void init(ActorSystem<?> system, Database db) {
    List<String> tags = EventEntity.TAGS;
    ShardedDaemonProcess.get(system)
        .init(
            ProjectionBehavior.Command.class,
            "read-model",
            tags.size(),
            i -> ProjectionBehavior.create(projection(system, db, tags.get(i))),
            ShardedDaemonProcessSettings.create(system),
            Optional.of(ProjectionBehavior.stopMessage()));
  }

  private static GroupedProjection<Offset, EventEnvelope<EventJournal>> projection(
      ActorSystem<?> system, Database db, String tag) {
    SourceProvider<Offset, EventEnvelope<EventJournal>> source =
        EventSourcedProvider.eventsByTag(system, JdbcReadJournal.Identifier(), tag);
    return JdbcProjection.groupedWithin(
            ProjectionId.of("read-model", tag), source, () -> new ReadModelSession(db), EventProjection::new, system)
        .withGroup(GROUP_SIZE, GROUP_WITHIN);
  }

  @Override
  public void process(ReadModelSession session, List<EventEnvelope<EventJournal>> envelopes) throws Exception {
    session.withConnection(
        c -> {
          for (EventEnvelope<EventJournal> envelope : envelopes) {
            apply(c, eventIdOf(envelope.persistenceId()), envelope.event());
          }
          return null;
        });
  }

  static String eventIdOf(String persistenceId) {
    return persistenceId.substring(persistenceId.indexOf('|') + 1);
  }

  /** One journaled event's effect on the read model. Idempotent: replays change nothing. */
  static void apply(Connection c, String eventId, EventJournal event) throws SQLException {
    UUID id = UUID.fromString(eventId);
    if (event instanceof EventJournal.Received r) {
      insertEvent(c, id, r);
      return;
    }
    EventJournal.DeliveryTransition t = (EventJournal.DeliveryTransition) event;
    UUID endpointId = UUID.fromString(t.endpointId());
    Attempt attempt = attemptOf(t);
    if (attempt != null) insertAttempt(c, id, endpointId, attempt);
    updateDelivery(c, id, endpointId, t, attempt);
    updateEventStatus(c, id, t.at());
  }

  private static void insertEvent(Connection c, UUID id, EventJournal.Received r) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO events (event_id, tenant_id, type, status, created_at, updated_at)"
            + " VALUES (?, ?, ?, 'RECEIVED', ?, ?) ON CONFLICT (event_id) DO NOTHING")) {
      st.setObject(1, id);
      st.setObject(2, UUID.fromString(r.tenantId()));
      st.setString(3, r.type());
      st.setTimestamp(4, Timestamp.from(r.at()));
      st.setTimestamp(5, Timestamp.from(r.at()));
      st.executeUpdate();
    }
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO deliveries"
            + " (event_id, endpoint_id, tenant_id, event_type, event_created_at, status, attempt_count,"
            + " status_changed_at) VALUES (?, ?, ?, ?, ?, 'RECEIVED', 0, ?) ON CONFLICT DO NOTHING")) {
      for (String endpointId : r.endpointIds()) {
        st.setObject(1, id);
        st.setObject(2, UUID.fromString(endpointId));
        st.setObject(3, UUID.fromString(r.tenantId()));
        st.setString(4, r.type());
        st.setTimestamp(5, Timestamp.from(r.at()));
        st.setTimestamp(6, Timestamp.from(r.at()));
        st.addBatch();
      }
      st.executeBatch();
    }
  }

  private static Attempt attemptOf(EventJournal.DeliveryTransition t) {
    if (t instanceof EventJournal.Delivered e) return e.attempt();
    if (t instanceof EventJournal.RetryScheduled e) return e.attempt();
    if (t instanceof EventJournal.DeadLettered e) return e.attempt();
    return null;
  }

  private static void insertAttempt(Connection c, UUID id, UUID endpointId, Attempt a) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO attempts (event_id, endpoint_id, number, started_at, status_code, latency_ms, error)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
      st.setObject(1, id);
      st.setObject(2, endpointId);
      st.setInt(3, a.number());
      st.setTimestamp(4, Timestamp.from(a.startedAt()));
      if (a.statusCode() == null) st.setNull(5, Types.INTEGER);
      else st.setInt(5, a.statusCode());
      st.setLong(6, a.latencyMs());
      st.setString(7, a.error());
      st.executeUpdate();
    }
  }

  private static void updateDelivery(
      Connection c, UUID id, UUID endpointId, EventJournal.DeliveryTransition t, Attempt attempt)
      throws SQLException {
    Integer attemptCount = attemptCountAfter(t);
    Instant next = t instanceof EventJournal.RetryScheduled r ? r.nextAttemptAt()
        : t instanceof EventJournal.AttemptDeferred d ? d.nextAttemptAt() : null;
    // An attempt's outcome or a deferral sets last_error (to null on success), as the
    // entity does; starting or replaying an attempt leaves it as it was.
    boolean setsError = attempt != null || t instanceof EventJournal.AttemptDeferred;
    String error = attempt != null ? attempt.error()
        : t instanceof EventJournal.AttemptDeferred d ? d.reason() : null;
    try (PreparedStatement st = c.prepareStatement(
        "UPDATE deliveries SET status = ?, status_changed_at = ?, next_attempt_at = ?,"
            + " attempt_count = COALESCE(?, attempt_count),"
            + " last_error = CASE WHEN ? THEN ? ELSE last_error END"
            + " WHERE event_id = ? AND endpoint_id = ?")) {
      st.setString(1, t.to().name());
      st.setTimestamp(2, Timestamp.from(t.at()));
      st.setTimestamp(3, next == null ? null : Timestamp.from(next));
      if (attemptCount == null) st.setNull(4, Types.INTEGER);
      else st.setInt(4, attemptCount);
      st.setBoolean(5, setsError);
      st.setString(6, error);
      st.setObject(7, id);
      st.setObject(8, endpointId);
      st.executeUpdate();
    }
  }

  /** The delivery's attempt count after {@code t}, or null when {@code t} leaves it alone. */
  private static Integer attemptCountAfter(EventJournal.DeliveryTransition t) {
    if (t instanceof EventJournal.DispatchStarted e) return e.attempt();
    if (t instanceof EventJournal.Replayed e) return e.attempt();
    if (t instanceof EventJournal.RetryRequested e) return e.attempt();
    if (t instanceof EventJournal.AttemptDeferred e) return e.attempt() - 1;
    return null;
  }

  private static void updateEventStatus(Connection c, UUID id, Instant at) throws SQLException {
    List<DeliveryStatus> statuses = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement("SELECT status FROM deliveries WHERE event_id = ?")) {
      st.setObject(1, id);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) statuses.add(DeliveryStatus.valueOf(rs.getString(1)));
      }
    }
    try (PreparedStatement st = c.prepareStatement(
        "UPDATE events SET status = ?, updated_at = ? WHERE event_id = ?")) {
      st.setString(1, DeliveryStatus.ofEvent(statuses).name());
      st.setTimestamp(2, Timestamp.from(at));
      st.setObject(3, id);
      st.executeUpdate();
    }
  }
}
