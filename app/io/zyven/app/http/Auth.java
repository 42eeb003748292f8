package io.zyven.app.http;

import io.zyven.app.store.TenantStore;
import io.zyven.app.store.TenantStore.Tenant;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/** {@code Authorization: Bearer <key>} or {@code X-API-Key: <key>}. */
final class Auth {
  private final TenantStore tenants;
  private final byte[] adminKey;

  Auth(TenantStore tenants, String adminKey) {
    this.tenants = tenants;
    this.adminKey = adminKey.getBytes(StandardCharsets.UTF_8);
  }

  /** The tenant the request's key belongs to; fails with 401 when there is none. */
  CompletionStage<Tenant> tenant(HttpRequest request) {
    Optional<String> key = key(request);
    if (key.isEmpty()) return CompletableFuture.failedFuture(Problems.unauthorized("missing API key"));
    return tenants
        .authenticate(key.get())
        .thenApply(t -> t.orElseThrow(() -> Problems.unauthorized("unknown API key")));
  }

  /** Fails with 401 unless the request carries the admin key. */
  void requireAdmin(HttpRequest request) {
    Optional<String> key = key(request);
    if (key.isEmpty()) throw Problems.unauthorized("missing admin key");
    // Constant time, so the key cannot be guessed byte by byte from response times.
    if (!MessageDigest.isEqual(adminKey, key.get().getBytes(StandardCharsets.UTF_8))) {
      throw Problems.unauthorized("not the admin key");
    }
  }

  private static Optional<String> key(HttpRequest request) {
    Optional<String> bearer =
        request
            .getHeader("Authorization")
            .map(h -> h.value().trim())
            .filter(v -> v.regionMatches(true, 0, "Bearer ", 0, 7))
            .map(v -> v.substring(7).trim());
    Optional<String> key = bearer.isPresent() ? bearer : request.getHeader("X-API-Key").map(h -> h.value().trim());
    return key.filter(k -> !k.isEmpty());
  }
}
