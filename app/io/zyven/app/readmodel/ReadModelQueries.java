package io.zyven.app.readmodel;

import io.zyven.app.store.Database;
import io.zyven.protocol.DeliveryStatus;
import io.zyven.protocol.EventApi.AttemptEntry;
import io.zyven.protocol.EventApi.AttemptPage;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/** Queries of the read model. It trails the journal by the projection's lag. */
public final class ReadModelQueries {

  /** Where a page ends: the last row's (created_at, event_id), opaque to clients. */
  public record Cursor(Instant createdAt, UUID eventId) {
    public String encode() {
      String raw = createdAt.getEpochSecond() + ":" + createdAt.getNano() + ":" + eventId;
      return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    /** @throws IllegalArgumentException when it is not a cursor this API gave out */
    public static Cursor decode(String text) {
      String[] parts = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8).split(":");
      if (parts.length != 3) throw new IllegalArgumentException("not a cursor");
      return new Cursor(
          Instant.ofEpochSecond(Long.parseLong(parts[0]), Long.parseLong(parts[1])), UUID.fromString(parts[2]));
    }
  }

  /**
   * The tenant's events, newest first, after {@code cursor} (null: from the newest). A
   * keyset page: events inserted meanwhile are newer than any cursor and never shift the
   * pages a client is walking through.
   */
  public CompletionStage<EventPage> listEvents(
      String tenantId, EventPage.Filter filter, int limit, Cursor cursor) {
    return db.query(
        c -> {
          boolean byEndpoint = filter.endpointId() != null;
          // With an endpoint, status is that delivery's status; otherwise the event's.
          String from = byEndpoint
              ? "deliveries d JOIN events e ON e.event_id = d.event_id"
                  + " WHERE d.tenant_id = ? AND d.endpoint_id = ?"
              : "events e WHERE e.tenant_id = ?";
          String time = byEndpoint ? "d.event_created_at" : "e.created_at";
          String id = byEndpoint ? "d.event_id" : "e.event_id";
          StringBuilder sql = new StringBuilder(
              "SELECT e.event_id, e.type, e.status, e.created_at, e.updated_at FROM " + from);
          List<Object> params = new ArrayList<>();
          params.add(UUID.fromString(tenantId));
          if (byEndpoint) params.add(UUID.fromString(filter.endpointId()));
          if (filter.status() != null) {
            sql.append(byEndpoint ? " AND d.status = ?" : " AND e.status = ?");
            params.add(filter.status().name());
          }
          if (filter.type() != null) {
            sql.append(byEndpoint ? " AND d.event_type = ?" : " AND e.type = ?");
            params.add(filter.type());
          }
          if (filter.endpointIds() != null && !byEndpoint) {
            // One primary-key probe of deliveries (event_id, endpoint_id) per event row the
            // tenant's index yields. (With endpoint_id, the caller has checked it is allowed.)
            sql.append(" AND EXISTS (SELECT 1 FROM deliveries a WHERE a.event_id = e.event_id"
                + " AND a.endpoint_id = ANY (?))");
            params.add(uuids(c, filter.endpointIds()));
          }
          if (filter.since() != null) {
            sql.append(" AND ").append(time).append(" >= ?");
            params.add(Timestamp.from(filter.since()));
          }
          if (filter.until() != null) {
            sql.append(" AND ").append(time).append(" < ?");
            params.add(Timestamp.from(filter.until()));
          }
          if (cursor != null) {
            sql.append(" AND (").append(time).append(", ").append(id).append(") < (?, ?)");
            params.add(Timestamp.from(cursor.createdAt()));
            params.add(cursor.eventId());
          }
          sql.append(" ORDER BY ").append(time).append(" DESC, ").append(id).append(" DESC LIMIT ?");
          params.add(limit + 1); // one more tells whether there is a next page

          List<EventPage.Summary> rows = new ArrayList<>();
          try (PreparedStatement st = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < params.size(); i++) st.setObject(i + 1, params.get(i));
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                rows.add(new EventPage.Summary(
                    rs.getString(1), rs.getString(2), DeliveryStatus.valueOf(rs.getString(3)),
                    rs.getTimestamp(4).toInstant(), rs.getTimestamp(5).toInstant(), List.of()));
              }
            }
          }
          boolean more = rows.size() > limit;
          List<EventPage.Summary> page = more ? rows.subList(0, limit) : rows;
          List<EventPage.Summary> withDeliveries = withDeliveries(c, page, filter.endpointIds());
          String next = null;
          if (more) {
            EventPage.Summary last = page.get(page.size() - 1);
            next = new Cursor(last.createdAt(), UUID.fromString(last.id())).encode();
          }
          return new EventPage(withDeliveries, next);
        });
  }

  /** The events with their deliveries: all of them, or those to {@code endpointIds} when given. */
  private static List<EventPage.Summary> withDeliveries(
      Connection c, List<EventPage.Summary> events, Set<String> endpointIds) throws SQLException {
    if (events.isEmpty()) return events;
    Map<String, List<EventPage.DeliverySummary>> byEvent = new HashMap<>();
    try (PreparedStatement st = c.prepareStatement(
        "SELECT event_id, endpoint_id, status, attempt_count, next_attempt_at, last_error"
            + " FROM deliveries WHERE event_id = ANY (?)"
            + (endpointIds != null ? " AND endpoint_id = ANY (?)" : "")
            + " ORDER BY endpoint_id")) {
      st.setArray(1, c.createArrayOf("uuid", events.stream().map(e -> UUID.fromString(e.id())).toArray()));
      if (endpointIds != null) st.setArray(2, uuids(c, endpointIds));
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          Timestamp next = rs.getTimestamp(5);
          byEvent.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(new EventPage.DeliverySummary(
              rs.getString(2), DeliveryStatus.valueOf(rs.getString(3)), rs.getInt(4),
              next == null ? null : next.toInstant(), rs.getString(6)));
        }
      }
    }
    List<EventPage.Summary> out = new ArrayList<>();
    for (EventPage.Summary e : events) {
      out.add(new EventPage.Summary(e.id(), e.type(), e.status(), e.createdAt(), e.updatedAt(),
          byEvent.getOrDefault(e.id(), List.of())));
    }
    return out;
  }

  private static Array uuids(Connection c, Set<String> ids) throws SQLException {
    return c.createArrayOf("uuid", ids.stream().map(UUID::fromString).toArray());
  }

  private final Database db;

  public ReadModelQueries(Database db) {
    this.db = db;
  }

  /**
   * Events to wake: a retry due before {@code retryDueBefore}, or an attempt in RECEIVED or
   * DISPATCHING since before {@code startedBefore}.
   */
  /**
   * Events to wake: a retry due before {@code retryDueBefore}, or an attempt whose deadline
   * has passed. An attempt's deadline is its start plus its endpoint's {@code timeout_ms}
   * (or {@code defaultTimeout}) plus a margin; {@code marginAgo} is now minus that margin.
   */
  public CompletionStage<List<String>> toWake(
      Instant retryDueBefore, Instant marginAgo, Duration defaultTimeout, int limit) {
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement(
              "(SELECT event_id FROM deliveries WHERE status = 'RETRY_SCHEDULED' AND next_attempt_at < ?"
                  + " ORDER BY next_attempt_at LIMIT ?)"
                  + " UNION"
                  // deliveries_in_progress_idx narrows to attempts older than the margin; the
                  // endpoint's own timeout then decides which are past their deadline.
                  + " (SELECT d.event_id FROM deliveries d LEFT JOIN endpoints e ON e.id = d.endpoint_id"
                  + " WHERE d.status IN ('RECEIVED', 'DISPATCHING') AND d.status_changed_at < ?"
                  + " AND d.status_changed_at + make_interval(secs => COALESCE((e.config->>'timeout_ms')::numeric, ?) / 1000) < ?"
                  + " ORDER BY d.status_changed_at LIMIT ?)")) {
            st.setTimestamp(1, Timestamp.from(retryDueBefore));
            st.setInt(2, limit);
            st.setTimestamp(3, Timestamp.from(marginAgo));
            st.setLong(4, defaultTimeout.toMillis());
            st.setTimestamp(5, Timestamp.from(marginAgo));
            st.setInt(6, limit);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) ids.add(rs.getString(1));
            }
            return ids;
          }
        });
  }

  /**
   * How far the read model trails the journal: journaled events not yet projected, and the
   * age of the oldest of them in seconds (0 when none).
   */
  public CompletionStage<Lag> lag() {
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement(
              "SELECT count(*), COALESCE(min(j.write_timestamp), 0) FROM event_tag t"
                  + " JOIN event_journal j ON j.ordering = t.event_id"
                  + " LEFT JOIN pekko_projection_offset_store o"
                  + "   ON o.projection_name = '" + EventProjection.NAME + "' AND o.projection_key = t.tag"
                  + " WHERE t.tag LIKE 'event-%' AND t.event_id > COALESCE(CAST(o.current_offset AS BIGINT), 0)")) {
            try (ResultSet rs = st.executeQuery()) {
              rs.next();
              long behind = rs.getLong(1);
              long oldestMillis = rs.getLong(2);
              double seconds = behind == 0 ? 0 : Math.max(0, (System.currentTimeMillis() - oldestMillis) / 1000.0);
              return new Lag(behind, seconds);
            }
          }
        });
  }

  public record Lag(long events, double seconds) {}

  /**
   * The last retention sweep, whichever node ran it: when, what it removed, and the
   * creation time of the oldest event then kept (null when none was). Empty before the
   * first run.
   */
  public CompletionStage<Optional<RetentionStatus>> retentionStatus() {
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement(
                  "SELECT last_run_at, last_run_removed, oldest_event_at FROM retention_sweep WHERE id = 1");
              ResultSet rs = st.executeQuery()) {
            if (!rs.next()) return Optional.empty();
            Timestamp oldest = rs.getTimestamp(3);
            return Optional.of(
                new RetentionStatus(rs.getTimestamp(1).toInstant(), rs.getInt(2), oldest == null ? null : oldest.toInstant()));
          }
        });
  }

  public record RetentionStatus(Instant lastRunAt, int lastRunRemoved, Instant oldestEventAt) {}

  /** The unfinished states, in the order of {@code deliveries_pending_idx}'s predicate (V14). */
  private static final String PENDING = "status IN ('RECEIVED', 'DISPATCHING', 'RETRY_SCHEDULED')";

  /**
   * Unfinished deliveries by state and per endpoint (the {@code topEndpoints} with the most,
   * the rest summed), when the oldest of them was accepted (null: none), and how many are
   * dead-lettered. Scans of two partial indexes, the unfinished deliveries' (V14) and the
   * dead letters': never the delivered history.
   */
  public CompletionStage<Backlog> backlog(int topEndpoints) {
    return db.query(
        c -> {
          // One snapshot for the four statements, so that the figures add up.
          c.setAutoCommit(false);
          c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
          Map<String, Long> byState = new HashMap<>();
          try (PreparedStatement st = c.prepareStatement(
                  "SELECT status, count(*) FROM deliveries WHERE " + PENDING + " GROUP BY status");
              ResultSet rs = st.executeQuery()) {
            while (rs.next()) byState.put(rs.getString(1), rs.getLong(2));
          }
          try (PreparedStatement st = c.prepareStatement(
                  "SELECT count(*) FROM deliveries WHERE status = 'DEAD_LETTERED'");
              ResultSet rs = st.executeQuery()) {
            rs.next();
            byState.put(DeliveryStatus.DEAD_LETTERED.name(), rs.getLong(1));
          }
          Instant oldest;
          try (PreparedStatement st = c.prepareStatement(
                  "SELECT min(event_created_at) FROM deliveries WHERE " + PENDING);
              ResultSet rs = st.executeQuery()) {
            rs.next();
            Timestamp t = rs.getTimestamp(1);
            oldest = t == null ? null : t.toInstant();
          }
          Map<String, Long> top = new java.util.LinkedHashMap<>();
          if (topEndpoints > 0) {
            try (PreparedStatement st = c.prepareStatement(
                "SELECT endpoint_id, count(*) AS n FROM deliveries WHERE " + PENDING
                    + " GROUP BY endpoint_id ORDER BY n DESC, endpoint_id LIMIT ?")) {
              st.setInt(1, topEndpoints);
              try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) top.put(rs.getString(1), rs.getLong(2));
              }
            }
          }
          long pending =
              byState.entrySet().stream()
                  .filter(e -> !e.getKey().equals(DeliveryStatus.DEAD_LETTERED.name()))
                  .mapToLong(Map.Entry::getValue)
                  .sum();
          c.commit();
          long others = pending - top.values().stream().mapToLong(Long::longValue).sum();
          return new Backlog(byState, oldest, top, Math.max(0, others));
        });
  }

  public record Backlog(Map<String, Long> byState, Instant oldestPendingSince, Map<String, Long> topEndpoints, long otherEndpoints) {}

  /** Enabled endpoints whose circuit breaker is open (as their entities last wrote); a partial index (V14). */
  public CompletionStage<Long> openCircuits() {
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement(
                  "SELECT count(*) FROM endpoints WHERE enabled AND NOT deleted AND circuit_open_since IS NOT NULL");
              ResultSet rs = st.executeQuery()) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  /** Where a page of attempts ends: the last one's endpoint and number, opaque to clients. */
  public record AttemptCursor(UUID endpointId, int number) {
    public String encode() {
      String raw = endpointId + ":" + number;
      return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    /** @throws IllegalArgumentException when it is not a cursor this API gave out */
    public static AttemptCursor decode(String text) {
      String[] parts = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8).split(":");
      if (parts.length != 2) throw new IllegalArgumentException("not a cursor");
      int number = Integer.parseInt(parts[1]);
      if (number < 0) throw new IllegalArgumentException("not a cursor");
      return new AttemptCursor(UUID.fromString(parts[0]), number);
    }
  }

  /**
   * A page of an event's attempts, every one ever made (the entity keeps only the latest),
   * ordered by endpoint then number, after {@code after} (null: from the first). Only the
   * deliveries to {@code endpointIds} when given. Null when the tenant has no such event
   * (or none of its deliveries is to those endpoints).
   */
  public CompletionStage<AttemptPage> attempts(
      String tenantId, String eventId, Set<String> endpointIds, int limit, AttemptCursor after) {
    return db.query(
        c -> {
          UUID event = UUID.fromString(eventId);
          // Whose event it is, first: another tenant's answers nothing.
          try (PreparedStatement st = c.prepareStatement(
              "SELECT 1 FROM deliveries WHERE event_id = ? AND tenant_id = ?"
                  + (endpointIds != null ? " AND endpoint_id = ANY (?)" : "") + " LIMIT 1")) {
            st.setObject(1, event);
            st.setObject(2, UUID.fromString(tenantId));
            if (endpointIds != null) st.setArray(3, uuids(c, endpointIds));
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) return null;
            }
          }
          StringBuilder sql = new StringBuilder(
              "SELECT endpoint_id, number, started_at, status_code, latency_ms, error FROM attempts WHERE event_id = ?");
          if (endpointIds != null) sql.append(" AND endpoint_id = ANY (?)");
          if (after != null) sql.append(" AND (endpoint_id, number) > (?, ?)");
          sql.append(" ORDER BY endpoint_id, number LIMIT ?");
          List<AttemptEntry> rows = new ArrayList<>();
          try (PreparedStatement st = c.prepareStatement(sql.toString())) {
            int i = 1;
            st.setObject(i++, event);
            if (endpointIds != null) st.setArray(i++, uuids(c, endpointIds));
            if (after != null) {
              st.setObject(i++, after.endpointId());
              st.setInt(i++, after.number());
            }
            st.setInt(i, limit + 1); // one more tells whether there is a next page
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                int status = rs.getInt(4);
                Integer statusCode = rs.wasNull() ? null : status;
                rows.add(new AttemptEntry(
                    rs.getString(1), rs.getInt(2), rs.getTimestamp(3).toInstant(), statusCode, rs.getLong(5),
                    rs.getString(6)));
              }
            }
          }
          boolean more = rows.size() > limit;
          List<AttemptEntry> page = more ? List.copyOf(rows.subList(0, limit)) : rows;
          String next = null;
          if (more) {
            AttemptEntry last = page.get(page.size() - 1);
            next = new AttemptCursor(UUID.fromString(last.endpointId()), last.number()).encode();
          }
          return new AttemptPage(page, next);
        });
  }

  /** A dead letter found for a recover: the event, and when its delivery was dead-lettered. */
  public record DeadLetter(String eventId, Instant at) {}

  /**
   * A batch of the events whose delivery to this endpoint was dead-lettered in [since,
   * until), oldest first, after {@code after} (null: from the first): a keyset page on
   * (status_changed_at, event_id), so a recover walks any number of them in bounded batches.
   */
  public CompletionStage<List<DeadLetter>> deadLetters(
      String tenantId, String endpointId, Instant since, Instant until, DeadLetter after, int limit) {
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement(
              "SELECT event_id, status_changed_at FROM deliveries WHERE endpoint_id = ? AND tenant_id = ?"
                  + " AND status = 'DEAD_LETTERED' AND status_changed_at >= ? AND status_changed_at < ?"
                  + (after != null ? " AND (status_changed_at, event_id) > (?, ?)" : "")
                  + " ORDER BY status_changed_at, event_id LIMIT ?")) {
            int i = 1;
            st.setObject(i++, UUID.fromString(endpointId));
            st.setObject(i++, UUID.fromString(tenantId));
            st.setTimestamp(i++, Timestamp.from(since));
            st.setTimestamp(i++, Timestamp.from(until));
            if (after != null) {
              st.setTimestamp(i++, Timestamp.from(after.at()));
              st.setObject(i++, UUID.fromString(after.eventId()));
            }
            st.setInt(i, limit);
            List<DeadLetter> batch = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) batch.add(new DeadLetter(rs.getString(1), rs.getTimestamp(2).toInstant()));
            }
            return batch;
          }
        });
  }

  /** How many deliveries to this endpoint were dead-lettered in [since, until) (and still are). */
  public CompletionStage<Long> countDeadLetters(String tenantId, String endpointId, Instant since, Instant until) {
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement(
              "SELECT count(*) FROM deliveries WHERE endpoint_id = ? AND tenant_id = ?"
                  + " AND status = 'DEAD_LETTERED' AND status_changed_at >= ? AND status_changed_at < ?")) {
            st.setObject(1, UUID.fromString(endpointId));
            st.setObject(2, UUID.fromString(tenantId));
            st.setTimestamp(3, Timestamp.from(since));
            st.setTimestamp(4, Timestamp.from(until));
            try (ResultSet rs = st.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }
}
