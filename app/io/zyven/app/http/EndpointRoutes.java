package io.zyven.app.http;

import io.zyven.app.endpoint.EndpointEntity;
import io.zyven.app.endpoint.TargetGuard;
import io.zyven.app.ingest.IngestResult;
import io.zyven.app.ingest.TestSends;
import io.zyven.app.readmodel.ReadModelQueries;
import io.zyven.app.readmodel.ReadModelQueries.Cursor;
import io.zyven.app.readmodel.Recovery;
import io.zyven.app.readmodel.StatsQueries;
import io.zyven.app.store.EndpointIndex;
import io.zyven.app.store.SecretBox;
import io.zyven.app.store.TenantStore;
import io.zyven.app.transform.Transformations;
import io.zyven.protocol.EndpointApi.EndpointList;
import io.zyven.protocol.EndpointApi.EndpointView;
import io.zyven.protocol.EndpointApi.SecretView;
import io.zyven.protocol.EndpointConfig;
import io.zyven.protocol.StatsApi.EndpointHealth;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/** {@code /v1/endpoints}: the entity holds the truth; the index serves the list. */
public final class EndpointRoutes {

  /** Defaults for fields a new endpoint leaves out. */
  public record Defaults(int maxInFlight, int timeoutMs, int maxAttempts) {}

  /**
   * Bounds: endpoints per tenant, and a recover's batch of dead letters read at a time and
   * replays outstanding at a time.
   */
  public record Limits(int maxPerTenant, int recoverBatchSize, int recoverMaxInFlight) {}

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final EndpointIndex index;
  private final SecretBox secrets;
  private final StatsQueries stats;
  private final TargetGuard guard;
  private final Executor ec;
  private final Duration askTimeout;
  private final Defaults defaults;
  private final Limits limits;
  private final Recovery recovery;
  private final TenantStore tenants;
  private final TestSends testSends;
  private final BiFunction<String, List<String>, CompletionStage<List<String>>> filterWarnings;

  EndpointRoutes(
      ActorSystem<?> system,
      EndpointIndex index,
      SecretBox secrets,
      ReadModelQueries queries,
      StatsQueries stats,
      TargetGuard guard,
      Duration askTimeout,
      Defaults defaults,
      Limits limits,
      TenantStore tenants,
      TestSends testSends,
      BiFunction<String, List<String>, CompletionStage<List<String>>> filterWarnings) {
    this.system = system;
    this.filterWarnings = filterWarnings;
    this.tenants = tenants;
    this.testSends = testSends;
    this.sharding = ClusterSharding.get(system);
    this.index = index;
    this.secrets = secrets;
    this.stats = stats;
    this.guard = guard;
    this.ec = system.executionContext();
    this.askTimeout = askTimeout;
    this.defaults = defaults;
    this.limits = limits;
    this.recovery =
        new Recovery(system, queries, new Recovery.Settings(limits.recoverBatchSize(), limits.recoverMaxInFlight(), askTimeout));
  }

  CompletionStage<HttpResponse> create(Principal principal, byte[] body) {
    principal.requireAllEndpoints("create endpoints");
    EndpointRequest request = EndpointRequest.parse(body, true);
    return checkTransformation(request.patch().transformation()).thenComposeAsync(ok -> create(principal, request), ec);
  }

  private CompletionStage<HttpResponse> create(Principal principal, EndpointRequest request) {
    EndpointEntity.Patch p = request.patch();
    Instant now = Instant.now();
    String id = UUID.randomUUID().toString();
    // Sealed here: the entity, its journal and the messages between nodes never hold it in clear.
    String secret = request.secret() != null ? request.secret() : EndpointRequest.newSecret();
    EndpointConfig config =
        new EndpointConfig(
            id,
            principal.tenantId(),
            p.url(),
            p.description(),
            p.eventTypes() != null ? List.copyOf(p.eventTypes()) : List.of(),
            secrets.seal(id, secret),
            null,
            null,
            p.enabled() != null ? p.enabled() : true,
            p.maxInFlight() != null ? p.maxInFlight() : defaults.maxInFlight(),
            p.rateLimitPerSecond(),
            p.timeoutMs() != null ? p.timeoutMs() : defaults.timeoutMs(),
            p.maxAttempts() != null ? p.maxAttempts() : defaults.maxAttempts(),
            p.headers() != null ? Map.copyOf(p.headers()) : Map.of(),
            now,
            now,
            1,
            false,
            p.transformation(),
            null);
    return verifyByDefault(principal.tenantId(), request.verify(), true)
        .thenComposeAsync(
            verify -> create(principal, verify ? config.withVerification(EndpointConfig.Verification.started(now), now) : config),
            ec);
  }

