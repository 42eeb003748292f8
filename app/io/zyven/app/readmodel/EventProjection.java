package io.zyven.app.readmodel;

import io.zyven.app.delivery.DeliveryMachine;
import io.zyven.app.delivery.DeliveryMachine.Delivery;
import io.zyven.app.event.EventEntity;
import io.zyven.app.store.Database;
import io.zyven.app.store.OperationalEvents;
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
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  /** The projection's name in the offset store. */
  static final String NAME = "read-model";

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
            ProjectionId.of(NAME, tag), source, () -> new ReadModelSession(db), EventProjection::new, system)
        .withGroup(GROUP_SIZE, GROUP_WITHIN);
  }

  @Override
  public void process(ReadModelSession session, List<EventEnvelope<EventJournal>> envelopes) throws Exception {
    List<Journaled> group = new ArrayList<>(envelopes.size());
    for (EventEnvelope<EventJournal> envelope : envelopes) {
      group.add(new Journaled(UUID.fromString(eventIdOf(envelope.persistenceId())), envelope.event()));
    }
    session.withConnection(c -> {
      apply(c, group);
      return null;
    });
  }

  static String eventIdOf(String persistenceId) {
    return persistenceId.substring(persistenceId.indexOf('|') + 1);
  }

  /** One journaled event of one event entity. */
  record Journaled(UUID eventId, EventJournal event) {}

  /** One journaled event's effect on the read model. */
  static void apply(Connection c, String eventId, EventJournal event) throws SQLException {
    apply(c, List.of(new Journaled(UUID.fromString(eventId), event)));
  }

  /**
   * A group of journaled events' effect on the read model, in a handful of statements: the
   * deliveries they touch are read once, folded with {@link DeliveryMachine#apply} (the
   * entity's own fold, so the read model never derives a state of its own), and written
   * back in batches. Idempotent: every transition sets absolute values, so a replayed
   * suffix of the journal leaves the same rows.
   */
  static void apply(Connection c, List<Journaled> group) throws SQLException {
    Map<UUID, EventRow> events = new LinkedHashMap<>();
    for (Journaled j : group) events.computeIfAbsent(j.eventId(), EventRow::new);
    loadDeliveries(c, events);
    List<EventJournal.Received> received = new ArrayList<>();
    List<AttemptRow> attempts = new ArrayList<>();
    List<Journaled> expunged = new ArrayList<>();
    List<OperationalEvents.Row> operational = new ArrayList<>();
    for (Journaled j : group) {
      EventRow row = events.get(j.eventId());
      if (j.event() instanceof EventJournal.Received r) {
        received.add(r);
        row.received(r);
        continue;
      }
      if (j.event() instanceof EventJournal.PayloadExpunged) {
        expunged.add(j);
        continue;
      }
      EventJournal.DeliveryTransition t = (EventJournal.DeliveryTransition) j.event();
      DeliveryRow d = row.deliveries.get(t.endpointId());
      if (d == null) continue; // its Received was never projected: nothing to update, as before
      d.delivery = DeliveryMachine.apply(d.delivery, t);
      d.changedAt = t.at();
      d.changed = true;
      row.updatedAt = t.at();
      Attempt attempt = attemptOf(t);
      if (attempt != null) attempts.add(new AttemptRow(j.eventId(), t.endpointId(), attempt));
      // A dead letter is an operational event for the tenant, recorded in this same
      // transaction; not one an operator caused by expunging the payload (no attempt).
      if (t instanceof EventJournal.DeadLettered dl && dl.attempt() != null) {
        operational.add(new OperationalEvents.Row(
            "dead-lettered:" + j.eventId() + ":" + t.endpointId() + ":" + t.at(), d.tenantId,
            OperationalEvents.DEAD_LETTERED, UUID.fromString(t.endpointId()), j.eventId(), dl.reason(), t.at()));
      }
    }
    insertEvents(c, received);
    writeDeliveries(c, events.values());
    insertAttempts(c, attempts);
    updateEventStatuses(c, events.values());
    markExpunged(c, expunged);
    OperationalEvents.insert(c, operational);
  }

  /** The read model keeps no payload; it records when the event's payload was expunged. */
  private static void markExpunged(Connection c, List<Journaled> expunged) throws SQLException {
    if (expunged.isEmpty()) return;
    try (PreparedStatement st = c.prepareStatement("UPDATE events SET payload_expunged_at = ? WHERE event_id = ?")) {
      for (Journaled j : expunged) {
        st.setTimestamp(1, Timestamp.from(j.event().at()));
        st.setObject(2, j.eventId());
        st.addBatch();
      }
      st.executeBatch();
    }
  }

  /** An event's rows as the group leaves them. */
  private static final class EventRow {
    final UUID id;
    final Map<String, DeliveryRow> deliveries = new LinkedHashMap<>();
    Instant updatedAt;

    EventRow(UUID id) {
      this.id = id;
    }

    void received(EventJournal.Received r) {
      if (!deliveries.isEmpty()) return; // projected before: its rows may be further on
      updatedAt = r.at();
      DeliveryMachine.accepted(r).forEach((endpointId, d) -> deliveries.put(endpointId, new DeliveryRow(r, d, r.at(), true)));
    }
  }

  private static final class DeliveryRow {
    final UUID tenantId;
    final String eventType;
    final Instant eventCreatedAt;
    Delivery delivery;
    Instant changedAt;
    boolean changed;

    DeliveryRow(EventJournal.Received r, Delivery delivery, Instant changedAt, boolean changed) {
      this(UUID.fromString(r.tenantId()), r.type(), r.at(), delivery, changedAt, changed);
    }

    DeliveryRow(UUID tenantId, String eventType, Instant eventCreatedAt, Delivery delivery, Instant changedAt, boolean changed) {
      this.tenantId = tenantId;
      this.eventType = eventType;
      this.eventCreatedAt = eventCreatedAt;
      this.delivery = delivery;
      this.changedAt = changedAt;
      this.changed = changed;
    }
  }

  private record AttemptRow(UUID eventId, String endpointId, Attempt attempt) {}

  // The read model keeps what lists and the waker need; the budget base and the attempts
  // themselves (a table of their own) are not folded here.
  private static void loadDeliveries(Connection c, Map<UUID, EventRow> events) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "SELECT event_id, endpoint_id, tenant_id, event_type, event_created_at, status, attempt_count,"
            + " next_attempt_at, last_error, status_changed_at FROM deliveries WHERE event_id = ANY(?)")) {
      st.setArray(1, c.createArrayOf("uuid", events.keySet().toArray()));
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          String endpointId = rs.getObject(2).toString();
          Timestamp next = rs.getTimestamp(8);
          Delivery d = new Delivery(
              endpointId, DeliveryStatus.valueOf(rs.getString(6)), rs.getInt(7), 0,
              next == null ? null : next.toInstant(), rs.getString(9), List.of());
          events.get((UUID) rs.getObject(1)).deliveries.put(
              endpointId,
              new DeliveryRow((UUID) rs.getObject(3), rs.getString(4), rs.getTimestamp(5).toInstant(), d,
                  rs.getTimestamp(10).toInstant(), false));
        }
      }
    }
  }

  private static void insertEvents(Connection c, List<EventJournal.Received> received) throws SQLException {
    if (received.isEmpty()) return;
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO events (event_id, tenant_id, type, status, created_at, updated_at)"
            + " VALUES (?, ?, ?, 'RECEIVED', ?, ?) ON CONFLICT (event_id) DO NOTHING")) {
      for (EventJournal.Received r : received) {
        st.setObject(1, UUID.fromString(r.eventId()));
        st.setObject(2, UUID.fromString(r.tenantId()));
        st.setString(3, r.type());
        st.setTimestamp(4, Timestamp.from(r.at()));
        st.setTimestamp(5, Timestamp.from(r.at()));
        st.addBatch();
      }
      st.executeBatch();
    }
  }

  private static void writeDeliveries(Connection c, Collection<EventRow> events) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO deliveries (event_id, endpoint_id, tenant_id, event_type, event_created_at, status,"
            + " attempt_count, next_attempt_at, last_error, status_changed_at)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            + " ON CONFLICT (event_id, endpoint_id) DO UPDATE SET status = EXCLUDED.status,"
            + " attempt_count = EXCLUDED.attempt_count, next_attempt_at = EXCLUDED.next_attempt_at,"
            + " last_error = EXCLUDED.last_error, status_changed_at = EXCLUDED.status_changed_at")) {
      int batched = 0;
      for (EventRow e : events) {
        for (DeliveryRow row : e.deliveries.values()) {
          if (!row.changed) continue;
          Delivery d = row.delivery;
          st.setObject(1, e.id);
          st.setObject(2, UUID.fromString(d.endpointId()));
          st.setObject(3, row.tenantId);
          st.setString(4, row.eventType);
          st.setTimestamp(5, Timestamp.from(row.eventCreatedAt));
          st.setString(6, d.status().name());
          st.setInt(7, d.attemptCount());
          st.setTimestamp(8, d.nextAttemptAt() == null ? null : Timestamp.from(d.nextAttemptAt()));
          st.setString(9, d.lastError());
          st.setTimestamp(10, Timestamp.from(row.changedAt));
          st.addBatch();
          batched++;
        }
      }
      if (batched > 0) st.executeBatch();
    }
  }

  private static Attempt attemptOf(EventJournal.DeliveryTransition t) {
    if (t instanceof EventJournal.Delivered e) return e.attempt();
    if (t instanceof EventJournal.RetryScheduled e) return e.attempt();
    if (t instanceof EventJournal.DeadLettered e) return e.attempt();
    return null;
  }

  private static void insertAttempts(Connection c, List<AttemptRow> attempts) throws SQLException {
    if (attempts.isEmpty()) return;
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO attempts (event_id, endpoint_id, number, started_at, status_code, latency_ms, error)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
      for (AttemptRow row : attempts) {
        Attempt a = row.attempt();
        st.setObject(1, row.eventId());
        st.setObject(2, UUID.fromString(row.endpointId()));
        st.setInt(3, a.number());
        st.setTimestamp(4, Timestamp.from(a.startedAt()));
        if (a.statusCode() == null) st.setNull(5, Types.INTEGER);
        else st.setInt(5, a.statusCode());
        st.setLong(6, a.latencyMs());
        st.setString(7, a.error());
        st.addBatch();
      }
      st.executeBatch();
    }
  }

  private static void updateEventStatuses(Connection c, Collection<EventRow> events) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "UPDATE events SET status = ?, updated_at = ? WHERE event_id = ?")) {
      int batched = 0;
      for (EventRow e : events) {
        if (e.updatedAt == null || e.deliveries.isEmpty()) continue;
        st.setString(1, DeliveryStatus.ofEvent(e.deliveries.values().stream().map(r -> r.delivery.status()).toList()).name());
        st.setTimestamp(2, Timestamp.from(e.updatedAt));
        st.setObject(3, e.id);
        st.addBatch();
        batched++;
      }
      if (batched > 0) st.executeBatch();
    }
  }
}
