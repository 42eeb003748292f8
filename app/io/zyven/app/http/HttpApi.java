package io.zyven.app.http;

import io.zyven.app.alert.AlertChannelService;
import io.zyven.app.metrics.Metrics;
import io.zyven.app.endpoint.TargetGuard;
import io.zyven.app.ingest.IngestRateLimiter;
import io.zyven.app.ingest.EventTypeCatalogue;
import io.zyven.app.ingest.IngestService;
import io.zyven.app.ingest.TestSends;
import io.zyven.app.readmodel.EventOwners;
import io.zyven.app.readmodel.ExpungedPayloads;
import io.zyven.app.readmodel.ReadModelQueries;
import io.zyven.app.readmodel.StatsQueries;
import io.zyven.app.store.AdminKey;
import io.zyven.app.store.Database;
import io.zyven.app.store.EndpointIndex;
import io.zyven.app.store.EventTypeStore;
import io.zyven.app.store.SecretBox;
import io.zyven.app.store.TenantStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ClusterShardingHealthCheck;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import scala.jdk.javaapi.FutureConverters;

/** The HTTP API (v1): routing, auth and error shape in one place. */
public final class HttpApi extends AllDirectives {

  /** Prometheus's text exposition format, version 0.0.4. */
  private static final ContentType.WithCharset PROMETHEUS_TEXT =
      MediaTypes.customWithOpenCharset("text", "plain", Map.of("version", "0.0.4"), true)
          .toContentType(HttpCharsets.UTF_8);

  /** Limit for configuration bodies (tenants, endpoints); ingest has its own. */
  private static final long MAX_CONFIG_BODY = 64 * 1024;

  public record Settings(
      AdminKey adminKey,
      long maxIngestBody,
      Duration askTimeout,
      Duration askTimeoutWhileUnreachable,
      Duration resendAfter,
      Duration retryAfter,
      int ingestRateLimitPerKey,
      EndpointRoutes.Defaults endpointDefaults,
      EndpointRoutes.Limits endpointLimits,
      String frameAncestors) {}

  private final ActorSystem<?> system;
  private final Executor ec;
  private final Database db;
  private final TenantRoutes tenantRoutes;
  private final Auth auth;
  private final ReadModelQueries queries;
  private final ClusterRoutes cluster;
  private final EventRoutes events;
  private final EndpointRoutes endpoints;
  private final ConsoleRoutes console;
  private final StatsRoutes stats;
  private final PortalRoutes portal;
  private final ApiKeyRoutes apiKeys;
  private final AlertChannelRoutes alertChannels;
  private final EventTypeRoutes eventTypes;
  private final IngestRateLimiter rateLimiter = new IngestRateLimiter();
  private final Settings settings;
  private final ClusterShardingHealthCheck shardingRegistered;

  public HttpApi(
      ActorSystem<?> system,
      Database db,
      TenantStore tenants,
      EndpointIndex index,
      TargetGuard guard,
      SecretBox secrets,
      Settings settings,
      PortalRoutes.Settings portalSettings,
      AlertChannelService alerts) {
    this.system = system;
    this.ec = system.executionContext();
    this.db = db;
    this.tenantRoutes = new TenantRoutes(tenants);
    this.apiKeys = new ApiKeyRoutes(tenants);
    PortalTokens portalTokens = new PortalTokens(portalSettings.signingKey(), Clock.systemUTC());
    this.auth = new Auth(tenants, settings.adminKey(), portalTokens);
    this.portal = new PortalRoutes(tenants, index, portalTokens, portalSettings.publicUrl(), ec);
    this.queries = new ReadModelQueries(db);
    IngestService ingest =
        new IngestService(
            system,
            index,
            new IngestService.Settings(
                settings.askTimeout(), settings.askTimeoutWhileUnreachable(), settings.resendAfter()));
    this.events =
        new EventRoutes(
            system,
            ingest,
            queries,
            new EventOwners(db, system),
            new ExpungedPayloads(db, system),
            settings.maxIngestBody(),
            settings.askTimeout());
    this.cluster = new ClusterRoutes(system, settings.askTimeout());
    StatsQueries statsQueries = new StatsQueries(db);
    EventTypeCatalogue catalogue = new EventTypeCatalogue(new EventTypeStore(db), tenants);
    this.endpoints =
        new EndpointRoutes(
            system, index, secrets, queries, statsQueries, guard, settings.askTimeout(), settings.endpointDefaults(),
            settings.endpointLimits(), tenants,
            // Test sends go through the same ingest as POST /v1/events, with the catalogue's
            // example of the type asked for (a ping when it has none).
            new TestSends(ingest, catalogue::example, ec),
            catalogue::filterWarnings);
    this.stats = new StatsRoutes(statsQueries, ec);
    this.console = new ConsoleRoutes(settings.frameAncestors());
    this.alertChannels = new AlertChannelRoutes(alerts, ec);
    this.eventTypes = new EventTypeRoutes(catalogue, ec);
    this.settings = settings;
    this.shardingRegistered = new ClusterShardingHealthCheck(Adapter.toClassic(system));
  }

