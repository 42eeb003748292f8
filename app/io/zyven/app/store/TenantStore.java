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
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tenants and their API keys, which are stored only as SHA-256 hashes. A key has scopes
 * ({@code ingest}, {@code read}, {@code manage}), may have its own ingest rate limit, and
 * can be revoked.
 */
public final class TenantStore {
  private static final Logger log = LoggerFactory.getLogger(TenantStore.class);

  public record Tenant(String id, String name) {}

  /** A new tenant with its key in clear: the only time the key is ever seen. */
  public record NewTenant(Tenant tenant, String apiKey) {}

  /**
   * A tenant as the admin lists it. {@code deadLetters} counts dead-lettered events up to
   * {@link #COUNT_CAP}, so that a list of tenants never walks millions of rows.
   */
  public record TenantSummary(
      String id, String name, Instant createdAt, int apiKeys, int endpoints, int deadLetters, Integer retentionPeriodDays,
      boolean verifyEndpoints, boolean requireRegisteredTypes) {}

  public static final int COUNT_CAP = 10_000;

  /** A key issued to an existing tenant, in clear: shown once. */
  public record NewKey(String id, String tenantId, String apiKey, Instant createdAt) {}

  /** Every scope, as the wire and the database spell them: what the first key and admin-issued keys get. */
  public static final List<String> ALL_SCOPES = List.of("ingest", "read", "manage");

  /** How many keys a tenant may hold at once through {@code POST /v1/api-keys}. */
  public static final int MAX_KEYS_PER_TENANT = 100;

  /**
   * A key that authenticated: whose it is and what it may do.
   *
   * @param rateLimitPerSecond its own ingest limit; null: the configured default
   */
  public record ApiKey(String id, Tenant tenant, Set<String> scopes, Integer rateLimitPerSecond) {}

  /** A key as its tenant lists it: never the key itself. */
  public record KeyView(
      String id, String name, List<String> scopes, Integer rateLimitPerSecond, Instant createdAt, Instant lastUsedAt) {}

  /** A key just created, in clear: shown once. */
  public record IssuedKey(KeyView view, String apiKey) {}

  /**
   * @param cacheTtl how long a node trusts a key it found without asking the database again:
   *     the longest a key revoked on another node keeps working here
   * @param lastUsedEvery {@code last_used_at} is written at most this often per key and node
   */
  public record Settings(Duration cacheTtl, Duration lastUsedEvery) {}

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Database db;
  private final long cacheTtlNanos;
  private final long lastUsedEveryNanos;
  // Found keys by hash, with when they were read; unknown keys are not cached. A lookup in
  // flight is shared, so an expiry under load asks the database once, not once per request.
  private final Map<String, CachedKey> byKeyHash = new ConcurrentHashMap<>();
  // When this node last wrote a key's last_used_at (System.nanoTime), by key id.
  private final Map<String, Long> lastUsedWritten = new ConcurrentHashMap<>();
  private final Map<String, Tenant> byId = new ConcurrentHashMap<>();

  private record CachedKey(CompletableFuture<Optional<ApiKey>> key, long readAt) {}

  public TenantStore(Database db, Settings settings) {
    this.db = db;
    this.cacheTtlNanos = settings.cacheTtl().toNanos();
    this.lastUsedEveryNanos = settings.lastUsedEvery().toNanos();
  }

  public CompletionStage<NewTenant> create(String name) {
    String apiKey = newKey();
    Tenant tenant = new Tenant(UUID.randomUUID().toString(), name);
    Instant now = Instant.now();
    return db.query(
        c ->
            Database.inTransaction(
                c,
                () -> {
                  try (PreparedStatement st =
                      c.prepareStatement("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)")) {
                    st.setObject(1, UUID.fromString(tenant.id()));
                    st.setString(2, name);
                    st.setTimestamp(3, Timestamp.from(now));
                    st.executeUpdate();
                  }
                  insertKey(c, tenant.id(), apiKey, now, "initial", ALL_SCOPES, null);
                  return new NewTenant(tenant, apiKey);
                }));
  }