  private CompletionStage<HttpResponse> create(Principal principal, EndpointConfig config) {
    String id = config.id();
    // Counted before anything is written. Creates racing each other may pass the cap by
    // the few that count at the same moment; it bounds the work, it is not an invariant.
    return index
        .count(principal.tenantId())
        .thenComposeAsync(
            count -> {
              if (count >= limits.maxPerTenant()) {
                throw Problems.conflict(
                    "endpoint-limit-reached",
                    "Endpoint limit reached",
                    "this tenant has " + count + " endpoints, the most allowed (" + limits.maxPerTenant()
                        + "); delete one first");
              }
              return checkTarget(config.url());
            },
            ec)
        .thenComposeAsync(
            ok -> change(null, id, replyTo -> new EndpointEntity.Create(config, replyTo), false, 201, true, config.eventTypes()),
            ec);
  }

  // Developers meet the guard first with a receiver on their own machine: name the switch.
  private static final String PRIVATE_TARGETS_HINT =
      ". Webhooks go only to public addresses; for a receiver on your own machine in development, "
          + "run the node in dev mode (ZYVEN_DEV=true) or set zyven.delivery.allow-private-targets=true";

  /** The SSRF guard, at registration: 422 for a URL that does not lead to a public address. */
  private CompletionStage<Void> checkTarget(String url) {
    if (url == null) return CompletableFuture.completedFuture(null);
    return guard
        .checkUrl(url)
        .exceptionally(
            e -> {
              Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
              if (cause instanceof TargetGuard.Refused refused) {
                throw Problems.targetNotAllowed(refused.getMessage() + (refused.notPublic() ? PRIVATE_TARGETS_HINT : ""));
              }
              throw new CompletionException(cause);
            });
  }

  /** A transformation is saved only if it compiles and defines its handler: 422 otherwise. */
  private CompletionStage<Void> checkTransformation(String source) {
    if (source == null) return CompletableFuture.completedFuture(null);
    return Transformations.get(system)
        .check(source)
        .exceptionally(
            e -> {
              Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
              throw transformationProblem(cause);
            });
  }

  private static RuntimeException transformationProblem(Throwable cause) {
    if (cause instanceof Transformations.Invalid invalid) return Problems.invalidTransformation(invalid.getMessage());
    // Every runner busy: a bounded queue is full, which the API answers 503 (Retry-After).
    if (cause instanceof Transformations.Unavailable) return new RejectedExecutionException(cause.getMessage());
    return new CompletionException(cause);
  }

  /**
   * What the endpoint's transformation (or {@code transformation} in the body, unsaved)
   * would send for {@code payload}: the body, the extra headers, or that it cancels. Nothing
   * is sent; an error of the script is 422 with its reason.
   */
  CompletionStage<HttpResponse> previewTransformation(Principal principal, String pathId, byte[] body) {
    String id = Ids.canonical(pathId, "endpoint");
    principal.requireEndpoint(id);
    PreviewRequest request = PreviewRequest.parse(body);
    return ask(principal.tenantId(), id, replyTo -> new EndpointEntity.Get(principal.tenantId(), replyTo))
        .thenComposeAsync(
            config -> {
              String source = request.transformation() != null ? request.transformation() : config.transformation();
              if (source == null) {
                // No transformation: the payload goes as it is.
                return CompletableFuture.completedFuture(
                    Responses.json(200, new PreviewRequest.Preview(request.payload(), Map.of(), false)));
              }
              return Transformations.get(system)
                  .apply(source, request.type(), PreviewRequest.previewEventId(), request.payload().toString())
                  .thenApplyAsync(PreviewRequest::answer, ec);
            },
            ec);
  }

