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

/** {@code /v1/tenants} (admin only): create, list, and a new key for a tenant. */
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
        .thenApply(
            all ->
                Responses.json(
                    200,
                    new TenantList(
                        all.stream()
                            .map(t -> new TenantView(t.id(), t.name(), t.createdAt(), t.apiKeys(), t.endpoints(), t.deadLetters()))
                            .toList())));
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
