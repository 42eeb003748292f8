package io.zyven.app.http;

import io.zyven.app.alert.AlertChannelService;
import io.zyven.app.endpoint.TargetGuard;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * {@code /v1/alert-channels}: a tenant's alert channels, with the manage scope (reads
 * included: a channel's sends say what its receivers are). The service decides; this
 * translates.
 */
final class AlertChannelRoutes {
  private final AlertChannelService service;
  private final Executor ec;

  AlertChannelRoutes(AlertChannelService service, Executor ec) {
    this.service = service;
    this.ec = ec;
  }

  CompletionStage<HttpResponse> create(Principal principal, byte[] body) {
    requireManage(principal, "create alert channels");
    AlertChannelService.NewChannel request = AlertChannelRequest.create(body, service.pagerDutyUrl());
    return refusals(service.create(principal.tenantId(), request).thenApply(view -> Responses.json(201, view)));
  }

  CompletionStage<HttpResponse> list(Principal principal) {
    requireManage(principal, "list alert channels");
    return service.list(principal.tenantId()).thenApply(list -> Responses.json(200, list));
  }

  CompletionStage<HttpResponse> get(Principal principal, String pathId) {
    requireManage(principal, "read alert channels");
    String id = Ids.canonical(pathId, "alert channel");
    return service.get(principal.tenantId(), id)
        .thenApply(found -> Responses.json(200, found.orElseThrow(() -> notFound(id))));
  }

  CompletionStage<HttpResponse> update(Principal principal, String pathId, byte[] body) {
    requireManage(principal, "change alert channels");
    String id = Ids.canonical(pathId, "alert channel");
    AlertChannelService.ChannelPatch patch = AlertChannelRequest.patch(body);
    return refusals(service.update(principal.tenantId(), id, patch, AlertChannelRequest::allowedFor)
        .thenApply(found -> Responses.json(200, found.orElseThrow(() -> notFound(id)))));
  }

  CompletionStage<HttpResponse> delete(Principal principal, String pathId) {
    requireManage(principal, "delete alert channels");
    String id = Ids.canonical(pathId, "alert channel");
    return service.delete(principal.tenantId(), id).thenApply(found -> {
      if (!found) throw notFound(id);
      return HttpResponse.create().withStatus(204);
    });
  }

  CompletionStage<HttpResponse> test(Principal principal, String pathId) {
    requireManage(principal, "test alert channels");
    String id = Ids.canonical(pathId, "alert channel");
    return service.test(principal.tenantId(), id)
        .thenApply(found -> Responses.json(202, found.orElseThrow(() -> notFound(id))));
  }

  /** Portal tokens limited to some endpoints see nothing of the tenant's alerting. */
  private static void requireManage(Principal principal, String action) {
    principal.requireAllEndpoints(action);
    principal.requireManage(action);
  }

  private static Problems.ApiException notFound(String id) {
    return Problems.notFound("no alert channel " + id);
  }

  /** The service's refusals as problems; anything else as it is. */
  private CompletionStage<HttpResponse> refusals(CompletionStage<HttpResponse> response) {
    return response.exceptionallyAsync(
        error -> {
          Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
          if (cause instanceof TargetGuard.Refused refused) throw Problems.targetNotAllowed(refused.getMessage());
          if (cause instanceof AlertChannelService.LimitReached limit) {
            throw Problems.conflict("alert-channel-limit-reached", "Alert channel limit reached", limit.getMessage());
          }
          if (cause instanceof AlertChannelService.NoSmtp noSmtp) throw Problems.unprocessable(noSmtp.getMessage());
          throw error instanceof CompletionException c ? c : new CompletionException(error);
        },
        ec);
  }
}