  /** A keyset page of the tenant's endpoints, oldest first, as {@code GET /v1/events} pages. */
  CompletionStage<HttpResponse> list(Principal principal, Map<String, String> query) {
    EndpointListRequest request = EndpointListRequest.parse(query);
    Cursor after = request.cursor();
    return index
        .page(
            principal.tenantId(),
            principal.endpointIds(),
            request.limit(),
            after == null ? null : after.createdAt(),
            after == null ? null : after.eventId())
        .thenApplyAsync(
            page -> {
              String next = null;
              if (page.more()) {
                EndpointView last = page.endpoints().get(page.endpoints().size() - 1);
                next = new Cursor(last.createdAt(), UUID.fromString(last.id())).encode();
              }
              return Responses.json(200, new EndpointList(page.endpoints(), next));
            },
            ec);
  }

  CompletionStage<HttpResponse> get(Principal principal, String pathId) {
    String id = Ids.canonical(pathId, "endpoint");
    principal.requireEndpoint(id);
    return ask(principal.tenantId(), id, replyTo -> new EndpointEntity.Get(principal.tenantId(), replyTo))
        .thenApplyAsync(config -> Responses.json(200, EndpointView.of(config)), ec);
  }

  /**
   * The endpoint's health: the live parts from its entity (which also says whether it is
   * the tenant's), then its last hour of attempts from the read model.
   */
  CompletionStage<HttpResponse> health(Principal principal, String pathId) {
    String id = Ids.canonical(pathId, "endpoint");
    principal.requireEndpoint(id);
    Instant hourAgo = Instant.now().minus(Duration.ofHours(1));
    return owned(principal.tenantId(), id)
        .thenComposeAsync(
            ok -> sharding
                .entityRefFor(EndpointEntity.TYPE_KEY, id)
                .<EndpointEntity.Reply>ask(replyTo -> new EndpointEntity.GetHealth(principal.tenantId(), replyTo), askTimeout),
            ec)
        .thenComposeAsync(
            reply -> {
              if (!(reply instanceof EndpointEntity.Health live)) throw Problems.notFound("no endpoint " + id);
              return stats
                  .activity(id, hourAgo)
                  .thenApplyAsync(
                      hour ->
                          Responses.json(
                              200,
                              new EndpointHealth(
                                  id, live.enabled(), live.circuit().name().toLowerCase(Locale.ROOT),
                                  live.failingSince(), live.inFlight(), live.queued(), hour.attempts(),
                                  hour.successRate(), hour.lastAttemptAt(), hour.lastError())),
                      ec);
            },
            ec);
  }

  CompletionStage<HttpResponse> update(Principal principal, String pathId, byte[] body) {
    String id = Ids.canonical(pathId, "endpoint");
    principal.requireEndpoint(id);
    EndpointRequest request = EndpointRequest.parse(body, false);
    EndpointEntity.Patch patch = request.patch();
    return checkTransformation(patch.transformation())
        .thenComposeAsync(ok -> checkTarget(patch.url()), ec)
        // The default is read only when it can matter: no verify given, and a URL given.
        .thenComposeAsync(ok -> verifyByDefault(principal.tenantId(), request.verify(), patch.url() != null), ec)
        .thenComposeAsync(
            byDefault -> change(
                principal.tenantId(), id,
                replyTo -> new EndpointEntity.Update(principal.tenantId(), patch, request.verify(), byDefault, replyTo),
                false, 200, false, patch.eventTypes()),
            ec);
  }

  /**
   * {@code verify} when the request gave it; otherwise, when {@code asked} (a create, or a
   * new URL), the tenant's default, read from its row: settings change rarely and this is
   * no hot path.
   */
  private CompletionStage<Boolean> verifyByDefault(String tenantId, Boolean verify, boolean asked) {
    if (verify != null) return CompletableFuture.completedFuture(verify);
    if (!asked) return CompletableFuture.completedFuture(false);
    return tenants.verifyEndpoints(tenantId);
  }

  /**
   * Starts the endpoint's challenge-response verification again (or for the first time):
   * 202 with the endpoint, pending verification until the challenge is echoed. The outcome
   * is journaled by the entity and shows in the endpoint's {@code verification}.
   */
  CompletionStage<HttpResponse> verify(Principal principal, String pathId) {
    String id = Ids.canonical(pathId, "endpoint");
    principal.requireEndpoint(id);
    return change(principal.tenantId(), id, replyTo -> new EndpointEntity.Verify(principal.tenantId(), replyTo), false, 202, false);
  }