  public Route route() {
    ExceptionHandler exceptions =
        ExceptionHandler.newBuilder()
            .matchAny(t -> complete(Problems.fromThrowable(t, settings.retryAfter())))
            .build();
    RejectionHandler rejections =
        RejectionHandler.defaultHandler().mapRejectionResponse(Problems::fromRejection);
    return observed(() -> handleExceptions(
        exceptions,
        () ->
            handleRejections(
                rejections,
                () ->
                    concat(
                        pathPrefix("v1", () -> concat(
                            meRoute(), tenantRoutes(), endpointRoutes(), eventRoutes(), statsRoutes(), portalRoutes(),
                            apiKeyRoutes(), alertChannelRoutes(), eventTypeRoutes(), clusterRoutes())),
                        healthRoutes(),
                        console.route(),
                        path("metrics", () -> get(() -> respond(request -> CompletableFuture.completedFuture(metrics())))),
                        new DocsRoutes().route()))));
  }

  /**
   * Every answer, as it leaves: problems count by status and type, and an answer to
   * {@code POST /v1/events} in the ingest latency, from the request's arrival.
   */
  private Route observed(Supplier<Route> inner) {
    return extractRequest(request -> {
      long start = System.nanoTime();
      boolean ingest = request.method().equals(HttpMethods.POST) && request.getUri().path().equals("/v1/events");
      return mapResponse(
          response -> {
            Metrics.httpResponse(
                ingest, response.status().intValue(), response.getAttribute(Problems.SLUG).orElse(null),
                System.nanoTime() - start);
            return response;
          },
          inner);
    });
  }

  /** Who the request's key is: what the console shows as "signed in as", and may do. */
  private Route meRoute() {
    return path("me", () -> get(() -> respond(request ->
        auth.adminOrTenant(request).thenApply(caller -> Responses.json(200, caller.map(HttpApi::me).orElse(Map.of("kind", "admin")))))));
  }

  private static Map<String, Object> me(Principal p) {
    Map<String, Object> me = new java.util.LinkedHashMap<>();
    me.put("kind", "tenant");
    me.put("tenant_id", p.tenantId());
    me.put("tenant_name", p.tenant().name());
    me.put("scope", p.scope().wire());
    me.put("scopes", p.scopeNames());
    me.put("portal", p.portal());
    me.put("endpoint_ids", p.restricted() ? p.endpointIds().stream().sorted().toList() : null);
    return me;
  }

  private Route tenantRoutes() {
    return pathPrefix(
        "tenants",
        () ->
            concat(
                pathEnd(
                    () ->
                        concat(
                            post(() -> asAdmin(request ->
                                jsonBody(request, MAX_CONFIG_BODY).thenComposeAsync(tenantRoutes::create, ec))),
                            get(() -> asAdmin(request -> tenantRoutes.list())))),
                path(
                    PathMatchers.segment(),
                    id ->
                        concat(
                            get(() -> asAdmin(request -> tenantRoutes.get(id))),
                            patch(() -> asAdmin(request ->
                                jsonBody(request, MAX_CONFIG_BODY).thenComposeAsync(body -> tenantRoutes.update(id, body), ec))))),
                path(
                    PathMatchers.segment().slash("keys"),
                    id -> post(() -> asAdmin(request -> tenantRoutes.issueKey(id))))));
  }

