package io.zyven.app.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The key that manages tenants. Either given to the node ({@code ZYVEN_ADMIN_KEY}), or
 * generated once per database, stored only as its SHA-256 and printed only by the node
 * that generated it, so that it survives restarts and is the same on every node.
 */
public final class AdminKey {

  /** How the node came by its admin key: the start-up banner says which. */
  public sealed interface Origin {}

  /** {@code ZYVEN_ADMIN_KEY} (or {@code zyven.admin-key}) is set; nothing is stored. */
  public record Configured() implements Origin {}

  /** This node generated the key just now: the one time it is shown. */
  public record Generated(String key) implements Origin {}

  /** An earlier start generated it; it was printed then, by {@code createdBy}. */
  public record Stored(Instant createdAt, String createdBy) implements Origin {}

  /** A reset key may be cached this long by running nodes. */
  static final Duration REFRESH = Duration.ofSeconds(5);

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Database db; // null when configured
  private final Origin origin;
  private volatile String hash; // SHA-256, hex
  private volatile Instant hashReadAt;

  private AdminKey(Database db, Origin origin, String hash) {
    this.db = db;
    this.origin = origin;
    this.hash = hash;
    this.hashReadAt = Instant.now();
  }

  /** A key given by configuration: the only admin key this node accepts. */
  public static AdminKey configured(String key) {
    return new AdminKey(null, new Configured(), TenantStore.hash(key));
  }

  /**
   * The database's admin key; generated and stored when there is none yet. When several
   * nodes start at once, one of them generates it and prints it; the others find it.
   */
  public static AdminKey fromDatabase(Database db, String nodeName) throws Exception {
    String key = newKey();
    Instant now = Instant.now();
    return db.query(
            c -> {
              try (PreparedStatement st =
                  c.prepareStatement(
                      "INSERT INTO admin_key (id, key_hash, created_at, created_by) VALUES (1, ?, ?, ?)"
                          + " ON CONFLICT (id) DO NOTHING")) {
                st.setString(1, TenantStore.hash(key));
                st.setTimestamp(2, Timestamp.from(now));
                st.setString(3, nodeName);
                if (st.executeUpdate() == 1) return new AdminKey(db, new Generated(key), TenantStore.hash(key));
              }
              try (PreparedStatement st =
                      c.prepareStatement("SELECT key_hash, created_at, created_by FROM admin_key WHERE id = 1");
                  ResultSet rs = st.executeQuery()) {
                rs.next();
                return new AdminKey(
                    db,
                    new Stored(rs.getTimestamp(2).toInstant(), rs.getString(3)),
                    rs.getString(1));
              }
            })
        .toCompletableFuture()
        .get();
  }

  /**
   * Replaces the stored admin key with a new one and returns it, in clear. Running nodes
   * accept it, and refuse the old one, within {@link #REFRESH}.
   */
  public static String reset(Connection c, String by) throws SQLException {
    String key = newKey();
    try (PreparedStatement st =
        c.prepareStatement(
            "INSERT INTO admin_key (id, key_hash, created_at, created_by) VALUES (1, ?, ?, ?)"
                + " ON CONFLICT (id) DO UPDATE SET key_hash = EXCLUDED.key_hash,"
                + " created_at = EXCLUDED.created_at, created_by = EXCLUDED.created_by")) {
      st.setString(1, TenantStore.hash(key));
      st.setTimestamp(2, Timestamp.from(Instant.now()));
      st.setString(3, by);
      st.executeUpdate();
    }
    return key;
  }

  public Origin origin() {
    return origin;
  }

  /** Whether {@code presented} is the admin key (compared in constant time). */
  public CompletionStage<Boolean> matches(String presented) {
    byte[] candidate = TenantStore.hash(presented).getBytes(StandardCharsets.US_ASCII);
    if (db == null || Instant.now().isBefore(hashReadAt.plus(REFRESH))) {
      return CompletableFuture.completedFuture(MessageDigest.isEqual(hash.getBytes(StandardCharsets.US_ASCII), candidate));
    }
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement("SELECT key_hash FROM admin_key WHERE id = 1");
              ResultSet rs = st.executeQuery()) {
            if (rs.next()) hash = rs.getString(1);
            hashReadAt = Instant.now();
            return MessageDigest.isEqual(hash.getBytes(StandardCharsets.US_ASCII), candidate);
          }
        });
  }

  private static String newKey() {
    byte[] bytes = new byte[24];
    RANDOM.nextBytes(bytes);
    return "zya_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
