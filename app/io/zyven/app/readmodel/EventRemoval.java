package io.zyven.app.readmodel;

import io.zyven.app.event.EventEntity;
import io.zyven.app.metrics.Metrics;
import io.zyven.app.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes finished events for retention, on the node of each event's entity: its journal
 * rows, their tags, snapshots, and its read-model rows ({@code events}, {@code deliveries},
 * {@code attempts}). The requests that arrive together are removed together, in one
 * transaction: all of an event's rows or none, whatever happens to the node, and one
 * commit for many events.
 *
 * <p>The journal belongs to pekko-persistence-jdbc, whose own deletion keeps the highest
 * sequence number of each persistence id, so a removed key's next event could not start
 * afresh; and it deletes in a transaction of its own, apart from the read model. Plain SQL
 * is safe here because the event's entity, its single writer, asks for the removal and
 * journals nothing until it is done, and because an event goes only once the read-model
 * projection has passed every one of its journal rows (checked in the same transaction):
 * the projection never reads a removed row, nor writes one back.
 */
public final class EventRemoval implements EventEntity.Remover {
  private static final Logger log = LoggerFactory.getLogger(EventRemoval.class);

  /** Events removed in one transaction, at most. */
  static final int BATCH = 200;

  private record Request(String eventId, String tag, EventEntity.State state, CompletableFuture<Boolean> done) {}

  private final Database db;
  private final Optional<RetentionArchive> archive;
  private final BlockingQueue<Request> queue = new ArrayBlockingQueue<>(10_000);

  public EventRemoval(Database db, Optional<RetentionArchive> archive) {
    this.db = db;
    this.archive = archive;
    // For the life of the process: a daemon, as the actor system's own threads are.
    Thread worker = new Thread(this::work, "zyven-retention-removal");
    worker.setDaemon(true);
    worker.start();
  }

  @Override
  public CompletionStage<Boolean> remove(String eventId, String tag, EventEntity.State state) {
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    if (!queue.offer(new Request(eventId, tag, state, done))) {
      done.completeExceptionally(new IllegalStateException("too many removals waiting"));
    }
    return done;
  }

  private void work() {
    List<Request> batch = new ArrayList<>(BATCH);
    while (!Thread.currentThread().isInterrupted()) {
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        return;
      }
      queue.drainTo(batch, BATCH - 1);
      removeAll(batch);
      batch.clear();
    }
  }

  private void removeAll(List<Request> batch) {
    try (Connection c = db.connection()) {
      c.setAutoCommit(false);
      try {
        Set<String> projected = projected(c, batch);
        List<Request> going = batch.stream().filter(r -> projected.contains(r.eventId())).toList();
        // Written (and forced to disk) before the rows go: an archived event may be
        // archived again if this transaction fails, never lost.
        if (archive.isPresent() && !going.isEmpty()) archive.get().write(c, going.stream().map(Request::state).toList());
        long rows = delete(c, going);
        c.commit();
        Metrics.add("zyven_retention_events_removed_total", going.size());
        Metrics.add("zyven_retention_rows_removed_total", rows);
        for (Request r : batch) r.done().complete(projected.contains(r.eventId()));
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (Exception e) {
      log.debug("Retention removal of {} events failed", batch.size(), e);
      for (Request r : batch) r.done().completeExceptionally(e);
    }
  }

  /**
   * The events of the batch that the read-model projection has passed: every journal row
   * of the event is at or before the offset its tag's projection has committed. The
   * entity journals nothing while it waits here, so this cannot change before the commit.
   */
  private static Set<String> projected(Connection c, List<Request> batch) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "SELECT i.event_id FROM unnest(?::text[], ?::text[], ?::text[]) AS i(event_id, persistence_id, tag)"
            + " WHERE COALESCE((SELECT max(j.ordering) FROM event_journal j"
            + "                 WHERE j.persistence_id = i.persistence_id), 0)"
            + "    <= COALESCE((SELECT o.current_offset::bigint FROM pekko_projection_offset_store o"
            + "                 WHERE o.projection_name = ? AND o.projection_key = i.tag), -1)")) {
      st.setArray(1, c.createArrayOf("text", batch.stream().map(Request::eventId).toArray()));
      st.setArray(2, c.createArrayOf("text", batch.stream().map(r -> persistenceId(r.eventId())).toArray()));
      st.setArray(3, c.createArrayOf("text", batch.stream().map(Request::tag).toArray()));
      st.setString(4, EventProjection.NAME);
      Set<String> ids = new HashSet<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) ids.add(rs.getString(1));
      }
      return ids;
    }
  }

  /** Deletes every row of these events; returns how many. */
  private static long delete(Connection c, List<Request> going) throws SQLException {
    if (going.isEmpty()) return 0;
    Object[] persistenceIds = going.stream().map(r -> persistenceId(r.eventId())).toArray();
    Object[] eventIds = going.stream().map(r -> UUID.fromString(r.eventId())).toArray();
    long rows = 0;
    // Tags first and explicitly (the foreign key would cascade), so that they are counted.
    rows += update(c, "DELETE FROM event_tag WHERE event_id IN"
        + " (SELECT ordering FROM event_journal WHERE persistence_id = ANY(?))", "text", persistenceIds);
    rows += update(c, "DELETE FROM event_journal WHERE persistence_id = ANY(?)", "text", persistenceIds);
    rows += update(c, "DELETE FROM snapshot WHERE persistence_id = ANY(?)", "text", persistenceIds);
    rows += update(c, "DELETE FROM attempts WHERE event_id = ANY(?)", "uuid", eventIds);
    rows += update(c, "DELETE FROM deliveries WHERE event_id = ANY(?)", "uuid", eventIds);
    rows += update(c, "DELETE FROM events WHERE event_id = ANY(?)", "uuid", eventIds);
    return rows;
  }

  private static int update(Connection c, String sql, String type, Object[] values) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      st.setArray(1, c.createArrayOf(type, values));
      return st.executeUpdate();
    }
  }

  private static String persistenceId(String eventId) {
    return EventEntity.persistenceId(eventId).id();
  }
}
