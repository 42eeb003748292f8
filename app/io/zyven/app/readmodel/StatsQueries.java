package io.zyven.app.readmodel;

import io.zyven.app.store.Database;
import io.zyven.protocol.StatsApi.Bucket;
import io.zyven.protocol.StatsApi.EndpointCounts;
import io.zyven.protocol.StatsApi.Stats;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/**
 * The read-model queries of {@code GET /v1/stats} and of the hourly part of
 * {@code GET /v1/endpoints/{id}/health}. Each is an index range scan per tenant (or per
 * endpoint of the tenant) over the window only; {@code V5__stats_indexes.sql} says which
 * index serves which. Attempts carry no tenant id, so they are reached through the
 * tenant's endpoints.
 */
public final class StatsQueries {

  /** Bucket sizes in seconds, smallest first: a window gets the smallest that fits. */
  private static final long[] BUCKET_SECONDS = {1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600};

  public static final int MAX_BUCKETS = 90;

  /**
   * Dead letters accumulate until they are replayed, so their count is the one figure not
   * bounded by the window: it stops at this many.
   */
  public static final int DEAD_LETTER_COUNT_LIMIT = 10_000;

  /**
   * The buckets covering a window: {@code count} buckets of {@code bucketSeconds} from
   * {@code start}, aligned to multiples of the bucket size (so that polling shows the same
   * buckets), the last one holding now. They cover the window rounded up to whole buckets.
   */
  public record Window(long seconds, long bucketSeconds, int count, Instant start) {
    public static Window of(Duration length, Instant now) {
      long seconds = length.toSeconds();
      long bucket = BUCKET_SECONDS[BUCKET_SECONDS.length - 1];
      for (long size : BUCKET_SECONDS) {
        if (ceilDiv(seconds, size) <= MAX_BUCKETS) {
          bucket = size;
          break;
        }
      }
      int count = (int) ceilDiv(seconds, bucket);
      long end = (now.getEpochSecond() / bucket + 1) * bucket;
      return new Window(seconds, bucket, count, Instant.ofEpochSecond(end - count * bucket));
    }

    private static long ceilDiv(long a, long b) {
      return (a + b - 1) / b;
    }

    public Instant end() {
      return start.plusSeconds(count * bucketSeconds);
    }
  }

  private final Database db;

  public StatsQueries(Database db) {
    this.db = db;
  }

  public CompletionStage<Stats> stats(String tenantId, Window window) {
    UUID tenant = UUID.fromString(tenantId);
    return db.query(
        c -> {
          long[] accepted = new long[window.count()];
          long[] delivered = new long[window.count()];
          long[] attempts = new long[window.count()];
          long[] succeeded = new long[window.count()];
          // Accepted: events_tenant_idx.
          perBucket(c, window, tenant, accepted, null,
              "SELECT " + bucketOf("created_at") + ", count(*) FROM events"
                  + " WHERE tenant_id = ? AND created_at >= ? AND created_at < ? GROUP BY 1");
          // Delivered: deliveries_tenant_delivered_idx.
          perBucket(c, window, tenant, delivered, null,
              "SELECT " + bucketOf("status_changed_at") + ", count(*) FROM deliveries"
                  + " WHERE tenant_id = ? AND status = 'DELIVERED'"
                  + " AND status_changed_at >= ? AND status_changed_at < ? GROUP BY 1");
          // Attempts: endpoints_tenant_all_idx, then attempts_endpoint_started_idx per endpoint.
          perBucket(c, window, tenant, attempts, succeeded,
              "SELECT " + bucketOf("a.started_at") + ", count(*), count(*) FILTER (WHERE " + OK + ")"
                  + " FROM endpoints e JOIN attempts a ON a.endpoint_id = e.id"
                  + " WHERE e.tenant_id = ? AND NOT e.internal AND a.started_at >= ? AND a.started_at < ? GROUP BY 1");

          List<Bucket> buckets = new ArrayList<>();
          long allAttempts = 0;
          long allSucceeded = 0;
          for (int i = 0; i < window.count(); i++) {
            Instant start = window.start().plusSeconds(i * window.bucketSeconds());
            buckets.add(new Bucket(start, accepted[i], delivered[i], attempts[i] - succeeded[i]));
            allAttempts += attempts[i];
            allSucceeded += succeeded[i];
          }
          Double successRate = allAttempts == 0 ? null : (double) allSucceeded / allAttempts;
          return new Stats(
              window.seconds(), window.bucketSeconds(), buckets, successRate,
              deadLetters(c, tenant), endpointCounts(c, tenant, window));
        });
  }

  /** An attempt succeeded: the receiver answered 2xx. */
  private static final String OK = "status_code BETWEEN 200 AND 299";

