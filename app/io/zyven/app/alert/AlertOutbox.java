package io.zyven.app.alert;

import io.zyven.app.alert.AlertMessages.OpEvent;
import io.zyven.app.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/**
 * The dispatcher's side of {@code operational_events}: which tenants have a group due,
 * claiming a group as a batch (one transaction), the batch's events, and marking it sent.
 * Timing is PostgreSQL's clock, the same for every node the dispatcher may run on.
 */
final class AlertOutbox {

  /** A claimed batch of one tenant's operational events. */
  record Batch(UUID id, UUID tenantId, Instant claimedAt) {}

  /**
   * Operational events in one batch, at most: a storm of dead letters is sent in bounded
   * batches, one per group-interval, rather than read into memory at once.
   */
  static final int MAX_BATCH = 1000;

  private final Database db;

  AlertOutbox(Database db) {
    this.db = db;
  }

  /** Batches claimed but not marked sent: a node died, or a send failed; oldest first. */
  CompletionStage<List<Batch>> unsent(int limit) {
    return db.query(c -> {
      try (PreparedStatement st = c.prepareStatement(
          "SELECT id, tenant_id, claimed_at FROM alert_batches WHERE sent_at IS NULL ORDER BY claimed_at LIMIT ?")) {
        st.setInt(1, limit);
        return batches(st);
      }
    });
  }

  /**
   * Claims, for every tenant whose group is due, its unclaimed operational events as a new
   * batch, each in one transaction. A group is due when its first event has waited
   * {@code groupWait} (so that a burst goes as one message) and the tenant's previous batch
   * is at least {@code groupInterval} old (whatever comes meanwhile waits for the next
   * digest).
   */
  CompletionStage<List<Batch>> claimDue(Duration groupWait, Duration groupInterval, int limit) {
    return db.query(c -> {
      List<UUID> tenants = new ArrayList<>();
      try (PreparedStatement st = c.prepareStatement(
          "SELECT o.tenant_id FROM operational_events o WHERE o.batch_id IS NULL GROUP BY o.tenant_id"
              + " HAVING min(o.created_at) <= now() - ? * interval '1 millisecond'"
              + " AND COALESCE((SELECT max(b.claimed_at) FROM alert_batches b WHERE b.tenant_id = o.tenant_id),"
              + " '-infinity') <= now() - ? * interval '1 millisecond'"
              + " LIMIT ?")) {
        st.setLong(1, groupWait.toMillis());
        st.setLong(2, groupInterval.toMillis());
        st.setInt(3, limit);
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) tenants.add((UUID) rs.getObject(1));
        }
      }
      List<Batch> claimed = new ArrayList<>();
      for (UUID tenant : tenants) {
        Batch b = claim(c, tenant);
        if (b != null) claimed.add(b);
      }
      return claimed;
    });
  }

  /**
   * Claims the tenant's unclaimed events (up to {@link #MAX_BATCH}). The outer
   * {@code batch_id IS NULL} is checked again on rows another claim (a second dispatcher for
   * a moment, during a hand-over) locked first, so each event is in one batch only.
   */
  private static Batch claim(Connection c, UUID tenant) throws SQLException {
    UUID id = UUID.randomUUID();
    c.setAutoCommit(false);
    try (PreparedStatement batch = c.prepareStatement(
            "INSERT INTO alert_batches (id, tenant_id, claimed_at) VALUES (?, ?, now())");
        PreparedStatement events = c.prepareStatement(
            "UPDATE operational_events SET batch_id = ? WHERE batch_id IS NULL AND id IN (SELECT id FROM operational_events"
                + " WHERE tenant_id = ? AND batch_id IS NULL ORDER BY id LIMIT " + MAX_BATCH + ")")) {
      batch.setObject(1, id);
      batch.setObject(2, tenant);
      batch.executeUpdate();
      events.setObject(1, id);
      events.setObject(2, tenant);
      int n = events.executeUpdate();
      if (n == 0) {
        c.rollback();
        return null;
      }
      c.commit();
      return new Batch(id, tenant, Instant.now());
    } catch (SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  /** The batch's events, oldest first, with their endpoint's URL from the index. */
  CompletionStage<List<OpEvent>> events(UUID batchId) {
    return db.query(c -> {
      try (PreparedStatement st = c.prepareStatement(
          "SELECT o.id, o.tenant_id, o.type, o.endpoint_id, e.config->>'url', o.event_id, o.reason, o.occurred_at"
              + " FROM operational_events o LEFT JOIN endpoints e ON e.id = o.endpoint_id"
              + " WHERE o.batch_id = ? ORDER BY o.id")) {
        st.setObject(1, batchId);
        List<OpEvent> events = new ArrayList<>();
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            events.add(new OpEvent(
                rs.getLong(1), (UUID) rs.getObject(2), rs.getString(3), (UUID) rs.getObject(4), rs.getString(5),
                (UUID) rs.getObject(6), rs.getString(7), rs.getTimestamp(8).toInstant()));
          }
        }
        return events;
      }
    });
  }

  CompletionStage<Void> markSent(UUID batchId) {
    return db.query(c -> {
      try (PreparedStatement st = c.prepareStatement("UPDATE alert_batches SET sent_at = now() WHERE id = ?")) {
        st.setObject(1, batchId);
        st.executeUpdate();
      }
      return null;
    });
  }

  /**
   * Forgets batches sent longer ago than {@code keep}, and their events (a tenant's latest
   * batch stays while it still times the next one: {@code keep} is longer than the interval).
   */
  CompletionStage<Integer> forget(Duration keep) {
    return db.query(c -> {
      try (PreparedStatement events = c.prepareStatement(
              "DELETE FROM operational_events WHERE batch_id IN (SELECT id FROM alert_batches"
                  + " WHERE sent_at < now() - ? * interval '1 millisecond')");
          PreparedStatement batches = c.prepareStatement(
              "DELETE FROM alert_batches WHERE sent_at < now() - ? * interval '1 millisecond'")) {
        events.setLong(1, keep.toMillis());
        int n = events.executeUpdate();
        batches.setLong(1, keep.toMillis());
        batches.executeUpdate();
        return n;
      }
    });
  }

  private static List<Batch> batches(PreparedStatement st) throws SQLException {
    List<Batch> batches = new ArrayList<>();
    try (ResultSet rs = st.executeQuery()) {
      while (rs.next()) batches.add(new Batch((UUID) rs.getObject(1), (UUID) rs.getObject(2), rs.getTimestamp(3).toInstant()));
    }
    return batches;
  }
}
