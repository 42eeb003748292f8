package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.http.Principal.Scope;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;

/** The body of {@code POST /v1/portal-sessions}: {@code {tenant_id?, scope, endpoint_ids?, ttl_seconds?}}. */
record PortalSessionRequest(String tenantId, Scope scope, Set<String> endpointIds, Duration ttl) {
  static final long DEFAULT_TTL = 3600;
  static final long MIN_TTL = 60;
  static final long MAX_TTL = 86_400;

  static PortalSessionRequest parse(byte[] body) {
    JsonNode root = RequestBodies.object(body, Set.of("tenant_id", "scope", "endpoint_ids", "ttl_seconds"));

    String tenantId = null;
    JsonNode tenant = root.get("tenant_id");
    if (tenant != null && !tenant.isNull()) {
      if (!tenant.isTextual()) throw Problems.badRequest("tenant_id must be a string");
      tenantId = Ids.field(tenant.asText(), "tenant_id");
    }

    JsonNode scopeField = root.get("scope");
    Scope scope = scopeField != null && scopeField.isTextual() ? Scope.portalFromWire(scopeField.asText()) : null;
    if (scope == null) throw Problems.badRequest("scope must be \"read\" or \"manage\"");

    Set<String> endpointIds = new LinkedHashSet<>();
    JsonNode ids = root.get("endpoint_ids");
    if (ids != null && !ids.isNull()) {
      if (!ids.isArray()) throw Problems.badRequest("endpoint_ids must be an array of endpoint ids");
      for (JsonNode id : ids) {
        if (!id.isTextual()) throw Problems.badRequest("endpoint_ids must be an array of endpoint ids");
        endpointIds.add(Ids.field(id.asText(), "each of endpoint_ids"));
      }
    }

    long ttl = DEFAULT_TTL;
    JsonNode ttlField = root.get("ttl_seconds");
    if (ttlField != null && !ttlField.isNull()) {
      ttl = ttlField.canConvertToExactIntegral() && ttlField.canConvertToLong() ? ttlField.asLong() : -1;
      if (ttl < MIN_TTL || ttl > MAX_TTL) {
        throw Problems.badRequest("ttl_seconds must be a whole number from " + MIN_TTL + " to " + MAX_TTL);
      }
    }
    return new PortalSessionRequest(tenantId, scope, endpointIds, Duration.ofSeconds(ttl));
  }
}