  /**
   * A test send: an event of {@code type} (or a ping) ingested for this endpoint alone, so
   * it goes the normal path. 409 when the endpoint cannot receive (disabled, or pending
   * verification): the test would only dead-letter.
   */
  CompletionStage<HttpResponse> test(Principal principal, String pathId, byte[] body) {
    String id = Ids.canonical(pathId, "endpoint");
    principal.requireEndpoint(id);
    String type = TestSendRequest.type(body);
    return ask(principal.tenantId(), id, replyTo -> new EndpointEntity.Get(principal.tenantId(), replyTo))
        .thenComposeAsync(
            config -> {
              if (config.pendingVerification()) {
                throw notReceiving(id, "is pending verification: it receives nothing until it echoes its challenge"
                    + " (POST /v1/endpoints/" + id + "/verify)");
              }
              if (!config.enabled()) throw notReceiving(id, "is disabled: enable it first");
              return testSends.send(principal.tenantId(), id, type);
            },
            ec)
        .thenApplyAsync(
            result -> {
              if (result instanceof IngestResult.Accepted a) {
                return Responses.json(202, new TestSent(a.eventId(), type == null ? TestSends.PING_TYPE : type));
              }
              // The index had not caught up with the entity yet (it just changed).
              if (result instanceof IngestResult.EndpointUnavailable) {
                throw notReceiving(id, "cannot receive events right now; try again");
              }
              // A named type goes through the catalogue's rules like any producer's event.
              EventRoutes.throwCatalogueRefusal(result);
              // Any other refusal of ingest's rules (none today: a fresh key cannot conflict).
              throw Problems.unprocessable("the test event was refused: " + result.getClass().getSimpleName());
            },
            ec);
  }

  record TestSent(String eventId, String type) {}

  private static RuntimeException notReceiving(String id, String why) {
    return Problems.conflict("endpoint-not-receiving", "Endpoint not receiving", "endpoint " + id + " " + why);
  }

  CompletionStage<HttpResponse> delete(Principal principal, String pathId) {
    String id = Ids.canonical(pathId, "endpoint");
    principal.requireEndpoint(id);
    return change(principal.tenantId(), id, replyTo -> new EndpointEntity.Delete(principal.tenantId(), replyTo), true, 204, false);
  }

  CompletionStage<HttpResponse> enable(Principal principal, String pathId) {
    String id = Ids.canonical(pathId, "endpoint");
    principal.requireEndpoint(id);
    return change(principal.tenantId(), id, replyTo -> new EndpointEntity.Enable(principal.tenantId(), replyTo), false, 200, false);
  }

  /** A new secret; the previous one keeps signing beside it for 24 hours. */
  CompletionStage<HttpResponse> rotateSecret(Principal principal, String pathId) {
    String id = Ids.canonical(pathId, "endpoint");
    principal.requireEndpoint(id);
    String secret = EndpointRequest.newSecret();
    String sealed = secrets.seal(id, secret);
    return change(
        principal.tenantId(), id, replyTo -> new EndpointEntity.RotateSecret(principal.tenantId(), sealed, replyTo), false, 200, true);
  }

  /**
   * The endpoint's secrets in clear: the only read that returns them. The manage scope,
   * like every change to the endpoint; the previous secret only while it still signs.
   */
  CompletionStage<HttpResponse> secret(Principal principal, String pathId) {
    String id = Ids.canonical(pathId, "endpoint");
    principal.requireEndpoint(id);
    principal.requireManage("read an endpoint's secret");
    return ask(principal.tenantId(), id, replyTo -> new EndpointEntity.Get(principal.tenantId(), replyTo))
        .thenApplyAsync(
            config -> {
              boolean previous = config.previousSecretSigns(Instant.now());
              return Responses.json(
                  200,
                  new SecretView(
                      secrets.open(id, config.secret()),
                      previous ? secrets.open(id, config.previousSecret()) : null,
                      previous ? config.previousSecretExpiresAt() : null));
            },
            ec);
  }

