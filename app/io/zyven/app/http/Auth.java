package io.zyven.app.http;

import io.zyven.app.store.AdminKey;
import io.zyven.app.store.TenantStore;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * {@code Authorization: Bearer <credential>} or {@code X-API-Key: <credential>}: the admin
 * key, a tenant's API key, or a portal token (a JWT, told apart by its shape).
 */
final class Auth {
  private final TenantStore tenants;
  private final AdminKey adminKey;
  private final PortalTokens portalTokens;

  Auth(TenantStore tenants, AdminKey adminKey, PortalTokens portalTokens) {
    this.tenants = tenants;
    this.adminKey = adminKey;
    this.portalTokens = portalTokens;
  }

  /** Who the request acts as, for a tenant route; fails with 401 when nobody. */
  CompletionStage<Principal> tenant(HttpRequest request) {
    Optional<String> key = key(request);
    if (key.isEmpty()) return CompletableFuture.failedFuture(Problems.unauthorized("missing API key"));
    if (PortalTokens.looksLikeToken(key.get())) return portalToken(key.get());
    return tenants
        .authenticate(key.get())
        .thenApply(t -> Principal.apiKey(t.orElseThrow(() -> Problems.unauthorized("unknown API key"))));
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

  /** For routes both may use: empty for the admin key, else the tenant principal; 401 otherwise. */
  CompletionStage<Optional<Principal>> adminOrTenant(HttpRequest request) {
    Optional<String> key = key(request);
    if (key.isEmpty()) return CompletableFuture.failedFuture(Problems.unauthorized("missing API key"));
    if (PortalTokens.looksLikeToken(key.get())) return portalToken(key.get()).thenApply(Optional::of);
    return adminKey
        .matches(key.get())
        .thenCompose(admin -> admin ? CompletableFuture.completedFuture(Optional.empty()) : tenant(request).thenApply(Optional::of));
  }

  private CompletionStage<Principal> portalToken(String token) {
    PortalTokens.Grant grant;
    try {
      grant = portalTokens.verify(token);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return tenants
        .find(grant.tenantId())
        .thenApply(
            t ->
                Principal.portalToken(
                    t.orElseThrow(() -> Problems.unauthorized("the portal token's tenant does not exist")),
                    grant.scope(),
                    grant.endpointIds(),
                    grant.tokenId()));
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
