package io.zyven.app.alert;

import io.zyven.app.store.Database;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/** The {@code alert_channels} and {@code alert_sends} tables. */
public final class AlertChannels {

  /**
   * A channel. {@code endpointId} is its own (internal) endpoint for the kinds delivered
   * through the normal path (webhook, slack, pagerduty); null for email.
   */
  public record Channel(
      UUID id,
      UUID tenantId,
      String kind,
      String url,
      String routingKey,
      List<String> to,
      List<String> eventTypes,
      UUID endpointId,
      Instant createdAt,
      Instant updatedAt) {

    /** Whether the channel hears about operational events of this type. */
    public boolean subscribes(String type) {
      return eventTypes.isEmpty() || eventTypes.contains(type);
    }
  }

  /**
   * One message sent to a channel. {@code eventId} is the Zyven event that carries it (path
   * kinds), and {@code deliveryStatus} that event's delivery as the read model has it.
   */
  public record Send(
      Instant at, List<String> types, String summary, UUID eventId, String outcome, String error, String deliveryStatus) {}

  /** How many of a channel's latest sends are kept. */
  static final int SENDS_KEPT = 50;

  private final Database db;

  public AlertChannels(Database db) {
    this.db = db;
  }

  private static final String COLUMNS =
      "id, tenant_id, kind, url, routing_key, email_to, event_types, endpoint_id, created_at, updated_at";