  private Route statsRoutes() {
    return path("stats", () -> get(() -> asTenant((principal, request) -> {
      principal.requireAllEndpoints("see the whole tenant's stats");
      return stats.stats(principal.tenant(), request);
    })));
  }

  /** Opened by a tenant's API key for itself, or by the admin for any tenant; never by a portal token. */
  private Route portalRoutes() {
    return path(
        "portal-sessions",
        () ->
            post(
                () ->
                    respond(
                        request ->
                            auth.adminOrTenant(request)
                                .thenComposeAsync(
                                    caller ->
                                        jsonBody(request, MAX_CONFIG_BODY)
                                            .thenComposeAsync(body -> portal.create(caller, request, body), ec),
                                    ec))));
  }

  /** A tenant's own keys; every method needs the manage scope (POST and DELETE by asTenant's method check, the list by ApiKeyRoutes). */
  private Route apiKeyRoutes() {
    return pathPrefix(
        "api-keys",
        () ->
            concat(
                pathEnd(
                    () ->
                        concat(
                            get(() -> asTenant((principal, request) -> apiKeys.list(principal))),
                            post(() -> asTenant((principal, request) ->
                                jsonBody(request, MAX_CONFIG_BODY)
                                    .thenComposeAsync(body -> apiKeys.create(principal, body), ec))))),
                path(
                    PathMatchers.segment(),
                    id -> delete(() -> asTenant((principal, request) -> apiKeys.revoke(principal, id))))));
  }

  /** A tenant's alert channels; every method needs the manage scope (reads by AlertChannelRoutes). */
  private Route alertChannelRoutes() {
    return pathPrefix(
        "alert-channels",
        () ->
            concat(
                pathEnd(
                    () ->
                        concat(
                            get(() -> asTenant((principal, request) -> alertChannels.list(principal))),
                            post(() -> asTenant((principal, request) ->
                                jsonBody(request, MAX_CONFIG_BODY)
                                    .thenComposeAsync(body -> alertChannels.create(principal, body), ec))))),
                path(
                    PathMatchers.segment(),
                    id ->
                        concat(
                            get(() -> asTenant((principal, request) -> alertChannels.get(principal, id))),
                            patch(() -> asTenant((principal, request) ->
                                jsonBody(request, MAX_CONFIG_BODY)
                                    .thenComposeAsync(body -> alertChannels.update(principal, id, body), ec))),
                            delete(() -> asTenant((principal, request) -> alertChannels.delete(principal, id))))),
                path(
                    PathMatchers.segment().slash("test"),
                    id -> post(() -> asTenant((principal, request) -> alertChannels.test(principal, id))))));
  }

  /** The tenant's event-type catalogue: reads with the read scope, changes with manage (asTenant's method check). */
  private Route eventTypeRoutes() {
    return concat(
        pathPrefix(
            "event-types",
            () ->
                concat(
                    pathEnd(
                        () ->
                            concat(
                                get(() -> asTenant(eventTypes::list)),
                                post(() -> asTenant((principal, request) ->
                                    jsonBody(request, MAX_CONFIG_BODY)
                                        .thenComposeAsync(body -> eventTypes.create(principal, body), ec))))),
                    path(
                        PathMatchers.segment(),
                        name ->
                            concat(
                                get(() -> asTenant((principal, request) -> eventTypes.get(principal, name))),
                                patch(() -> asTenant((principal, request) ->
                                    jsonBody(request, MAX_CONFIG_BODY)
                                        .thenComposeAsync(body -> eventTypes.update(principal, name, body), ec))),
                                delete(() -> asTenant((principal, request) -> eventTypes.delete(principal, name))))),
                    path(
                        PathMatchers.segment().slash("audit"),
                        name -> get(() -> asTenant((principal, request) -> eventTypes.audit(principal, name)))))),
        path(
            "event-type-settings",
            () ->
                concat(
                    get(() -> asTenant((principal, request) -> eventTypes.settings(principal))),
                    patch(() -> asTenant((principal, request) ->
                        jsonBody(request, MAX_CONFIG_BODY)
                            .thenComposeAsync(body -> eventTypes.updateSettings(principal, body), ec))))));
  }