  /** Every tenant, oldest first. */
  public CompletionStage<List<TenantSummary>> list() {
    return db.query(c -> summaries(c, null));
  }

  /** One tenant; empty when there is none. */
  public CompletionStage<Optional<TenantSummary>> get(String tenantId) {
    return db.query(c -> summaries(c, UUID.fromString(tenantId)).stream().findFirst());
  }

  /**
   * Sets the settings given: the retention period when {@code setRetention} (null clears it),
   * whether endpoints are verified by default when {@code verifyEndpoints} is not null, whether
   * ingest refuses types not in the catalogue when {@code requireRegisteredTypes} is not null.
   * One statement, so all change or none. Empty when there is no such tenant.
   */
  public CompletionStage<Optional<TenantSummary>> update(
      String tenantId, boolean setRetention, Integer retentionPeriodDays, Boolean verifyEndpoints,
      Boolean requireRegisteredTypes) {
    return db.query(
        c -> {
          List<String> sets = new ArrayList<>();
          if (setRetention) sets.add("retention_period_days = ?");
          if (verifyEndpoints != null) sets.add("verify_endpoints = ?");
          if (requireRegisteredTypes != null) sets.add("require_registered_types = ?");
          if (!sets.isEmpty()) {
            try (PreparedStatement st =
                c.prepareStatement("UPDATE tenants SET " + String.join(", ", sets) + " WHERE id = ?")) {
              int i = 1;
              if (setRetention) {
                if (retentionPeriodDays == null) st.setNull(i++, Types.INTEGER);
                else st.setInt(i++, retentionPeriodDays);
              }
              if (verifyEndpoints != null) st.setBoolean(i++, verifyEndpoints);
              if (requireRegisteredTypes != null) st.setBoolean(i++, requireRegisteredTypes);
              st.setObject(i, UUID.fromString(tenantId));
              if (st.executeUpdate() == 0) return Optional.empty();
            }
          }
          return summaries(c, UUID.fromString(tenantId)).stream().findFirst();
        });
  }

  /** Whether the tenant's new endpoints (and new URLs) are verified unless a request says otherwise. */
  public CompletionStage<Boolean> verifyEndpoints(String tenantId) {
    return flag(tenantId, "verify_endpoints");
  }

  /** Whether ingest refuses the tenant's types that are not in its catalogue. */
  public CompletionStage<Boolean> requireRegisteredTypes(String tenantId) {
    return flag(tenantId, "require_registered_types");
  }

