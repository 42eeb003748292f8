package io.zyven.app.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/** Tenants and their API keys, which are stored only as SHA-256 hashes. */
public final class TenantStore {

  public record Tenant(String id, String name) {}

  /** A new tenant with its key in clear: the only time the key is ever seen. */
  public record NewTenant(Tenant tenant, String apiKey) {}

  /**
   * A tenant as the admin lists it. {@code deadLetters} counts dead-lettered events up to
   * {@link #COUNT_CAP}, so that a list of tenants never walks millions of rows.
   */
  public record TenantSummary(String id, String name, Instant createdAt, int apiKeys, int endpoints, int deadLetters) {}

  public static final int COUNT_CAP = 10_000;

  /** A key issued to an existing tenant, in clear: shown once. */
  public record NewKey(String id, String tenantId, String apiKey, Instant createdAt) {}

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Database db;
  // Tenants and keys are never deleted, so a key once found stays valid; unknown keys are
  // not cached.
  private final Map<String, Tenant> byKeyHash = new ConcurrentHashMap<>();
  private final Map<String, Tenant> byId = new ConcurrentHashMap<>();

  public TenantStore(Database db) {
    this.db = db;
  }

  public CompletionStage<NewTenant> create(String name) {
    String apiKey = newKey();
    Tenant tenant = new Tenant(UUID.randomUUID().toString(), name);
    Instant now = Instant.now();
    return db.query(
        c ->
            inTransaction(
                c,
                () -> {
                  try (PreparedStatement st =
                      c.prepareStatement("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)")) {
                    st.setObject(1, UUID.fromString(tenant.id()));
                    st.setString(2, name);
                    st.setTimestamp(3, Timestamp.from(now));
                    st.executeUpdate();
                  }
                  insertKey(c, tenant.id(), apiKey, now);
                  return new NewTenant(tenant, apiKey);
                }));
  }

  /** Every tenant, oldest first. */
  public CompletionStage<List<TenantSummary>> list() {
    return db.query(
        c -> {
          try (PreparedStatement st =
                  c.prepareStatement(
                      "SELECT t.id, t.name, t.created_at,"
                          + " (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id),"
                          + " (SELECT count(*) FROM endpoints e WHERE e.tenant_id = t.id AND NOT e.deleted),"
                          // events_tenant_status_idx: a bounded index range per tenant
                          + " (SELECT count(*) FROM (SELECT 1 FROM events v WHERE v.tenant_id = t.id"
                          + "   AND v.status = 'DEAD_LETTERED' LIMIT " + COUNT_CAP + ") d)"
                          + " FROM tenants t ORDER BY t.created_at, t.id");
              ResultSet rs = st.executeQuery()) {
            List<TenantSummary> tenants = new ArrayList<>();
            while (rs.next()) {
              tenants.add(
                  new TenantSummary(
                      rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant(), rs.getInt(4),
                      rs.getInt(5), rs.getInt(6)));
            }
            return tenants;
          }
        });
  }

  /**
   * A new key for an existing tenant, for one that lost its own; empty when there is no
   * such tenant. The tenant's other keys keep working.
   */
  public CompletionStage<Optional<NewKey>> issueKey(String tenantId) {
    String apiKey = newKey();
    Instant now = Instant.now();
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement("SELECT 1 FROM tenants WHERE id = ?")) {
            st.setObject(1, UUID.fromString(tenantId));
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) return Optional.empty();
            }
          }
          String id = insertKey(c, tenantId, apiKey, now);
          return Optional.of(new NewKey(id, tenantId, apiKey, now));
        });
  }

  /** The tenant with this id (a UUID), if there is one. Found ones are cached: tenants are never deleted. */
  public CompletionStage<Optional<Tenant>> find(String tenantId) {
    Tenant cached = byId.get(tenantId);
    if (cached != null) return CompletableFuture.completedFuture(Optional.of(cached));
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement("SELECT id, name FROM tenants WHERE id = ?")) {
            st.setObject(1, UUID.fromString(tenantId));
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) return Optional.empty();
              Tenant t = new Tenant(rs.getString(1), rs.getString(2));
              byId.put(tenantId, t);
              return Optional.of(t);
            }
          }
        });
  }

  public CompletionStage<Optional<Tenant>> authenticate(String apiKey) {
    String keyHash = hash(apiKey);
    Tenant cached = byKeyHash.get(keyHash);
    if (cached != null) return CompletableFuture.completedFuture(Optional.of(cached));
    return db.query(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT t.id, t.name FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = ?")) {
            st.setString(1, keyHash);
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) return Optional.empty();
              Tenant t = new Tenant(rs.getString(1), rs.getString(2));
              byKeyHash.put(keyHash, t);
              return Optional.of(t);
            }
          }
        });
  }

  private static String insertKey(Connection c, String tenantId, String apiKey, Instant now) throws SQLException {
    UUID id = UUID.randomUUID();
    try (PreparedStatement st =
        c.prepareStatement("INSERT INTO api_keys (id, tenant_id, key_hash, created_at) VALUES (?, ?, ?, ?)")) {
      st.setObject(1, id);
      st.setObject(2, UUID.fromString(tenantId));
      st.setString(3, hash(apiKey));
      st.setTimestamp(4, Timestamp.from(now));
      st.executeUpdate();
    }
    return id.toString();
  }

  private interface Work<T> {
    T run() throws SQLException;
  }

  private static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
    c.setAutoCommit(false);
    try {
      T result = work.run();
      c.commit();
      return result;
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  /** 256 random bits: enough that a fast hash needs no salt or stretching. */
  private static String newKey() {
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    return "zyv_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
  }

  static String hash(String key) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(sha.digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