  private Route clusterRoutes() {
    return path("cluster", () -> get(() -> asAdmin(request -> cluster.status())));
  }

  private Route endpointRoutes() {
    return pathPrefix(
        "endpoints",
        () ->
            concat(
                pathEnd(
                    () ->
                        concat(
                            get(() -> asTenant((principal, request) -> endpoints.list(principal, request.getUri().query().toMap()))),
                            post(() -> asTenant((principal, request) ->
                                jsonBody(request, MAX_CONFIG_BODY)
                                    .thenComposeAsync(body -> endpoints.create(principal, body), ec))))),
                path(
                    PathMatchers.segment(),
                    id ->
                        concat(
                            get(() -> asTenant((principal, request) -> endpoints.get(principal, id))),
                            patch(() -> asTenant((principal, request) ->
                                jsonBody(request, MAX_CONFIG_BODY)
                                    .thenComposeAsync(body -> endpoints.update(principal, id, body), ec))),
                            delete(() -> asTenant((principal, request) -> endpoints.delete(principal, id))))),
                path(
                    PathMatchers.segment().slash("health"),
                    id -> get(() -> asTenant((principal, request) -> endpoints.health(principal, id)))),
                path(
                    PathMatchers.segment().slash("enable"),
                    id -> post(() -> asTenant((principal, request) -> endpoints.enable(principal, id)))),
                path(
                    PathMatchers.segment().slash("test"),
                    id -> post(() -> asTenant((principal, request) ->
                        optionalJsonBody(request).thenComposeAsync(body -> endpoints.test(principal, id, body), ec)))),
                path(
                    PathMatchers.segment().slash("verify"),
                    id -> post(() -> asTenant((principal, request) -> endpoints.verify(principal, id)))),
                path(
                    PathMatchers.segment().slash("recover"),
                    id -> post(() -> asTenant((principal, request) ->
                        jsonBody(request, MAX_CONFIG_BODY)
                            .thenComposeAsync(body -> endpoints.recover(principal, id, body), ec)))),
                path(
                    PathMatchers.segment().slash("transformation").slash("preview"),
                    id -> post(() -> asTenant((principal, request) ->
                        // A payload as large as ingest takes, beside the source.
                        jsonBody(request, settings.maxIngestBody() + MAX_CONFIG_BODY)
                            .thenComposeAsync(body -> endpoints.previewTransformation(principal, id, body), ec)))),
                path(
                    PathMatchers.segment().slash("rotate-secret"),
                    id -> post(() -> asTenant((principal, request) -> endpoints.rotateSecret(principal, id)))),
                path(
                    PathMatchers.segment().slash("secret"),
                    id -> get(() -> asTenant((principal, request) -> endpoints.secret(principal, id))))));
  }

  private Route eventRoutes() {
    return pathPrefix(
        "events",
        () ->
            concat(
                pathEnd(() -> concat(post(() -> asIngest(events::ingest)), get(() -> asTenant(events::list)))),
                path(PathMatchers.segment(), id -> get(() -> asTenant((principal, r) -> events.get(principal, id)))),
                path(
                    PathMatchers.segment().slash("audit"),
                    id -> get(() -> asTenant((principal, r) -> events.audit(principal, id)))),
                path(
                    PathMatchers.segment().slash("attempts"),
                    id -> get(() -> asTenant((principal, r) -> events.attempts(principal, id, r)))),
                path(
                    PathMatchers.segment().slash("payload"),
                    id -> delete(() -> asTenant((principal, r) -> events.expunge(principal, id)))),
                path(
                    PathMatchers.segment().slash("replay"),
                    id -> post(() -> asTenant((principal, request) ->
                        optionalJsonBody(request)
                            .thenComposeAsync(body -> events.replay(principal, id, body), ec)))),
                path(
                    PathMatchers.segment().slash("retry"),
                    id -> post(() -> asTenant((principal, request) ->
                        optionalJsonBody(request)
                            .thenComposeAsync(body -> events.retryNow(principal, id, body), ec))))));
  }