  /** One boolean setting of the tenant ({@code column} is one of this class's own names); false without a tenant. */
  private CompletionStage<Boolean> flag(String tenantId, String column) {
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement("SELECT " + column + " FROM tenants WHERE id = ?")) {
            st.setObject(1, UUID.fromString(tenantId));
            try (ResultSet rs = st.executeQuery()) {
              return rs.next() && rs.getBoolean(1);
            }
          }
        });
  }

  /** Every tenant's summary, or only {@code only}'s. */
  private static List<TenantSummary> summaries(Connection c, UUID only) throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            "SELECT t.id, t.name, t.created_at,"
                + " (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id AND k.revoked_at IS NULL),"
                + " (SELECT count(*) FROM endpoints e WHERE e.tenant_id = t.id AND NOT e.deleted AND NOT e.internal),"
                // events_tenant_status_idx: a bounded index range per tenant
                + " (SELECT count(*) FROM (SELECT 1 FROM events v WHERE v.tenant_id = t.id"
                + "   AND v.status = 'DEAD_LETTERED' LIMIT " + COUNT_CAP + ") d),"
                + " t.retention_period_days, t.verify_endpoints, t.require_registered_types"
                + " FROM tenants t WHERE ?::uuid IS NULL OR t.id = ? ORDER BY t.created_at, t.id")) {
      st.setObject(1, only);
      st.setObject(2, only);
      try (ResultSet rs = st.executeQuery()) {
        List<TenantSummary> tenants = new ArrayList<>();
        while (rs.next()) {
          tenants.add(
              new TenantSummary(
                  rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant(), rs.getInt(4),
                  rs.getInt(5), rs.getInt(6), rs.getObject(7, Integer.class), rs.getBoolean(8),
                  rs.getBoolean(9)));
        }
        return tenants;
      }
    }
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
          String id = insertKey(c, tenantId, apiKey, now, "issued by the admin", ALL_SCOPES, null);
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

  /**
   * The live key with this value, if there is one. A node trusts what it found for
   * {@code cacheTtl}, then reads the key again, so a revocation reaches every node within
   * that time (at once on the node that revoked it).
   */
  public CompletionStage<Optional<ApiKey>> authenticate(String apiKey) {
    byte[] hash = sha256(apiKey);
    String keyHash = HexFormat.of().formatHex(hash);
    long now = System.nanoTime();
    CachedKey seen = byKeyHash.get(keyHash); // the hot path: no lock on the map
    CachedKey cached =
        seen != null && usable(seen, now)
            ? seen
            : byKeyHash.compute(keyHash, (h, old) -> old != null && usable(old, now) ? old : new CachedKey(lookup(keyHash, hash), now));
    return cached
        .key()
        .whenComplete(
            (found, error) -> {
              if (error != null || found.isEmpty()) byKeyHash.remove(keyHash, cached);
              else noteUse(found.get());
            });
  }

  /** Still being read, or read less than {@code cacheTtl} ago. */
  private boolean usable(CachedKey cached, long now) {
    return !cached.key().isDone() || now - cached.readAt() < cacheTtlNanos;
  }

  private CompletableFuture<Optional<ApiKey>> lookup(String keyHash, byte[] hash) {
    return db.query(
            c -> {
              try (PreparedStatement st =
                  c.prepareStatement(
                      "SELECT k.id, k.key_hash, k.scopes, k.rate_limit_per_second, t.id, t.name"
                          + " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
                          + " WHERE k.key_hash = ? AND k.revoked_at IS NULL")) {
                st.setString(1, keyHash);
                try (ResultSet rs = st.executeQuery()) {
                  if (!rs.next()) return Optional.<ApiKey>empty();
                  // The index found the row; the match itself is decided in constant time.
                  if (!MessageDigest.isEqual(HexFormat.of().parseHex(rs.getString(2)), hash)) {
                    return Optional.<ApiKey>empty();
                  }
                  return Optional.of(
                      new ApiKey(
                          rs.getString(1),
                          new Tenant(rs.getString(5), rs.getString(6)),
                          Set.copyOf(scopes(rs)),
                          (Integer) rs.getObject(4)));
                }
              }
            })
        .toCompletableFuture();
  }

  /**
   * Records that a key was used: at most once per {@code lastUsedEvery} per key on this
   * node, and in the background, so that ingest never waits for it. A failure only loses
   * that one update.
   */
  private void noteUse(ApiKey key) {
    long now = System.nanoTime();
    Long last = lastUsedWritten.get(key.id());
    if (last != null && now - last < lastUsedEveryNanos) return;
    boolean mine = last == null ? lastUsedWritten.putIfAbsent(key.id(), now) == null : lastUsedWritten.replace(key.id(), last, now);
    if (!mine) return; // another request of this key is writing it
    Timestamp at = Timestamp.from(Instant.now());
    // A full queue fails the future too (Database.query): the update is skipped then.
    db.query(
            c -> {
              try (PreparedStatement st =
                  c.prepareStatement(
                      "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)")) {
                st.setTimestamp(1, at);
                st.setObject(2, UUID.fromString(key.id()));
                st.setTimestamp(3, at);
                return st.executeUpdate();
              }
            })
        .exceptionally(
            e -> {
              log.debug("could not record the last use of API key {}: {}", key.id(), e.toString());
              return 0;
            });
  }

  /** A new key for a tenant, with these scopes (wire names); empty when it already holds {@link #MAX_KEYS_PER_TENANT}. */
  public CompletionStage<Optional<IssuedKey>> createKey(String tenantId, String name, List<String> scopes, Integer rateLimitPerSecond) {
    String apiKey = newKey();
    Instant now = Instant.now();
    return db.query(
        c ->
            Database.inTransaction(
                c,
                () -> {
                  // Counted under a lock on the tenant's row, so that two creations cannot both pass.
                  try (PreparedStatement lock = c.prepareStatement("SELECT 1 FROM tenants WHERE id = ? FOR UPDATE");
                      PreparedStatement count =
                          c.prepareStatement("SELECT count(*) FROM api_keys WHERE tenant_id = ? AND revoked_at IS NULL")) {
                    lock.setObject(1, UUID.fromString(tenantId));
                    lock.executeQuery().close();
                    count.setObject(1, UUID.fromString(tenantId));
                    try (ResultSet rs = count.executeQuery()) {
                      rs.next();
                      if (rs.getInt(1) >= MAX_KEYS_PER_TENANT) return Optional.<IssuedKey>empty();
                    }
                  }
                  String id = insertKey(c, tenantId, apiKey, now, name, scopes, rateLimitPerSecond);
                  return Optional.of(new IssuedKey(new KeyView(id, name, scopes, rateLimitPerSecond, now, null), apiKey));
                }));
  }

  /** The tenant's live keys, oldest first. */
  public CompletionStage<List<KeyView>> listKeys(String tenantId) {
    return db.query(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT id, name, scopes, rate_limit_per_second, created_at, last_used_at FROM api_keys"
                      + " WHERE tenant_id = ? AND revoked_at IS NULL ORDER BY created_at, id")) {
            st.setObject(1, UUID.fromString(tenantId));
            try (ResultSet rs = st.executeQuery()) {
              List<KeyView> keys = new ArrayList<>();
              while (rs.next()) {
                Timestamp lastUsed = rs.getTimestamp(6);
                keys.add(
                    new KeyView(
                        rs.getString(1), rs.getString(2), scopes(rs), (Integer) rs.getObject(4),
                        rs.getTimestamp(5).toInstant(), lastUsed == null ? null : lastUsed.toInstant()));
              }
              return keys;
            }
          }
        });
  }

  /**
   * Revokes one of the tenant's live keys; false when it has no such key. The key stops
   * working on this node at once, on the others within {@code cacheTtl}.
   */
  public CompletionStage<Boolean> revokeKey(String tenantId, String keyId) {
    return db.query(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND tenant_id = ? AND revoked_at IS NULL"
                      + " RETURNING key_hash")) {
            st.setTimestamp(1, Timestamp.from(Instant.now()));
            st.setObject(2, UUID.fromString(keyId));
            st.setObject(3, UUID.fromString(tenantId));
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) return false;
              byKeyHash.remove(rs.getString(1));
              return true;
            }
          }
        });
  }

  /** The scopes column, in the order of {@link #ALL_SCOPES}. */
  private static List<String> scopes(ResultSet rs) throws SQLException {
    List<String> stored = List.of((String[]) rs.getArray("scopes").getArray());
    return ALL_SCOPES.stream().filter(stored::contains).toList();
  }

  private static String insertKey(
      Connection c, String tenantId, String apiKey, Instant now, String name, List<String> scopes, Integer rateLimitPerSecond)
      throws SQLException {
    UUID id = UUID.randomUUID();
    try (PreparedStatement st =
        c.prepareStatement(
            "INSERT INTO api_keys (id, tenant_id, key_hash, created_at, name, scopes, rate_limit_per_second)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      st.setObject(1, id);
      st.setObject(2, UUID.fromString(tenantId));
      st.setString(3, hash(apiKey));
      st.setTimestamp(4, Timestamp.from(now));
      st.setString(5, name);
      st.setArray(6, c.createArrayOf("text", scopes.toArray()));
      if (rateLimitPerSecond == null) st.setNull(7, java.sql.Types.INTEGER);
      else st.setInt(7, rateLimitPerSecond);
      st.executeUpdate();
    }
    return id.toString();
  }

  /** 256 random bits: enough that a fast hash needs no salt or stretching. */
  private static String newKey() {
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    return "zyv_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
  }

  static String hash(String key) {
    return HexFormat.of().formatHex(sha256(key));
  }

  private static byte[] sha256(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