  /**
   * Replays every delivery to this endpoint that was dead-lettered in [since, until), each
   * by its event entity (journaled there with who asked). Answers 202 with how many there
   * are once the recover has started; it proceeds in the background, in bounded batches
   * and with a bounded number of replays outstanding ({@link Recovery}).
   */
  CompletionStage<HttpResponse> recover(Principal principal, String pathId, byte[] body) {
    String id = Ids.canonical(pathId, "endpoint");
    principal.requireEndpoint(id);
    RecoverRequest window = RecoverRequest.parse(body, Instant.now());
    String by = principal.by() + " (recover)";
    return ask(principal.tenantId(), id, replyTo -> new EndpointEntity.Get(principal.tenantId(), replyTo))
        .thenComposeAsync(config -> recovery.count(principal.tenantId(), id, window.since(), window.until()), ec)
        .thenApplyAsync(
            count -> {
              recovery.run(principal.tenantId(), id, window.since(), window.until(), by);
              return Responses.json(202, new RecoverAccepted(id, window.since(), window.until(), count));
            },
            ec);
  }

  record RecoverAccepted(String endpointId, Instant since, Instant until, long deadLetters) {}

  /**
   * Journals the change in the entity, then updates the index before answering; with
   * {@code withSecret} (create, rotate) the answer carries the secret in clear.
   */
  private CompletionStage<HttpResponse> change(
      String tenantId,
      String id,
      Function<ActorRef<EndpointEntity.Reply>, EndpointEntity.Command> command,
      boolean deleted,
      int status,
      boolean withSecret) {
    return change(tenantId, id, command, deleted, status, withSecret, null);
  }

  /** The same; the answer warns of the {@code eventTypes} entries that match no registered type. */
  private CompletionStage<HttpResponse> change(
      String tenantId,
      String id,
      Function<ActorRef<EndpointEntity.Reply>, EndpointEntity.Command> command,
      boolean deleted,
      int status,
      boolean withSecret,
      List<String> eventTypes) {
    return ask(tenantId, id, command)
        .thenComposeAsync(
            config ->
                index
                    .upsert(config, deleted)
                    .thenCombine(
                        warnings(config.tenantId(), eventTypes),
                        (done, warnings) ->
                            status == 204
                                ? HttpResponse.create().withStatus(204)
                                : Responses.json(status, view(config, withSecret).withWarnings(warnings))),
            ec);
  }

  /**
   * The {@code eventTypes} entries that match no registered type. The endpoint is saved
   * either way, so a warning that cannot be worked out is left out, not an error.
   */
  private CompletionStage<List<String>> warnings(String tenantId, List<String> eventTypes) {
    if (eventTypes == null || eventTypes.isEmpty()) return CompletableFuture.completedFuture(List.of());
    return filterWarnings.apply(tenantId, eventTypes).exceptionally(e -> List.of());
  }

  /**
   * The view, with the current secret opened when asked: the one the entity holds (a
   * retried create finds the endpoint already there, with the secret of the first try).
   */
  private EndpointView view(EndpointConfig config, boolean withSecret) {
    EndpointView view = EndpointView.of(config);
    return withSecret ? view.withSecret(secrets.open(config.id(), config.secret())) : view;
  }

  /**
   * Asks the endpoint's entity, once the index says the endpoint is the tenant's
   * ({@code tenantId} null: a create, of an id no one has yet). Another tenant's endpoint is
   * not even started: its recovery would touch the index and its dispatcher.
   */
  private CompletionStage<EndpointConfig> ask(
      String tenantId, String id, Function<ActorRef<EndpointEntity.Reply>, EndpointEntity.Command> command) {
    CompletionStage<Void> owned = tenantId == null ? CompletableFuture.completedFuture(null) : owned(tenantId, id);
    return owned
        .thenComposeAsync(
            ok -> sharding.entityRefFor(EndpointEntity.TYPE_KEY, id).ask(command::apply, askTimeout), ec)
        .thenApplyAsync(
            reply -> {
              if (reply instanceof EndpointEntity.Current current) return current.config();
              throw Problems.notFound("no endpoint " + id);
            },
            ec);
  }

  /** Completes if the index has the endpoint as the tenant's; 404 otherwise, whoever's it is. */
  private CompletionStage<Void> owned(String tenantId, String id) {
    return index
        .tenantOf(id)
        .thenAcceptAsync(
            owner -> {
              if (!owner.map(tenantId::equals).orElse(false)) throw Problems.notFound("no endpoint " + id);
            },
            ec);
  }
}
