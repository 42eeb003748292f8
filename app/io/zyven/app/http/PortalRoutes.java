package io.zyven.app.http;

import io.zyven.app.store.EndpointIndex;
import io.zyven.app.store.TenantStore;
import io.zyven.protocol.EndpointApi.EndpointView;
import io.zyven.protocol.PortalApi.PortalSessionCreated;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/** {@code POST /v1/portal-sessions}: a portal token for a tenant, and the console URL that carries it. */
public final class PortalRoutes {

  /**
   * @param signingKey the HMAC key of portal tokens, the same on every node
   * @param publicUrl where browsers reach the console; empty: {@code http://} + the request's Host
   */
  public record Settings(byte[] signingKey, String publicUrl) {}

  private final TenantStore tenants;
  private final EndpointIndex index;
  private final PortalTokens tokens;
  private final String publicUrl;
  private final Executor ec;

  PortalRoutes(TenantStore tenants, EndpointIndex index, PortalTokens tokens, String publicUrl, Executor ec) {
    this.tenants = tenants;
    this.index = index;
    this.tokens = tokens;
    this.publicUrl = publicUrl.trim();
    this.ec = ec;
  }

  /** @param caller empty for the admin key */
  CompletionStage<HttpResponse> create(Optional<Principal> caller, HttpRequest request, byte[] body) {
    PortalSessionRequest session = PortalSessionRequest.parse(body);
    return tenantFor(caller, session)
        .thenComposeAsync(tenantId -> checkEndpoints(tenantId, session.endpointIds()).thenApply(ok -> tenantId), ec)
        .thenApplyAsync(
            tenantId -> {
              PortalTokens.Issued issued =
                  tokens.issue(tenantId, session.scope(), session.endpointIds(), session.ttl());
              return Responses.json(
                  201,
                  new PortalSessionCreated(
                      issued.token(),
                      consoleBase(request) + "/#portal_token=" + issued.token(),
                      issued.expiresAt(),
                      session.scope().wire(),
                      List.copyOf(session.endpointIds())));
            },
            ec);
  }

  /** A tenant's key opens sessions for its own tenant; the admin names one that exists. */
  private CompletionStage<String> tenantFor(Optional<Principal> caller, PortalSessionRequest session) {
    if (caller.isPresent()) {
      Principal principal = caller.get();
      principal.requireApiKey("open portal sessions");
      principal.requireManage("open portal sessions");
      if (session.tenantId() != null && !session.tenantId().equals(principal.tenantId())) {
        throw Problems.forbidden("a tenant's API key opens portal sessions for its own tenant only");
      }
      return CompletableFuture.completedFuture(principal.tenantId());
    }
    if (session.tenantId() == null) throw Problems.badRequest("tenant_id is required with the admin key");
    return tenants
        .find(session.tenantId())
        .thenApply(t -> t.orElseThrow(() -> Problems.notFound("no tenant " + session.tenantId())).id());
  }

  /** 422 unless every listed endpoint is one of the tenant's. */
  private CompletionStage<Void> checkEndpoints(String tenantId, Set<String> endpointIds) {
    if (endpointIds.isEmpty()) return CompletableFuture.completedFuture(null);
    return index
        .list(tenantId)
        .thenApply(
            views -> {
              Set<String> own = views.stream().map(EndpointView::id).collect(Collectors.toSet());
              for (String id : endpointIds) {
                if (!own.contains(id)) {
                  throw Problems.unprocessable("endpoint_ids: " + id + " is not an endpoint of tenant " + tenantId);
                }
              }
              return null;
            });
  }

  /** The configured public URL, else the host the caller reached this node by. */
  private String consoleBase(HttpRequest request) {
    String base =
        !publicUrl.isEmpty()
            ? publicUrl
            : "http://" + request.getHeader("Host").map(HttpHeader::value)
                .orElseGet(() -> request.getUri().host().address() + ":" + request.getUri().port());
    return base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
  }
}