  /** The bucket index of a timestamp column; the window's start and bucket size are parameters. */
  private static String bucketOf(String column) {
    return "floor((extract(epoch FROM " + column + ") - ?) / ?)::int";
  }

  /**
   * Runs a grouped count whose parameters are (start second, bucket size, tenant, start,
   * end), adding its first count into {@code first} and its second, if any, into {@code second}.
   */
  private static void perBucket(
      Connection c, Window window, UUID tenant, long[] first, long[] second, String sql) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      st.setLong(1, window.start().getEpochSecond());
      st.setLong(2, window.bucketSeconds());
      st.setObject(3, tenant);
      st.setTimestamp(4, Timestamp.from(window.start()));
      st.setTimestamp(5, Timestamp.from(window.end()));
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          int i = rs.getInt(1);
          if (i < 0 || i >= first.length) continue; // cannot happen: the range is the window
          first[i] += rs.getLong(2);
          if (second != null) second[i] += rs.getLong(3);
        }
      }
    }
  }

  /** Deliveries DEAD_LETTERED now, up to the limit: deliveries_tenant_dead_letters_idx. */
  private static long deadLetters(Connection c, UUID tenant) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE tenant_id = ? AND status = 'DEAD_LETTERED'"
            + " LIMIT ?) d")) {
      st.setObject(1, tenant);
      st.setInt(2, DEAD_LETTER_COUNT_LIMIT);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * The endpoints' counts: endpoints_tenant_idx for the tenant's endpoints, and for each
   * enabled one its last attempt in the window (attempts_endpoint_started_idx, read
   * backwards, one row).
   */
  private static EndpointCounts endpointCounts(Connection c, UUID tenant, Window window) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "SELECT count(*), count(*) FILTER (WHERE e.enabled AND NOT e.pending_verification),"
            + " count(*) FILTER (WHERE e.enabled AND e.pending_verification),"
            + " count(*) FILTER (WHERE e.enabled AND e.circuit_open_since IS NOT NULL),"
            + " count(*) FILTER (WHERE e.enabled AND (e.circuit_open_since IS NOT NULL OR last.failed))"
            + " FROM endpoints e LEFT JOIN LATERAL ("
            + "   SELECT NOT COALESCE(a." + OK + ", false) AS failed FROM attempts a"
            + "   WHERE a.endpoint_id = e.id AND a.started_at >= ? AND a.started_at < ?"
            + "   ORDER BY a.started_at DESC LIMIT 1) last ON e.enabled"
            + " WHERE e.tenant_id = ? AND NOT e.deleted AND NOT e.internal")) {
      st.setTimestamp(1, Timestamp.from(window.start()));
      st.setTimestamp(2, Timestamp.from(window.end()));
      st.setObject(3, tenant);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        long total = rs.getLong(1);
        long enabled = rs.getLong(2);
        long pending = rs.getLong(3);
        return new EndpointCounts(total, enabled, total - enabled - pending, pending, rs.getLong(4), rs.getLong(5));
      }
    }
  }

  /**
   * An endpoint's attempts started since {@code since}, how many of them succeeded, and its
   * last attempt ever (when it started, and its error: null if it succeeded).
   */
  public record Activity(long attempts, long succeeded, Instant lastAttemptAt, String lastError) {
    public Double successRate() {
      return attempts == 0 ? null : (double) succeeded / attempts;
    }
  }

  /**
   * The endpoint's activity (attempts_endpoint_started_idx). The caller has checked that the
   * endpoint is the tenant's.
   */
  public CompletionStage<Activity> activity(String endpointId, Instant since) {
    UUID endpoint = UUID.fromString(endpointId);
    return db.query(
        c -> {
          long attempts;
          long succeeded;
          try (PreparedStatement st = c.prepareStatement(
              "SELECT count(*), count(*) FILTER (WHERE " + OK + ") FROM attempts"
                  + " WHERE endpoint_id = ? AND started_at >= ?")) {
            st.setObject(1, endpoint);
            st.setTimestamp(2, Timestamp.from(since));
            try (ResultSet rs = st.executeQuery()) {
              rs.next();
              attempts = rs.getLong(1);
              succeeded = rs.getLong(2);
            }
          }
          try (PreparedStatement st = c.prepareStatement(
              "SELECT started_at, error FROM attempts WHERE endpoint_id = ?"
                  + " ORDER BY started_at DESC LIMIT 1")) {
            st.setObject(1, endpoint);
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) return new Activity(attempts, succeeded, null, null);
              return new Activity(attempts, succeeded, rs.getTimestamp(1).toInstant(), rs.getString(2));
            }
          }
        });
  }
}