  CompletionStage<Void> insert(Channel ch) {
    return db.query(c -> {
      try (PreparedStatement st = c.prepareStatement(
          "INSERT INTO alert_channels (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        st.setObject(1, ch.id());
        st.setObject(2, ch.tenantId());
        st.setString(3, ch.kind());
        st.setString(4, ch.url());
        st.setString(5, ch.routingKey());
        st.setArray(6, ch.to() == null ? null : c.createArrayOf("text", ch.to().toArray()));
        st.setArray(7, c.createArrayOf("text", ch.eventTypes().toArray()));
        if (ch.endpointId() == null) st.setNull(8, Types.OTHER);
        else st.setObject(8, ch.endpointId());
        st.setTimestamp(9, Timestamp.from(ch.createdAt()));
        st.setTimestamp(10, Timestamp.from(ch.updatedAt()));
        st.executeUpdate();
      }
      return null;
    });
  }

  /** Writes every field but the id, tenant, kind, endpoint and creation time. */
  CompletionStage<Void> update(Channel ch) {
    return db.query(c -> {
      try (PreparedStatement st = c.prepareStatement(
          "UPDATE alert_channels SET url = ?, routing_key = ?, email_to = ?, event_types = ?, updated_at = ?"
              + " WHERE id = ? AND tenant_id = ?")) {
        st.setString(1, ch.url());
        st.setString(2, ch.routingKey());
        st.setArray(3, ch.to() == null ? null : c.createArrayOf("text", ch.to().toArray()));
        st.setArray(4, c.createArrayOf("text", ch.eventTypes().toArray()));
        st.setTimestamp(5, Timestamp.from(ch.updatedAt()));
        st.setObject(6, ch.id());
        st.setObject(7, ch.tenantId());
        st.executeUpdate();
      }
      return null;
    });
  }

  /** Removes the channel and its sends; whether it was the tenant's. */
  CompletionStage<Boolean> delete(UUID tenantId, UUID id) {
    return db.query(c -> {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try (PreparedStatement st = c.prepareStatement("DELETE FROM alert_channels WHERE id = ? AND tenant_id = ?");
          PreparedStatement sends = c.prepareStatement("DELETE FROM alert_sends WHERE channel_id = ?")) {
        st.setObject(1, id);
        st.setObject(2, tenantId);
        boolean found = st.executeUpdate() > 0;
        if (found) {
          sends.setObject(1, id);
          sends.executeUpdate();
        }
        c.commit();
        return found;
      } catch (SQLException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    });
  }

  CompletionStage<Optional<Channel>> get(UUID tenantId, UUID id) {
    return db.query(c -> {
      try (PreparedStatement st = c.prepareStatement(
          "SELECT " + COLUMNS + " FROM alert_channels WHERE id = ? AND tenant_id = ?")) {
        st.setObject(1, id);
        st.setObject(2, tenantId);
        List<Channel> found = read(st);
        return found.isEmpty() ? Optional.<Channel>empty() : Optional.of(found.get(0));
      }
    });
  }

  /** The tenant's channels, oldest first. */
  public CompletionStage<List<Channel>> list(UUID tenantId) {
    return db.query(c -> {
      try (PreparedStatement st = c.prepareStatement(
          "SELECT " + COLUMNS + " FROM alert_channels WHERE tenant_id = ? ORDER BY created_at, id")) {
        st.setObject(1, tenantId);
        return read(st);
      }
    });
  }

  CompletionStage<Long> count(UUID tenantId) {
    return db.query(c -> {
      try (PreparedStatement st = c.prepareStatement("SELECT count(*) FROM alert_channels WHERE tenant_id = ?")) {
        st.setObject(1, tenantId);
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      }
    });
  }

  private static List<Channel> read(PreparedStatement st) throws SQLException {
    List<Channel> channels = new ArrayList<>();
    try (ResultSet rs = st.executeQuery()) {
      while (rs.next()) {
        channels.add(new Channel(
            (UUID) rs.getObject(1), (UUID) rs.getObject(2), rs.getString(3), rs.getString(4), rs.getString(5),
            texts(rs.getArray(6)), texts(rs.getArray(7)), (UUID) rs.getObject(8),
            rs.getTimestamp(9).toInstant(), rs.getTimestamp(10).toInstant()));
      }
    }
    return channels;
  }

  private static List<String> texts(Array array) throws SQLException {
    return array == null ? null : List.copyOf(Arrays.asList((String[]) array.getArray()));
  }

  // ---- sends ----

  /** Whether a message with this key was sent already (a batch sent again after a crash). */
  static boolean sent(Connection c, String sendKey) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("SELECT 1 FROM alert_sends WHERE send_key = ? AND outcome = 'sent'")) {
      st.setString(1, sendKey);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next();
      }
    }
  }

  CompletionStage<Boolean> sent(String sendKey) {
    return db.query(c -> sent(c, sendKey));
  }

  /** Records a send once per key, and keeps only the channel's latest {@link #SENDS_KEPT}. */
  CompletionStage<Void> record(
      UUID channelId, String sendKey, Instant at, List<String> types, String summary, UUID eventId, String outcome,
      String error) {
    return db.query(c -> {
      try (PreparedStatement st = c.prepareStatement(
          "INSERT INTO alert_sends (channel_id, send_key, at, types, summary, event_id, outcome, error)"
              + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
              + " ON CONFLICT (send_key) DO UPDATE SET outcome = EXCLUDED.outcome, error = EXCLUDED.error,"
              + " event_id = COALESCE(EXCLUDED.event_id, alert_sends.event_id)");
          PreparedStatement trim = c.prepareStatement(
              "DELETE FROM alert_sends WHERE channel_id = ? AND id < (SELECT min(id) FROM"
                  + " (SELECT id FROM alert_sends WHERE channel_id = ? ORDER BY id DESC LIMIT ?) newest)")) {
        st.setObject(1, channelId);
        st.setString(2, sendKey);
        st.setTimestamp(3, Timestamp.from(at));
        st.setArray(4, c.createArrayOf("text", types.toArray()));
        st.setString(5, summary.length() > 1000 ? summary.substring(0, 1000) : summary);
        if (eventId == null) st.setNull(6, Types.OTHER);
        else st.setObject(6, eventId);
        st.setString(7, outcome);
        st.setString(8, error == null ? null : error.length() > 1000 ? error.substring(0, 1000) : error);
        st.executeUpdate();
        trim.setObject(1, channelId);
        trim.setObject(2, channelId);
        trim.setInt(3, SENDS_KEPT);
        trim.executeUpdate();
      }
      return null;
    });
  }

  /**
   * The channel's latest sends, newest first, each with the status of the delivery that
   * carries it (from the read model; null until projected, or for email).
   */
  CompletionStage<List<Send>> lastSends(UUID channelId, UUID endpointId, int limit) {
    return db.query(c -> {
      try (PreparedStatement st = c.prepareStatement(
          "SELECT s.at, s.types, s.summary, s.event_id, s.outcome, s.error, d.status FROM alert_sends s"
              + " LEFT JOIN deliveries d ON d.event_id = s.event_id AND d.endpoint_id = ?"
              + " WHERE s.channel_id = ? ORDER BY s.id DESC LIMIT ?")) {
        if (endpointId == null) st.setNull(1, Types.OTHER);
        else st.setObject(1, endpointId);
        st.setObject(2, channelId);
        st.setInt(3, limit);
        List<Send> sends = new ArrayList<>();
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            sends.add(new Send(
                rs.getTimestamp(1).toInstant(), texts(rs.getArray(2)), rs.getString(3), (UUID) rs.getObject(4),
                rs.getString(5), rs.getString(6), rs.getString(7)));
          }
        }
        return sends;
      }
    });
  }
}
