package io.zyven.app.http;

import io.zyven.app.readmodel.StatsQueries;
import io.zyven.app.store.TenantStore.Tenant;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/** {@code GET /v1/stats}: the tenant's recent activity, from the read model. */
final class StatsRoutes {
  private final StatsQueries queries;
  private final Executor ec;

  StatsRoutes(StatsQueries queries, Executor ec) {
    this.queries = queries;
    this.ec = ec;
  }

  CompletionStage<HttpResponse> stats(Tenant tenant, HttpRequest request) {
    StatsRequest query = StatsRequest.parse(QueryParameters.single(request));
    StatsQueries.Window window = StatsQueries.Window.of(query.window(), Instant.now());
    return queries.stats(tenant.id(), window).thenApplyAsync(stats -> Responses.json(200, stats), ec);
  }
}
