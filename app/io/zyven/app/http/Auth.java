package io.zyven.app.http;

import io.zyven.app.store.AdminKey;
import io.zyven.app.store.TenantStore;
import io.zyven.app.store.TenantStore.Tenant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/** {@code Authorization: Bearer <key>} or {@code X-API-Key: <key>}. */
final class Auth {
  private final TenantStore tenants;
  private final AdminKey adminKey;

  Auth(TenantStore tenants, AdminKey adminKey) {
    this.tenants = tenants;
    this.adminKey = adminKey;
  }

  /** The tenant the request's key belongs to; fails with 401 when there is none. */
  CompletionStage<Tenant> tenant(HttpRequest request) {
    Optional<String> key = key(request);
    if (key.isEmpty()) return CompletableFuture.failedFuture(Problems.unauthorized("missing API key"));
    return tenants
        .authenticate(key.get())
        .thenApply(t -> t.orElseThrow(() -> Problems.unauthorized("unknown API key")));
  }

  /** Completes when the request carries the admin key; fails with 401 otherwise. */
  CompletionStage<Void> admin(HttpRequest request) {
    Optional<String> key = key(request);
    if (key.isEmpty()) return CompletableFuture.failedFuture(Problems.unauthorized("missing admin key"));
    return adminKey
        .matches(key.get())
        .thenApply(
            admin -> {
              if (!admin) throw Problems.unauthorized("not the admin key");
              return null;
            });
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
