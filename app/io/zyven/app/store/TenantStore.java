package io.zyven.app.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
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

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Database db;
  // Tenants are never deleted, so a key once found stays valid; unknown keys are not cached.
  private final Map<String, Tenant> byKeyHash = new ConcurrentHashMap<>();

  public TenantStore(Database db) {
    this.db = db;
  }

  public CompletionStage<NewTenant> create(String name) {
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    String apiKey = "zyv_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    Tenant tenant = new Tenant(UUID.randomUUID().toString(), name);
    return db.query(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "INSERT INTO tenants (id, name, api_key_hash, created_at) VALUES (?, ?, ?, ?)")) {
            st.setObject(1, UUID.fromString(tenant.id()));
            st.setString(2, name);
            st.setString(3, hash(apiKey));
            st.setTimestamp(4, Timestamp.from(Instant.now()));
            st.executeUpdate();
          }
          return new NewTenant(tenant, apiKey);
        });
  }

  public CompletionStage<Optional<Tenant>> authenticate(String apiKey) {
    String keyHash = hash(apiKey);
    Tenant cached = byKeyHash.get(keyHash);
    if (cached != null) return CompletableFuture.completedFuture(Optional.of(cached));
    return db.query(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement("SELECT id, name FROM tenants WHERE api_key_hash = ?")) {
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

  static String hash(String apiKey) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(sha.digest(apiKey.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