  private Route healthRoutes() {
    return pathPrefix(
        "health",
        () ->
            concat(
                path("live", () -> get(() -> complete(Responses.json(200, Map.of("status", "live"))))),
                path("ready", () -> get(() -> respond(request -> ready())))));
  }

  /**
   * Every metric of this node, Prometheus text format. Nothing is queried here: the gauges
   * of the read model are refreshed in the background (readmodel.MetricsRefresher).
   */
  private static HttpResponse metrics() {
    return HttpResponse.create().withEntity(PROMETHEUS_TEXT, Metrics.scrape());
  }

  /**
   * Ready = an Up member of the cluster whose shard regions have registered with their
   * coordinator (before that, a request waits on the coordinator and may time out), and
   * PostgreSQL answers.
   */
  private CompletionStage<HttpResponse> ready() {
    boolean member = Cluster.get(system).selfMember().status() == MemberStatus.up();
    CompletionStage<Boolean> sharding =
        member
            ? FutureConverters.asJava(shardingRegistered.apply()).thenApply(Boolean.TRUE::equals)
                .exceptionally(e -> false)
            : CompletableFuture.completedFuture(false);
    return db.ping()
        .thenCombineAsync(
            sharding,
            (dbUp, shardsUp) -> {
              boolean ready = member && shardsUp && dbUp;
              return Responses.json(
                  ready ? 200 : 503,
                  Map.of("ready", ready, "cluster_member", member, "sharding", shardsUp, "database", dbUp));
            },
            ec);
  }

  // ---- plumbing ----

  /** Runs a handler; anything it throws, at once or later, becomes a problem response. */
  private Route respond(Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
    return extractRequest(
        request -> {
          CompletionStage<HttpResponse> response;
          try {
            response = handler.apply(request);
          } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
          }
          return completeWithFuture(
              response.exceptionally(t -> Problems.fromThrowable(t, settings.retryAfter())));
        });
  }

  private Route asAdmin(Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
    return respond(request -> auth.admin(request).thenComposeAsync(ok -> handler.apply(request), ec));
  }

  /** A tenant route: a credential without the read scope (GET) or manage scope (the rest) gets no further. */
  private Route asTenant(BiFunction<Principal, HttpRequest, CompletionStage<HttpResponse>> handler) {
    return respond(
        request ->
            auth.tenant(request)
                .thenComposeAsync(
                    principal -> {
                      principal.requireMethod(request.method().name());
                      return handler.apply(principal, request);
                    },
                    ec));
  }

  /**
   * {@code POST /v1/events}: the ingest (or manage) scope, then the key's rate limit, both
   * before the body is read, so that a refused request costs little and writes nothing.
   */
  private Route asIngest(BiFunction<Principal, HttpRequest, CompletionStage<HttpResponse>> handler) {
    return respond(
        request ->
            auth.tenant(request)
                .thenComposeAsync(
                    principal -> {
                      principal.requireIngest();
                      Duration wait =
                          rateLimiter.acquire(principal.credentialId(), principal.ingestRateLimit(settings.ingestRateLimitPerKey()));
                      if (!wait.isZero()) {
                        request.entity().discardBytes(system);
                        throw Problems.rateLimited(wait);
                      }
                      return handler.apply(principal, request);
                    },
                    ec));
  }

  /** A JSON body, or none at all (an empty body of any type reads as {@code {}}). */
  private CompletionStage<byte[]> optionalJsonBody(HttpRequest request) {
    if (request.entity().isKnownEmpty()) return CompletableFuture.completedFuture(new byte[0]);
    return jsonBody(request, MAX_CONFIG_BODY);
  }

  private CompletionStage<byte[]> jsonBody(HttpRequest request, long maxBytes) {
    return Bodies.json(request.entity(), maxBytes, settings.askTimeout(), system, ec);
  }
}
