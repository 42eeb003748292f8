package io.zyven.app.http;

import io.zyven.app.store.TenantStore;
import io.zyven.app.store.TenantStore.Tenant;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Who a tenant request acts as: one of the tenant's API keys, with its scopes, or a portal
 * token, limited to a scope and perhaps to some endpoints. Every decision about what a
 * credential may do is made here; the routes only ask.
 *
 * <p>Scopes: {@code ingest} sends events ({@code POST /v1/events}); {@code read} makes every
 * GET of the tenant; {@code manage} does everything the tenant may do, those two included.
 *
 * @param endpointIds the endpoints a restricted token covers; null: all of the tenant's
 * @param credentialId the API key's id, or the portal token's {@code jti}
 * @param rateLimitPerSecond the API key's own ingest limit; null: the configured default
 */
record Principal(
    Tenant tenant, Set<Scope> scopes, Set<String> endpointIds, boolean portal, String credentialId,
    Integer rateLimitPerSecond) {

  /** What a credential may do. A portal token has {@code read} or {@code manage}; an API key any of the three. */
  enum Scope {
    INGEST,
    READ,
    MANAGE;

    String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The scope of this name; null for anything else. */
    static Scope fromWire(String value) {
      for (Scope s : values()) {
        if (s.wire().equals(value)) return s;
      }
      return null;
    }

    /** A portal token's scope, {@code read} or {@code manage}; null for anything else. */
    static Scope portalFromWire(String value) {
      Scope s = fromWire(value);
      return s == INGEST ? null : s;
    }
  }

  /** An API key: its scopes (wire names, as stored), every endpoint. */
  static Principal apiKey(TenantStore.ApiKey key) {
    EnumSet<Scope> scopes = EnumSet.noneOf(Scope.class);
    for (String s : key.scopes()) {
      Scope scope = Scope.fromWire(s);
      if (scope != null) scopes.add(scope);
    }
    return new Principal(key.tenant(), Set.copyOf(scopes), null, false, key.id(), key.rateLimitPerSecond());
  }

  static Principal portalToken(Tenant tenant, Scope scope, Set<String> endpointIds, String tokenId) {
    return new Principal(tenant, Set.of(scope), endpointIds == null || endpointIds.isEmpty() ? null : Set.copyOf(endpointIds),
        true, tokenId, null);
  }

  /** The broadest scope held, as {@code GET /v1/me} reports it: manage, else read, else ingest. */
  Scope scope() {
    if (scopes.contains(Scope.MANAGE)) return Scope.MANAGE;
    return scopes.contains(Scope.READ) ? Scope.READ : Scope.INGEST;
  }

  /** The scopes held, in the order ingest, read, manage, as wire names. */
  List<String> scopeNames() {
    EnumSet<Scope> ordered = EnumSet.noneOf(Scope.class);
    ordered.addAll(scopes);
    return ordered.stream().map(Scope::wire).toList();
  }

  /**
   * Events per second this credential may send: the key's own limit, else the configured
   * one (0: none). Portal tokens are not limited: they serve people in the console.
   */
  int ingestRateLimit(int configured) {
    if (portal) return 0;
    return rateLimitPerSecond != null ? rateLimitPerSecond : configured;
  }

  String tenantId() {
    return tenant.id();
  }

  /** Who asked, as the journal records it (replay, retry). */
  String by() {
    return "tenant:" + tenant.id() + (portal ? " (portal token " + credentialId + ")" : "");
  }

  /** Whether this principal sees only some of the tenant's endpoints. */
  boolean restricted() {
    return endpointIds != null;
  }

  /** Whether this principal may see and act on the endpoint (a canonical id). */
  boolean allows(String endpointId) {
    return endpointIds == null || endpointIds.contains(endpointId);
  }

  /**
   * 403 unless this credential may make a request of this method on a tenant route other
   * than ingest: GET (and HEAD) needs {@code read}, anything else {@code manage}.
   */
  void requireMethod(String method) {
    if (scopes.contains(Scope.MANAGE)) return;
    boolean reading = method.equals("GET") || method.equals("HEAD");
    if (reading && scopes.contains(Scope.READ)) return;
    if (portal) throw Problems.forbidden("this portal token has scope 'read': it can only read, not " + method);
    String needed = reading ? "'read' or 'manage' is needed to read" : "'manage' is needed for " + method;
    throw Problems.forbidden("this API key has scopes " + scopeNames() + "; " + needed);
  }

  /** 403 unless this credential may send events: {@code ingest} or {@code manage}. */
  void requireIngest() {
    if (scopes.contains(Scope.INGEST) || scopes.contains(Scope.MANAGE)) return;
    if (portal) throw Problems.forbidden("this portal token has scope 'read': it can only read, not POST");
    throw Problems.forbidden("this API key has scopes " + scopeNames() + "; 'ingest' or 'manage' is needed to send events");
  }

  /** 403 unless this credential holds {@code manage}, whatever the method: {@code action} says what it asked. */
  void requireManage(String action) {
    if (scopes.contains(Scope.MANAGE)) return;
    throw Problems.forbidden(
        "this " + (portal ? "portal token" : "API key") + " has scopes " + scopeNames() + "; 'manage' is needed to " + action);
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
