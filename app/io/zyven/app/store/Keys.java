package io.zyven.app.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Base64;

/** The node's own keys: pasted by operators as base64, or generated once per database. */
final class Keys {
  private Keys() {}

  /**
   * Either alphabet: what `openssl rand -base64 32` prints, or a URL-safe one.
   *
   * @throws IllegalArgumentException when it is neither
   */
  static byte[] decodeBase64(String base64) {
    return base64.contains("-") || base64.contains("_")
        ? Base64.getUrlDecoder().decode(base64)
        : Base64.getDecoder().decode(base64);
  }

  /**
   * The key stored in {@code table} (a one-row table: id 1, key, created_at); when {@code
   * fresh} is given and none is stored yet, stores that one first. Null when none is stored.
   * {@code table} is one of this package's constants, never input.
   */
  static byte[] stored(Database db, String table, byte[] fresh) throws Exception {
    return db.query(
            c -> {
              if (fresh != null) {
                // Nodes starting together all try to insert; one wins and all read its key.
                try (PreparedStatement st =
                    c.prepareStatement(
                        "INSERT INTO " + table + " (id, key, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING")) {
                  st.setBytes(1, fresh);
                  st.setTimestamp(2, Timestamp.from(Instant.now()));
                  st.executeUpdate();
                }
              }
              try (PreparedStatement st = c.prepareStatement("SELECT key FROM " + table + " WHERE id = 1");
                  ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getBytes(1) : null;
              }
            })
        .toCompletableFuture()
        .get();
  }
}
