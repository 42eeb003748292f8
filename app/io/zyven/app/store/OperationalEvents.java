package io.zyven.app.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The outbox of operational events ({@code operational_events}): what happened to a
 * tenant's endpoint that the tenant should hear about. The projections write it on their
 * own connection, in the transaction that commits their offset, so a journaled change gives
 * exactly one row even if a node dies; the alert dispatcher reads and claims it.
 */
public final class OperationalEvents {
  private OperationalEvents() {}

  public static final String ENDPOINT_DISABLED = "endpoint.disabled";
  public static final String ENDPOINT_ENABLED = "endpoint.enabled";
  public static final String CIRCUIT_OPENED = "endpoint.circuit_opened";
  public static final String CIRCUIT_CLOSED = "endpoint.circuit_closed";
  public static final String DEAD_LETTERED = "delivery.dead_lettered";

  /** Every operational event type, in the order the API lists them. */
  public static final List<String> TYPES =
      List.of(ENDPOINT_DISABLED, ENDPOINT_ENABLED, CIRCUIT_OPENED, CIRCUIT_CLOSED, DEAD_LETTERED);

  /**
   * One operational event to record. {@code tenantId} may be null: it is then the
   * endpoint's, from the index. {@code sourceKey} names the journal record it comes from.
   */
  public record Row(
      String sourceKey, UUID tenantId, String type, UUID endpointId, UUID eventId, String reason, Instant occurredAt) {}

  /**
   * Inserts the rows on {@code c} (the caller's transaction). A row about an alert channel's
   * own endpoint is dropped here, so an alert that fails never raises another (no loops),
   * and a row already recorded (same source) is not recorded twice.
   */
  public static void insert(Connection c, List<Row> rows) throws SQLException {
    if (rows.isEmpty()) return;
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO operational_events (source_key, tenant_id, type, endpoint_id, event_id, reason, occurred_at)"
            + " SELECT ?, COALESCE(?::uuid, e.tenant_id), ?, e.id, ?::uuid, ?, ? FROM endpoints e"
            + " WHERE e.id = ? AND NOT e.internal"
            + " ON CONFLICT (source_key) DO NOTHING")) {
      for (Row r : rows) {
        st.setString(1, r.sourceKey());
        uuid(st, 2, r.tenantId());
        st.setString(3, r.type());
        uuid(st, 4, r.eventId());
        st.setString(5, r.reason() == null ? null : truncate(r.reason(), 1000));
        st.setTimestamp(6, Timestamp.from(r.occurredAt()));
        st.setObject(7, r.endpointId());
        st.addBatch();
      }
      st.executeBatch();
    }
  }

  private static void uuid(PreparedStatement st, int i, UUID value) throws SQLException {
    if (value == null) st.setNull(i, Types.OTHER);
    else st.setObject(i, value);
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }
}
