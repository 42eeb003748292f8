package io.zyven.app.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.json.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.UnaryOperator;

/**
 * The event-type catalogue (table {@code event_types}) and its audit trail
 * ({@code event_type_changes}). Every change and its audit row are written in one
 * transaction. What a valid schema is, is not this class's to say: callers pass a check.
 */
public final class EventTypeStore {

  /** One type as stored; {@code schema} and {@code example} are JSON text as sent, or null. */
  public record EventType(
      String name, String description, String schema, String example, boolean archived, long version,
      Instant createdAt, Instant updatedAt) {}

  /** One audited change: {@code changes} holds the fields it set, with their new values. */
  public record Change(long id, String action, JsonNode changes, String by, Instant at) {}

  /**
   * What ingest needs to know of an event's type: whether the tenant requires registered
   * types, whether this one is registered and archived, its schema's version, and the schema
   * text only when the caller's cached version is not the current one.
   */
  public record TypeState(
      boolean requireRegistered, boolean registered, boolean archived, long version, boolean hasSchema,
      String schemaText) {}

  /** A page of the catalogue, by name, and whether more follow it. */
  public record Page(List<EventType> types, boolean more) {}

  private final Database db;

  public EventTypeStore(Database db) {
    this.db = db;
  }

  /**
   * Ingest's lookup, on the caller's connection (the fan-out lookup's, so one checkout):
   * one row from the tenant joined with its type. {@code cachedVersion}: the version whose
   * compiled schema the caller holds (0: none), so the text is read only when it changed.
   */
  public static TypeState typeState(Connection c, String tenantId, String name, long cachedVersion)
      throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            "SELECT t.require_registered_types, et.version, et.archived, et.schema IS NOT NULL,"
                + " CASE WHEN et.version <> ? THEN et.schema END"
                + " FROM tenants t LEFT JOIN event_types et ON et.tenant_id = t.id AND et.name = ?"
                + " WHERE t.id = ?")) {
      st.setLong(1, cachedVersion);
      st.setString(2, name);
      st.setObject(3, UUID.fromString(tenantId));
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) return new TypeState(false, false, false, 0, false, null);
        long version = rs.getLong(2);
        boolean registered = !rs.wasNull();
        return new TypeState(rs.getBoolean(1), registered, registered && rs.getBoolean(3), version,
            registered && rs.getBoolean(4), rs.getString(5));
      }
    }
  }

  /** A new type, audited as {@code created} by {@code by}; empty when the tenant has one of that name. */
  public CompletionStage<Optional<EventType>> create(String tenantId, EventType type, String by, int maxPerTenant) {
    Instant now = Instant.now();
    return db.query(c -> Database.inTransaction(c, () -> {
      try (PreparedStatement lock = c.prepareStatement("SELECT 1 FROM tenants WHERE id = ? FOR UPDATE")) {
        // Serialises a tenant's creates, so the cap holds under concurrent requests.
        lock.setObject(1, UUID.fromString(tenantId));
        lock.executeQuery().close();
      }
      if (count(c, tenantId) >= maxPerTenant) throw new LimitReached(maxPerTenant);
      try (PreparedStatement st =
          c.prepareStatement(
              "INSERT INTO event_types (tenant_id, name, description, schema, example, archived, created_at, updated_at)"
                  + " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING " + COLUMNS)) {
        st.setObject(1, UUID.fromString(tenantId));
        st.setString(2, type.name());
        st.setString(3, type.description());
        st.setString(4, type.schema());
        st.setString(5, type.example());
        st.setBoolean(6, type.archived());
        st.setTimestamp(7, Timestamp.from(now));
        st.setTimestamp(8, Timestamp.from(now));
        try (ResultSet rs = st.executeQuery()) {
          if (!rs.next()) return Optional.<EventType>empty();
          EventType created = read(rs);
          audit(c, tenantId, created.name(), "created", fields(created), by, now);
          return Optional.of(created);
        }
      }
    }));
  }

  /** The tenant's already at its cap of types. */
  public static final class LimitReached extends RuntimeException {
    public final int max;

    LimitReached(int max) {
      super("this tenant has " + max + " event types, the most allowed; delete one first", null, false, false);
      this.max = max;
    }
  }

  public CompletionStage<Optional<EventType>> get(String tenantId, String name) {
    return db.query(c -> {
      try (PreparedStatement st =
          c.prepareStatement("SELECT " + COLUMNS + " FROM event_types WHERE tenant_id = ? AND name = ?")) {
        st.setObject(1, UUID.fromString(tenantId));
        st.setString(2, name);
        try (ResultSet rs = st.executeQuery()) {
          return rs.next() ? Optional.of(read(rs)) : Optional.<EventType>empty();
        }
      }
    });
  }

  /** The tenant's types by name, at most {@code limit} after {@code afterName} (null: from the first). */
  public CompletionStage<Page> page(String tenantId, boolean includeArchived, String afterName, int limit) {
    return db.query(c -> {
      try (PreparedStatement st =
          c.prepareStatement(
              "SELECT " + COLUMNS + " FROM event_types WHERE tenant_id = ?"
                  + (includeArchived ? "" : " AND NOT archived")
                  + (afterName != null ? " AND name > ?" : "")
                  + " ORDER BY name LIMIT ?")) {
        int i = 1;
        st.setObject(i++, UUID.fromString(tenantId));
        if (afterName != null) st.setString(i++, afterName);
        st.setInt(i, limit + 1);
        List<EventType> types = new ArrayList<>();
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) types.add(read(rs));
        }
        boolean more = types.size() > limit;
        return new Page(more ? List.copyOf(types.subList(0, limit)) : types, more);
      }
    });
  }

  /** Every type name of the tenant with whether it is archived: what endpoint filters are checked against. */
  public CompletionStage<Map<String, Boolean>> names(String tenantId) {
    return db.query(c -> {
      try (PreparedStatement st = c.prepareStatement("SELECT name, archived FROM event_types WHERE tenant_id = ?")) {
        st.setObject(1, UUID.fromString(tenantId));
        Map<String, Boolean> names = new java.util.HashMap<>();
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) names.put(rs.getString(1), rs.getBoolean(2));
        }
        return names;
      }
    });
  }

  /**
   * Changes a type: {@code change} gets the stored type and returns the new one (it may
   * throw to refuse). Audited with the fields that differ; a change that changes nothing
   * writes nothing. Empty when there is no such type.
   */
  public CompletionStage<Optional<EventType>> update(
      String tenantId, String name, UnaryOperator<EventType> change, String by) {
    Instant now = Instant.now();
    return db.query(c -> Database.inTransaction(c, () -> {
      EventType old;
      try (PreparedStatement st =
          c.prepareStatement("SELECT " + COLUMNS + " FROM event_types WHERE tenant_id = ? AND name = ? FOR UPDATE")) {
        st.setObject(1, UUID.fromString(tenantId));
        st.setString(2, name);
        try (ResultSet rs = st.executeQuery()) {
          if (!rs.next()) return Optional.<EventType>empty();
          old = read(rs);
        }
      }
      EventType next = change.apply(old);
      Map<String, Object> changed = new java.util.LinkedHashMap<>();
      if (!next.description().equals(old.description())) changed.put("description", next.description());
      if (!java.util.Objects.equals(next.schema(), old.schema())) changed.put("schema", raw(next.schema()));
      if (!java.util.Objects.equals(next.example(), old.example())) changed.put("example", raw(next.example()));
      if (next.archived() != old.archived()) changed.put("archived", next.archived());
      if (changed.isEmpty()) return Optional.of(old);
      try (PreparedStatement st =
          c.prepareStatement(
              "UPDATE event_types SET description = ?, schema = ?, example = ?, archived = ?,"
                  + " version = nextval('event_type_versions'), updated_at = ?"
                  + " WHERE tenant_id = ? AND name = ? RETURNING " + COLUMNS)) {
        st.setString(1, next.description());
        st.setString(2, next.schema());
        st.setString(3, next.example());
        st.setBoolean(4, next.archived());
        st.setTimestamp(5, Timestamp.from(now));
        st.setObject(6, UUID.fromString(tenantId));
        st.setString(7, name);
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          EventType updated = read(rs);
          String action = changed.size() == 1 && changed.containsKey("archived")
              ? (next.archived() ? "archived" : "unarchived") : "updated";
          audit(c, tenantId, name, action, changed, by, now);
          return Optional.of(updated);
        }
      }
    }));
  }

  /** Deletes a type, audited; false when there was none. Its audit trail stays. */
  public CompletionStage<Boolean> delete(String tenantId, String name, String by) {
    Instant now = Instant.now();
    return db.query(c -> Database.inTransaction(c, () -> {
      try (PreparedStatement st = c.prepareStatement("DELETE FROM event_types WHERE tenant_id = ? AND name = ?")) {
        st.setObject(1, UUID.fromString(tenantId));
        st.setString(2, name);
        if (st.executeUpdate() == 0) return false;
      }
      audit(c, tenantId, name, "deleted", Map.of(), by, now);
      return true;
    }));
  }

  /** The latest {@code limit} changes to a type of this name, newest first (also after it was deleted). */
  public CompletionStage<List<Change>> history(String tenantId, String name, int limit) {
    return db.query(c -> {
      try (PreparedStatement st =
          c.prepareStatement(
              "SELECT id, action, changes::text, by, at FROM event_type_changes WHERE tenant_id = ? AND name = ?"
                  + " ORDER BY id DESC LIMIT ?")) {
        st.setObject(1, UUID.fromString(tenantId));
        st.setString(2, name);
        st.setInt(3, limit);
        List<Change> changes = new ArrayList<>();
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            changes.add(new Change(rs.getLong(1), rs.getString(2), Json.MAPPER.readTree(rs.getString(3)), rs.getString(4),
                rs.getTimestamp(5).toInstant()));
          }
        } catch (JsonProcessingException e) {
          throw new IllegalStateException("unreadable event_type_changes.changes", e);
        }
        return changes;
      }
    });
  }

  private static final String COLUMNS = "name, description, schema, example, archived, version, created_at, updated_at";

  private static EventType read(ResultSet rs) throws SQLException {
    return new EventType(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getBoolean(5),
        rs.getLong(6), rs.getTimestamp(7).toInstant(), rs.getTimestamp(8).toInstant());
  }

  private static int count(Connection c, String tenantId) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("SELECT count(*) FROM event_types WHERE tenant_id = ?")) {
      st.setObject(1, UUID.fromString(tenantId));
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  private static Map<String, Object> fields(EventType t) {
    Map<String, Object> f = new java.util.LinkedHashMap<>();
    f.put("description", t.description());
    f.put("schema", raw(t.schema()));
    f.put("example", raw(t.example()));
    f.put("archived", t.archived());
    return f;
  }

  /** Stored JSON text as a JSON value in the audit row (it was checked to be JSON when saved). */
  private static Object raw(String json) {
    if (json == null) return null;
    try {
      return Json.MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      return json;
    }
  }

  private static void audit(
      Connection c, String tenantId, String name, String action, Map<String, Object> changes, String by, Instant at)
      throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            "INSERT INTO event_type_changes (tenant_id, name, action, changes, by, at) VALUES (?, ?, ?, ?::jsonb, ?, ?)")) {
      st.setObject(1, UUID.fromString(tenantId));
      st.setString(2, name);
      st.setString(3, action);
      st.setString(4, new String(Json.bytes(changes), java.nio.charset.StandardCharsets.UTF_8));
      st.setString(5, by);
      st.setTimestamp(6, Timestamp.from(at));
      st.executeUpdate();
    }
  }
}
