package io.zyven.app.http;

import io.zyven.app.store.TenantStore;
import io.zyven.app.store.TenantStore.KeyView;
import io.zyven.protocol.ApiKeyApi.ApiKeyCreated;
import io.zyven.protocol.ApiKeyApi.ApiKeyList;
import io.zyven.protocol.ApiKeyApi.ApiKeyView;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/** {@code /v1/api-keys}: a tenant's own keys, with the manage scope. Create, list, revoke. */
final class ApiKeyRoutes {
  private final TenantStore tenants;

  ApiKeyRoutes(TenantStore tenants) {
    this.tenants = tenants;
  }

  /** 201 with the key, shown this once. */
  CompletionStage<HttpResponse> create(Principal principal, byte[] body) {
    principal.requireApiKey("create API keys"); // a short-lived token must not mint lasting keys
    ApiKeyRequest request = ApiKeyRequest.parse(body);
    return tenants
        .createKey(principal.tenantId(), request.name(), request.scopes(), request.rateLimitPerSecond())
        .thenApply(
            created -> {
              TenantStore.IssuedKey issued =
                  created.orElseThrow(
                      () -> Problems.unprocessable(
                          "a tenant holds at most " + TenantStore.MAX_KEYS_PER_TENANT + " API keys; revoke one first"));
              KeyView k = issued.view();
              return Responses.json(
                  201,
                  new ApiKeyCreated(k.id(), k.name(), issued.apiKey(), k.scopes(), k.rateLimitPerSecond(), k.createdAt()));
            });
  }

  CompletionStage<HttpResponse> list(Principal principal) {
    principal.requireApiKey("list API keys");
    principal.requireManage("list API keys"); // a GET: the route table's method check lets read through
    return tenants
        .listKeys(principal.tenantId())
        .thenApply(
            keys ->
                Responses.json(
                    200,
                    new ApiKeyList(
                        keys.stream()
                            .map(k -> new ApiKeyView(
                                k.id(), k.name(), k.scopes(), k.rateLimitPerSecond(), k.createdAt(), k.lastUsedAt()))
                            .toList())));
  }

  /** 204; 404 for a key that is not one of the tenant's live keys. */
  CompletionStage<HttpResponse> revoke(Principal principal, String pathId) {
    principal.requireApiKey("revoke API keys");
    String id = Ids.canonical(pathId, "API key");
    return tenants
        .revokeKey(principal.tenantId(), id)
        .thenApply(
            revoked -> {
              if (!revoked) throw Problems.notFound("no API key " + id);
              return HttpResponse.create().withStatus(204);
            });
  }
}
