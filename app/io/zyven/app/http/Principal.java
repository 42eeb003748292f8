package io.zyven.app.http;

import io.zyven.app.store.TenantStore.Tenant;
import java.util.Locale;
import java.util.Set;

/**
 * Who a tenant request acts as: one of the tenant's API keys (everything the tenant may
 * do), or a portal token, limited to a scope and perhaps to some endpoints. Every decision
 * about what a portal token may do is made here; the routes only ask.
 *
 * @param endpointIds the endpoints a restricted token covers; null: all of the tenant's
 * @param tokenId the portal token's {@code jti}; null for an API key
 */
record Principal(Tenant tenant, Scope scope, Set<String> endpointIds, boolean portal, String tokenId) {

  /** What a portal token may do: {@code read} only looks; {@code manage} may change things too. */
  enum Scope {
    READ,
    MANAGE;

    String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The scope named {@code read} or {@code manage}; null for anything else. */
    static Scope fromWire(String value) {
      for (Scope s : values()) {
        if (s.wire().equals(value)) return s;
      }
      return null;
    }
  }

  /** An API key: every scope, every endpoint. */
  static Principal apiKey(Tenant tenant) {
    return new Principal(tenant, Scope.MANAGE, null, false, null);
  }

  static Principal portalToken(Tenant tenant, Scope scope, Set<String> endpointIds, String tokenId) {
    return new Principal(tenant, scope, endpointIds == null || endpointIds.isEmpty() ? null : Set.copyOf(endpointIds),
        true, tokenId);
  }

  String tenantId() {
    return tenant.id();
  }

  /** Who asked, as the journal records it (replay, retry). */
  String by() {
    return "tenant:" + tenant.id() + (portal ? " (portal token " + tokenId + ")" : "");
  }

  /** Whether this principal sees only some of the tenant's endpoints. */
  boolean restricted() {
    return endpointIds != null;
  }

  /** Whether this principal may see and act on the endpoint (a canonical id). */
  boolean allows(String endpointId) {
    return endpointIds == null || endpointIds.contains(endpointId);
  }

  /** A read token only reads: any method but GET (and HEAD) needs the manage scope. */
  void requireMethod(String method) {
    if (scope == Scope.READ && !method.equals("GET") && !method.equals("HEAD")) {
      throw Problems.forbidden("this portal token has scope 'read': it can only read, not " + method);
    }
  }

  /** 403 unless this principal covers the endpoint (a canonical id). */
  void requireEndpoint(String endpointId) {
    if (!allows(endpointId)) {
      throw Problems.forbidden("this portal token does not cover endpoint " + endpointId);
    }
  }

  /** 403 for a token limited to some endpoints: {@code action} concerns them all (or new ones). */
  void requireAllEndpoints(String action) {
    if (restricted()) {
      throw Problems.forbidden("this portal token is limited to some endpoints, so it cannot " + action);
    }
  }

  /**
   * The endpoint a replay or retry names, checked. A restricted token must name one: the
   * event decides which deliveries "all" means, and may include endpoints the token does
   * not cover.
   */
  String requireNamedEndpoint(String endpointId, String action) {
    if (endpointId == null) {
      if (restricted()) {
        throw Problems.forbidden(
            "this portal token is limited to some endpoints: to " + action + ", name one of them in endpoint_id");
      }
      return null;
    }
    requireEndpoint(endpointId);
    return endpointId;
  }

  /** 403 for a portal token: only API keys (and the admin) may {@code action}. */
  void requireApiKey(String action) {
    if (portal) throw Problems.forbidden("a portal token cannot " + action + "; use an API key");
  }
}
