package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.store.TenantStore;
import io.zyven.protocol.TenantApi.TenantCreated;
import io.zyven.protocol.TenantApi.TenantKeyCreated;
import io.zyven.protocol.TenantApi.TenantList;
import io.zyven.protocol.TenantApi.TenantView;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/** {@code /v1/tenants} (admin only): create, list, show, set retention, and a new key for a tenant. */
final class TenantRoutes {
  private final TenantStore tenants;

  TenantRoutes(TenantStore tenants) {
    this.tenants = tenants;
  }

  CompletionStage<HttpResponse> create(byte[] body) {
    JsonNode name = RequestBodies.object(body, Set.of("name")).get("name");
    if (name == null || !name.isTextual() || name.asText().isBlank() || name.asText().length() > 200) {
      throw Problems.badRequest("name must be a string of 1-200 characters");
    }
    return tenants
        .create(name.asText().trim())
        .thenApply(t -> Responses.json(201, new TenantCreated(t.tenant().id(), t.tenant().name(), t.apiKey())));
  }

  CompletionStage<HttpResponse> list() {
    return tenants
        .list()
        .thenApply(all -> Responses.json(200, new TenantList(all.stream().map(TenantRoutes::view).toList())));
  }

  CompletionStage<HttpResponse> get(String pathId) {
    String id = Ids.canonical(pathId, "tenant");
    return tenants.get(id).thenApply(t -> Responses.json(200, view(t.orElseThrow(() -> Problems.notFound("no tenant " + id)))));
  }

  /**
   * {@code {"retention_period_days": n}} (1-36500 days, or null to follow the node's
   * default), {@code {"verify_endpoints": true|false}} and/or
   * {@code {"require_registered_types": true|false}}; at least one of them.
   */
  CompletionStage<HttpResponse> update(String pathId, byte[] body) {
    String id = Ids.canonical(pathId, "tenant");
    JsonNode root = RequestBodies.object(body, Set.of("retention_period_days", "verify_endpoints", "require_registered_types"));
    JsonNode days = root.get("retention_period_days");
    JsonNode verify = root.get("verify_endpoints");
    JsonNode require = root.get("require_registered_types");
    if (days == null && verify == null && require == null) {
      throw Problems.badRequest(
          "give retention_period_days (null for the default), verify_endpoints or require_registered_types");
    }
    if (days != null && !days.isNull()
        && !(days.isIntegralNumber() && days.canConvertToInt() && days.asInt() >= 1 && days.asInt() <= 36500)) {
      throw Problems.badRequest("retention_period_days must be a whole number of days from 1 to 36500, or null");
    }
    if (verify != null && !verify.isBoolean()) throw Problems.badRequest("verify_endpoints must be true or false");
    if (require != null && !require.isBoolean()) throw Problems.badRequest("require_registered_types must be true or false");
    Integer value = days == null || days.isNull() ? null : days.asInt();
    return tenants
        .update(id, days != null, value, verify == null ? null : verify.asBoolean(),
            require == null ? null : require.asBoolean())
        .thenApply(t -> Responses.json(200, view(t.orElseThrow(() -> Problems.notFound("no tenant " + id)))));
  }

  private static TenantView view(TenantStore.TenantSummary t) {
    return new TenantView(
        t.id(), t.name(), t.createdAt(), t.apiKeys(), t.endpoints(), t.deadLetters(), t.retentionPeriodDays(),
        t.verifyEndpoints(), t.requireRegisteredTypes());
  }

  /** A new key for a tenant that lost its own; its other keys keep working. */
  CompletionStage<HttpResponse> issueKey(String pathId) {
    String id = Ids.canonical(pathId, "tenant");
    return tenants
        .issueKey(id)
        .thenApply(
            issued ->
                issued
                    .map(k -> Responses.json(201, new TenantKeyCreated(k.id(), k.tenantId(), k.apiKey(), k.createdAt())))
                    .orElseThrow(() -> Problems.notFound("no tenant " + id)));
  }
}
