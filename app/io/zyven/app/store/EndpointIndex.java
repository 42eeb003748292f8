package io.zyven.app.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.zyven.app.json.Json;
import io.zyven.protocol.EndpointApi.EndpointView;
import io.zyven.protocol.EndpointConfig;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionStage;

/**
 * The endpoints table: a query copy of every EndpointEntity, for listing a tenant's
 * endpoints and for ingest fan-out. The entity's journal is the truth; a row only ever
 * moves to a newer version, so late or repeated writes are harmless.
 */
public final class EndpointIndex {

  /** What fan-out needs to know of an enabled endpoint. */
  public record Subscription(String endpointId, List<String> eventTypes) {}

  private final Database db;

  public EndpointIndex(Database db) {
    this.db = db;
  }

  /** Never writes a secret: the view has none, and only the id of the key that seals it is kept. */
  public CompletionStage<Void> upsert(EndpointConfig config, boolean deleted) {
    String json = toJson(EndpointView.of(config));
    String keyId = SecretBox.keyIdOf(config.secret());
    // Resealing is done only when the previous secret is under the same key too.
    if (config.previousSecret() != null && (keyId == null || !keyId.equals(SecretBox.keyIdOf(config.previousSecret())))) {
      keyId = null;
    }
    String sealedUnder = keyId;
    return db.query(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "INSERT INTO endpoints"
                      + " (id, tenant_id, event_types, enabled, deleted, version, config, created_at, secret_key_id, internal,"
                      + " pending_verification)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?)"
                      + " ON CONFLICT (id) DO UPDATE SET event_types = EXCLUDED.event_types,"
                      + " enabled = EXCLUDED.enabled, deleted = EXCLUDED.deleted,"
                      + " version = EXCLUDED.version, config = EXCLUDED.config,"
                      + " secret_key_id = EXCLUDED.secret_key_id,"
                      + " pending_verification = EXCLUDED.pending_verification"
                      + " WHERE endpoints.version < EXCLUDED.version")) {
            st.setObject(1, UUID.fromString(config.id()));
            st.setObject(2, UUID.fromString(config.tenantId()));
            st.setArray(3, c.createArrayOf("text", config.eventTypes().toArray()));
            st.setBoolean(4, config.enabled());
            st.setBoolean(5, deleted);
            st.setLong(6, config.version());
            st.setString(7, json);
            st.setTimestamp(8, Timestamp.from(config.createdAt()));
            st.setString(9, sealedUnder);
            st.setBoolean(10, config.internal());
            st.setBoolean(11, config.pendingVerification());
            st.executeUpdate();
          }
          return null;
        });
  }

  /**
   * Records whether the endpoint's circuit is open ({@code openSince} non-null) as of the
   * journal's sequence number {@code seqNr}; a write of an older state changes nothing.
   */
  public CompletionStage<Void> circuit(String id, Instant openSince, long seqNr) {
    return db.query(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "UPDATE endpoints SET circuit_open_since = ?, circuit_seq_nr = ?"
                      + " WHERE id = ? AND circuit_seq_nr < ?")) {
            st.setTimestamp(1, openSince == null ? null : Timestamp.from(openSince));
            st.setLong(2, seqNr);
            st.setObject(3, UUID.fromString(id));
            st.setLong(4, seqNr);
            st.executeUpdate();
          }
          return null;
        });
  }

  /** The tenant's endpoints, oldest first. */
  public CompletionStage<List<EndpointView>> list(String tenantId) {
    return db.query(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT config FROM endpoints WHERE tenant_id = ? AND NOT deleted AND NOT internal"
                      + " ORDER BY created_at, id")) {
            st.setObject(1, UUID.fromString(tenantId));
            List<EndpointView> views = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) views.add(fromJson(rs.getString(1)));
            }
            return views;
          }
        });
  }

  /** A page of a tenant's endpoints, and whether more follow it. */
  public record Page(List<EndpointView> endpoints, boolean more) {}

  /**
   * The tenant's endpoints, oldest first: at most {@code limit} of them, after the one
   * created at {@code afterCreatedAt} with id {@code afterId} (both null: from the oldest),
   * and only those in {@code onlyIds} when it is given. A keyset page on (created_at, id).
   */
  public CompletionStage<Page> page(
      String tenantId, Set<String> onlyIds, int limit, Instant afterCreatedAt, UUID afterId) {
    return db.query(
        c -> {
          String sql =
              "SELECT config FROM endpoints WHERE tenant_id = ? AND NOT deleted AND NOT internal"
                  + (onlyIds != null ? " AND id = ANY (?)" : "")
                  + (afterId != null ? " AND (created_at, id) > (?, ?)" : "")
                  + " ORDER BY created_at, id LIMIT ?";
          try (PreparedStatement st = c.prepareStatement(sql)) {
            int i = 1;
            st.setObject(i++, UUID.fromString(tenantId));
            if (onlyIds != null) st.setArray(i++, c.createArrayOf("uuid", onlyIds.stream().map(UUID::fromString).toArray()));
            if (afterId != null) {
              st.setTimestamp(i++, Timestamp.from(afterCreatedAt));
              st.setObject(i++, afterId);
            }
            st.setInt(i, limit + 1); // one more tells whether there is a next page
            List<EndpointView> views = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) views.add(fromJson(rs.getString(1)));
            }
            boolean more = views.size() > limit;
            return new Page(more ? List.copyOf(views.subList(0, limit)) : views, more);
          }
        });
  }

  /** How many endpoints the tenant has (deleted ones are not counted). */
  public CompletionStage<Long> count(String tenantId) {
    return db.query(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement("SELECT count(*) FROM endpoints WHERE tenant_id = ? AND NOT deleted AND NOT internal")) {
            st.setObject(1, UUID.fromString(tenantId));
            try (ResultSet rs = st.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }

  /**
   * Whose endpoint this is (deleted ones included); empty if the index has no such endpoint,
   * or it is an alert channel's own (managed through {@code /v1/alert-channels} only).
   */
  public CompletionStage<Optional<String>> tenantOf(String id) {
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement("SELECT tenant_id FROM endpoints WHERE id = ? AND NOT internal")) {
            st.setObject(1, UUID.fromString(id));
            try (ResultSet rs = st.executeQuery()) {
              return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
            }
          }
        });
  }

  /**
   * The tenant's enabled endpoints, or just {@code onlyId} when it is given; never an
   * internal one, nor one pending verification (it receives no events until it passes).
   */
  public CompletionStage<List<Subscription>> enabled(String tenantId, UUID onlyId) {
    return enabled(tenantId, onlyId, false);
  }

  /**
   * The same; with {@code internal}, {@code onlyId} may be an alert channel's own endpoint
   * (the alert dispatcher targets it), which no tenant request reaches.
   */
  public CompletionStage<List<Subscription>> enabled(String tenantId, UUID onlyId, boolean internal) {
    return db.query(c -> enabled(c, tenantId, onlyId, internal));
  }

  /** The enabled endpoints and what {@code also} reads, on one connection: ingest's one pool checkout. */
  public record Fanout<T>(List<Subscription> subscriptions, T also) {}

  /** {@link #enabled(String, UUID, boolean)}, after {@code also} has run on the same connection. */
  public <T> CompletionStage<Fanout<T>> enabled(String tenantId, UUID onlyId, boolean internal, Database.Sql<T> also) {
    return db.query(c -> {
      T first = also.run(c);
      return new Fanout<>(enabled(c, tenantId, onlyId, internal), first);
    });
  }

  private static List<Subscription> enabled(Connection c, String tenantId, UUID onlyId, boolean internal)
      throws SQLException {
    String sql =
        "SELECT id, event_types FROM endpoints WHERE tenant_id = ? AND enabled AND NOT deleted"
            + " AND NOT pending_verification"
            + (internal && onlyId != null ? "" : " AND NOT internal")
            + (onlyId != null ? " AND id = ?" : "");
    try (PreparedStatement st = c.prepareStatement(sql)) {
      st.setObject(1, UUID.fromString(tenantId));
      if (onlyId != null) st.setObject(2, onlyId);
      List<Subscription> subs = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          Array types = rs.getArray(2);
          subs.add(new Subscription(rs.getString(1), Arrays.asList((String[]) types.getArray())));
        }
      }
      return subs;
    }
  }

  /**
   * Up to {@code limit} endpoints (not deleted) whose secrets are not sealed under
   * {@code keyId}, in id order after {@code afterId} (null: from the first): the start-up
   * reseal sweep pages through them.
   */
  public CompletionStage<List<String>> notSealedUnder(String keyId, String afterId, int limit) {
    return db.query(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT id FROM endpoints WHERE NOT deleted AND secret_key_id IS DISTINCT FROM ?"
                      + (afterId != null ? " AND id > ?" : "") + " ORDER BY id LIMIT ?")) {
            int i = 1;
            st.setString(i++, keyId);
            if (afterId != null) st.setObject(i++, UUID.fromString(afterId));
            st.setInt(i, limit);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) ids.add(rs.getString(1));
            }
            return ids;
          }
        });
  }

  private static String toJson(EndpointView view) {
    try {
      return Json.MAPPER.writeValueAsString(view);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static EndpointView fromJson(String json) {
    try {
      return Json.MAPPER.readValue(json, EndpointView.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("unreadable endpoints.config", e);
    }
  }
}
