package io.zyven.app.endpoint;

import io.zyven.app.metrics.Metrics;
import io.zyven.app.delivery.DeliveryRequest;
import io.zyven.app.delivery.Dispatch;
import io.zyven.app.store.EndpointIndex;
import io.zyven.app.store.SecretBox;
import io.zyven.app.telemetry.LogContext;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.CborSerializable;
import io.zyven.protocol.EndpointConfig;
import io.zyven.protocol.EndpointJournal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilderByState;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One endpoint's configuration, event-sourced so that every change is audited. It has
 * three states: empty (never created), active, and deleted.
 *
 * <p>Requests to the endpoint go through its {@link EndpointDispatcher}, a child actor, so
 * that one sharded entity is the one home of both: the entity forwards each
 * {@link Deliver} to it and tells it every config change; the dispatcher asks the entity
 * to journal what must survive a restart (the circuit opening, with the time the failures
 * began; closing; disabling). On sharding's stop message the dispatcher hands off, and the
 * entity stops once it has.
 */
public final class EndpointEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        EndpointEntity.Command, EndpointJournal, EndpointEntity.State> {

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "Endpoint");

  // ---- commands ----

  public sealed interface Command extends CborSerializable {}

  public record Create(EndpointConfig config, ActorRef<Reply> replyTo) implements Command {}

  /**
   * A PATCH. {@code verify}: true asks for the URL's verification now, false drops it, null
   * leaves it to the rule: a new URL is verified when {@code verifyByDefault} (the tenant's
   * default) or when the endpoint was verified before.
   */
  public record Update(String tenantId, Patch patch, Boolean verify, boolean verifyByDefault, ActorRef<Reply> replyTo)
      implements Command {
    public Update(String tenantId, Patch patch, ActorRef<Reply> replyTo) {
      this(tenantId, patch, null, false, replyTo);
    }
  }

  /** Start (or start again) the challenge-response verification of the endpoint's URL. */
  public record Verify(String tenantId, ActorRef<Reply> replyTo) implements Command {}

  /**
   * The answer to the challenge of run {@code run} (an attempt: status, body kept, error);
   * only the latest run counts. Sent to itself, never across nodes.
   */
  record ChallengeAnswered(long run, String challenge, Attempt attempt) implements Command {}

  public record Delete(String tenantId, ActorRef<Reply> replyTo) implements Command {}

  public record Get(String tenantId, ActorRef<Reply> replyTo) implements Command {}

  public record Enable(String tenantId, ActorRef<Reply> replyTo) implements Command {}

  /** How the endpoint is doing now: answered with {@link Health} or {@link NotFound}. */
  public record GetHealth(String tenantId, ActorRef<Reply> replyTo) implements Command {}

  public record RotateSecret(String tenantId, String newSecret, ActorRef<Reply> replyTo)
      implements Command {}

  /**
   * Seal the endpoint's secrets under the current master key if they are not already (the
   * start-up sweep asks endpoints that are not running); answered with {@link Resealed}.
   */
  public record Reseal(ActorRef<Reply> replyTo) implements Command {}

  /** Sent to itself after recovery: the same, with no one to answer. */
  enum ResealAfterRecovery implements Command {
    INSTANCE
  }

  /** Send one attempt of an event to this endpoint, and answer how it went. */
  public record Deliver(Dispatch dispatch) implements Command {}

  /** Drop the event's attempts still waiting to be sent (its payload was expunged). */
  public record Withdraw(String eventId) implements Command {}

  /**
   * From the dispatcher: a change of the endpoint's health, to journal. {@code epoch}
   * counts the tenant's enables as the dispatcher had seen them: a change decided before
   * the latest enable (still on its way when the enable reset the circuit) is stale.
   */
  sealed interface HealthChange extends Command {
    int epoch();
  }

  /** The circuit opened: the endpoint has failed without a success since {@code failingSince}. */
  record OpenCircuit(int epoch, Instant failingSince, String reason) implements HealthChange {}

  record CloseCircuit(int epoch) implements HealthChange {}

  /** 410 Gone, or failing for longer than {@code zyven.circuit.disable-after}. */
  record Disable(int epoch, String reason) implements HealthChange {}

  /** The dispatcher has stopped: after a hand-off, or because it failed. */
  enum DispatcherStopped implements Command {
    INSTANCE
  }

  /**
   * Sharding's stop message (hand-off, passivation): the dispatcher lets requests already
   * sent finish and defers the queued ones; the entity stops when it has.
   */
  enum Stop implements Command {
    INSTANCE
  }

  /**
   * A PATCH: null fields are left alone. {@code clearDescription} and {@code clearRateLimit}
   * remove those optional fields, because null cannot say that; {@code clearTransformation}
   * likewise.
   */
  public record Patch(
      String url,
      String description,
      boolean clearDescription,
      List<String> eventTypes,
      Boolean enabled,
      Integer maxInFlight,
      Integer rateLimitPerSecond,
      boolean clearRateLimit,
      Integer timeoutMs,
      Integer maxAttempts,
      Map<String, String> headers,
      String transformation,
      boolean clearTransformation)
      implements CborSerializable {}

  public sealed interface Reply extends CborSerializable {}

  /** The endpoint as it is now (after the command). */
  public record Current(EndpointConfig config) implements Reply {}

  /**
   * The live parts of the endpoint's health: its circuit ({@code failingSince} is set while
   * it is open), the requests out now and those waiting in its queue.
   */
  public record Health(
      boolean enabled, CircuitBreaker.Position circuit, Instant failingSince, int inFlight, int queued)
      implements Reply {}

  /**
   * The answer to {@link Reseal}: whether the endpoint's secrets are now sealed under the
   * current master key (or it is deleted, and nothing is to be done); false when they would
   * not open (the entity logs why).
   */
  public record Resealed(boolean done) implements Reply {}

  /** No such endpoint for this tenant (never created, deleted, or another tenant's). */
  public record NotFound() implements Reply {}

  // ---- state ----

  /** {@code config} is null until created; {@code failingSince} is set while the circuit is open. */
  public record State(EndpointConfig config, boolean deleted, Instant failingSince)
      implements CborSerializable {
    static final State EMPTY = new State(null, false, null);

    boolean isEmpty() {
      return config == null;
    }

    boolean isActive() {
      return config != null && !deleted;
    }

    boolean isDeleted() {
      return deleted;
    }

    boolean visibleTo(String tenantId) {
      return isActive() && config.tenantId().equals(tenantId);
    }

    State withConfig(EndpointConfig c) {
      return new State(c, deleted, failingSince);
    }

    State failingSince(Instant since) {
      return new State(config, deleted, since);
    }
  }

  /** How long the previous secret keeps signing after a rotation. */
  public static final Duration ROTATION_OVERLAP = Duration.ofHours(24);

  // ---- wiring ----

  private static final Logger log = LoggerFactory.getLogger(EndpointEntity.class);

  public static void init(
      ActorSystem<?> system,
      EndpointIndex index,
      SecretBox box,
      WebhookClient client,
      EndpointDispatcher.Settings settings,
      Duration verifyTimeout) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                    TYPE_KEY,
                    ctx -> create(ctx.getEntityId(), index, box, client, settings, verifyTimeout, Clock.systemUTC()))
                .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(
      String endpointId,
      EndpointIndex index,
      SecretBox box,
      WebhookClient client,
      EndpointDispatcher.Settings settings,
      Duration verifyTimeout,
      Clock clock) {
    return Behaviors.setup(
        ctx -> {
          ActorRef<EndpointDispatcher.Message> dispatcher =
              ctx.spawn(
                  EndpointDispatcher.create(endpointId, ctx.getSelf().narrow(), client, settings, clock),
                  "dispatcher");
          // As a command, not a signal: it then waits behind the dispatcher's last requests
          // to journal, even while a write is under way.
          ctx.watchWith(dispatcher, DispatcherStopped.INSTANCE);
          return new EndpointEntity(endpointId, ctx, index, box, dispatcher, client, verifyTimeout, clock);
        });
  }

  private final String endpointId;
  private final ActorContext<Command> ctx;
  private final EndpointIndex index;
  private final SecretBox box;
  private final ActorRef<EndpointDispatcher.Message> dispatcher;
  private final Clock clock;
  /** The tenant's enables since this incarnation began; the dispatcher counts the same. */
  private int epoch;
  private final WebhookClient client;
  private final Duration verifyTimeout;
  /** Connections for challenges, apart from deliveries; made at the first challenge. */
  private WebhookClient.Pool challengePool;
  /** Counts the challenges sent by this incarnation: an answer to an older one is stale. */
  private long challengeRun;

  private EndpointEntity(
      String endpointId,
      ActorContext<Command> ctx,
      EndpointIndex index,
      SecretBox box,
      ActorRef<EndpointDispatcher.Message> dispatcher,
      WebhookClient client,
      Duration verifyTimeout,
      Clock clock) {
    super(PersistenceId.of(TYPE_KEY.name(), endpointId));
    this.endpointId = endpointId;
    this.ctx = ctx;
    this.index = index;
    this.box = box;
    this.dispatcher = dispatcher;
    this.client = client;
    this.verifyTimeout = verifyTimeout;
    this.clock = clock;
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public CommandHandlerWithReply<Command, EndpointJournal, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, EndpointJournal, State> builder = newCommandHandlerWithReplyBuilder();
    answerNotFound(builder.forState(State::isEmpty).onCommand(Create.class, this::create));
    builder
        .forState(State::isActive)
        // Ids are random, so this is a retried Create: answer with what exists.
        .onCommand(Create.class, (state, cmd) -> Effect().reply(cmd.replyTo(), current(state, cmd.config().tenantId())))
        .onCommand(Update.class, this::update)
        .onCommand(Delete.class, this::delete)
        .onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(), current(state, cmd.tenantId())))
        .onCommand(Enable.class, this::enable)
        .onCommand(GetHealth.class, this::getHealth)
        .onCommand(RotateSecret.class, this::rotateSecret)
        .onCommand(Verify.class, this::verify)
        .onCommand(ChallengeAnswered.class, this::challengeAnswered)
        .onCommand(Reseal.class, (state, cmd) -> reseal(state, cmd.replyTo()))
        .onCommand(ResealAfterRecovery.class, (state, cmd) -> reseal(state, null))
        .onCommand(OpenCircuit.class, this::openCircuit)
        .onCommand(CloseCircuit.class, this::closeCircuit)
        .onCommand(Disable.class, this::disable);
    answerNotFound(
        builder.forState(State::isDeleted).onCommand(Create.class, (state, cmd) -> notFound(cmd.replyTo())));
    // Whatever the state: the dispatcher decides what a delivery meets (a refusal, when
    // the endpoint is not active), a late health change has nothing left to change, and a
    // stop stops.
    builder
        .forAnyState()
        .onCommand(Deliver.class, (state, cmd) -> tellDispatcher(new EndpointDispatcher.Deliver(cmd.dispatch())))
        .onCommand(Withdraw.class, (state, cmd) -> tellDispatcher(new EndpointDispatcher.Withdraw(cmd.eventId())))
        // A deleted endpoint signs nothing any more: its last secrets stay as they are.
        .onCommand(Reseal.class, (state, cmd) -> Effect().reply(cmd.replyTo(), new Resealed(true)))
        .onCommand(ResealAfterRecovery.class, (state, cmd) -> Effect().noReply())
        .onCommand(HealthChange.class, (state, cmd) -> Effect().noReply())
        .onCommand(ChallengeAnswered.class, (state, cmd) -> Effect().noReply())
        .onCommand(Stop.class, (state, cmd) -> tellDispatcher(EndpointDispatcher.HandOff.INSTANCE))
        .onCommand(DispatcherStopped.class, (state, cmd) -> Effect().stop().thenNoReply());
    return builder.build();
  }

  /** Never created, or deleted: every request about the endpoint finds nothing. */
  private void answerNotFound(CommandHandlerWithReplyBuilderByState<Command, EndpointJournal, State, State> state) {
    state
        .onCommand(Update.class, (s, cmd) -> notFound(cmd.replyTo()))
        .onCommand(Delete.class, (s, cmd) -> notFound(cmd.replyTo()))
        .onCommand(Get.class, (s, cmd) -> notFound(cmd.replyTo()))
        .onCommand(Enable.class, (s, cmd) -> notFound(cmd.replyTo()))
        .onCommand(GetHealth.class, (s, cmd) -> notFound(cmd.replyTo()))
        .onCommand(RotateSecret.class, (s, cmd) -> notFound(cmd.replyTo()))
        .onCommand(Verify.class, (s, cmd) -> notFound(cmd.replyTo()));
  }


  // ---- empty ----

  private ReplyEffect<EndpointJournal, State> create(State state, Create cmd) {
    return Effect()
        .persist(new EndpointJournal.Created(cmd.config(), clock.instant()))
        .thenRun(this::configureDispatcher)
        .thenRun(this::challengeIfRunning)
        .thenReply(cmd.replyTo(), s -> new Current(s.config()));
  }

  // ---- active: the tenant's commands ----

  private ReplyEffect<EndpointJournal, State> update(State state, Update cmd) {
    if (!state.visibleTo(cmd.tenantId())) return notFound(cmd.replyTo());
    EndpointConfig current = state.config();
    Instant now = clock.instant();
    EndpointConfig.Verification verification =
        verificationAfter(current, cmd.patch(), cmd.verify(), cmd.verifyByDefault(), now);
    boolean verificationChanged = !Objects.equals(verification, current.verification());
    // A patch that changes nothing journals nothing.
    if (!verificationChanged && apply(current, cmd.patch(), current.updatedAt(), current.version()).equals(current)) {
      return Effect().reply(cmd.replyTo(), new Current(current));
    }
    EndpointConfig patched = apply(current, cmd.patch(), now, current.version() + 1);
    EndpointConfig updated = verificationChanged ? patched.withVerification(verification, now) : patched;
    return Effect()
        .persist(new EndpointJournal.Updated(updated, updated.updatedAt()))
        .thenRun(this::configureDispatcher)
        .thenRun((State s) -> {
          // Only a verification this patch started: one already out keeps its run.
          if (verificationChanged) challengeIfRunning(s);
        })
        .thenReply(cmd.replyTo(), s -> new Current(s.config()));
  }

  private ReplyEffect<EndpointJournal, State> delete(State state, Delete cmd) {
    if (!state.visibleTo(cmd.tenantId())) return notFound(cmd.replyTo());
    return Effect()
        .persist(new EndpointJournal.Deleted(clock.instant()))
        .thenRun(this::configureDispatcher)
        .thenReply(cmd.replyTo(), s -> new Current(s.config()));
  }

  private ReplyEffect<EndpointJournal, State> enable(State state, Enable cmd) {
    if (!state.visibleTo(cmd.tenantId())) return notFound(cmd.replyTo());
    if (state.config().enabled() && state.failingSince() == null) {
      return Effect().reply(cmd.replyTo(), new Current(state.config()));
    }
    EndpointConfig enabled = state.config().withEnabled(true, clock.instant());
    return Effect()
        .persist(new EndpointJournal.Enabled(enabled, enabled.updatedAt()))
        .thenRun(
            (State s) -> {
              // A fresh start: the tenant says it is fixed.
              epoch++;
              configureDispatcher(s);
              dispatcher.tell(new EndpointDispatcher.ResetCircuit());
              indexCircuit(s);
            })
        .thenReply(cmd.replyTo(), s -> new Current(s.config()));
  }

  private ReplyEffect<EndpointJournal, State> rotateSecret(State state, RotateSecret cmd) {
    if (!state.visibleTo(cmd.tenantId())) return notFound(cmd.replyTo());
    Instant now = clock.instant();
    EndpointConfig rotated =
        state.config().withRotatedSecret(cmd.newSecret(), now.plus(ROTATION_OVERLAP), now);
    return Effect()
        .persist(new EndpointJournal.SecretRotated(rotated, now))
        .thenRun(this::configureDispatcher)
        .thenReply(cmd.replyTo(), s -> new Current(s.config()));
  }

  /**
   * Journals the secrets sealed under the current master key when they are not (a rotated
   * master key, or plain text from before sealing), so that only the latest event of an
   * endpoint ever needs opening and the previous master key can then be dropped.
   */
  private ReplyEffect<EndpointJournal, State> reseal(State state, ActorRef<Reply> replyTo) {
    EndpointConfig c = state.config();
    if (!box.needsReseal(c.secret()) && !box.needsReseal(c.previousSecret())) {
      return replyTo == null ? Effect().noReply() : Effect().reply(replyTo, new Resealed(true));
    }
    EndpointConfig resealed;
    try {
      resealed = c.withResealedSecrets(
          box.seal(endpointId, box.open(endpointId, c.secret())),
          c.previousSecret() == null ? null : box.seal(endpointId, box.open(endpointId, c.previousSecret())),
          clock.instant());
    } catch (SecretBox.CannotOpen e) {
      // Says which key is missing; never the secret.
      LogContext.log(c.tenantId(), null, endpointId,
          () -> log.error("Cannot reseal endpoint {}: {}", endpointId, e.getMessage()));
      return replyTo == null ? Effect().noReply() : Effect().reply(replyTo, new Resealed(false));
    }
    var persisted = Effect()
        .persist(new EndpointJournal.SecretsResealed(resealed, resealed.updatedAt()))
        .thenRun(
            (State s) -> {
              LogContext.log(c.tenantId(), null, endpointId,
                  () -> log.info("Resealed the secrets of endpoint {} under master key {}", endpointId, box.currentKeyId()));
              configureDispatcher(s);
              index.upsert(s.config(), s.deleted());
            });
    return replyTo == null ? persisted.thenNoReply() : persisted.thenReply(replyTo, s -> new Resealed(true));
  }

  // ---- verification ----

  /**
   * Where an update leaves the endpoint's verification: {@code verify} true starts it, false
   * drops it; otherwise a new URL is verified again when the tenant verifies by default or
   * when this endpoint was verified before (the old URL's consent says nothing of the new
   * one's), and anything else keeps it as it is.
   */
  static EndpointConfig.Verification verificationAfter(
      EndpointConfig current, Patch patch, Boolean verify, boolean verifyByDefault, Instant now) {
    if (verify != null) return verify ? EndpointConfig.Verification.started(now) : null;
    boolean newUrl = patch.url() != null && !patch.url().equals(current.url());
    if (newUrl && (verifyByDefault || current.verification() != null)) return EndpointConfig.Verification.started(now);
    return current.verification();
  }

  private ReplyEffect<EndpointJournal, State> verify(State state, Verify cmd) {
    if (!state.visibleTo(cmd.tenantId())) return notFound(cmd.replyTo());
    Instant now = clock.instant();
    EndpointConfig started = state.config().withVerification(EndpointConfig.Verification.started(now), now);
    return Effect()
        .persist(new EndpointJournal.VerificationStarted(started, now))
        .thenRun(this::configureDispatcher)
        .thenRun(this::challengeIfRunning)
        .thenReply(cmd.replyTo(), s -> new Current(s.config()));
  }

  /** Sends a new challenge when the endpoint's verification waits for one. */
  private void challengeIfRunning(State state) {
    EndpointConfig c = state.config();
    if (state.isActive() && c.verification() != null && c.verification().running()) sendChallenge(c);
  }

  /**
   * POSTs a signed {@code {"type":"webhook.verification","challenge":…}} to the endpoint's
   * URL through the same client as deliveries (signing, the SSRF guard at connection, the
   * 4 KiB bound on the body it reads), and tells itself the answer. Not through the
   * dispatcher: a challenge is no delivery (no attempt spent, no circuit counted), and it
   * goes as it is, never through the endpoint's transformation.
   */
  private void sendChallenge(EndpointConfig c) {
    long run = ++challengeRun;
    String challenge = Challenges.newChallenge();
    DeliveryRequest request =
        new DeliveryRequest(UUID.randomUUID().toString(), Challenges.TYPE, Challenges.body(challenge), 1);
    if (challengePool == null) challengePool = client.newPool();
    Instant startedAt = clock.instant();
    Attempt timedOut =
        new Attempt(1, startedAt, null, verifyTimeout.toMillis(), "timeout after " + verifyTimeout.toMillis() + " ms", null);
    ctx.pipeToSelf(
        client.sendAsIs(challengePool, c, request)
            .toCompletableFuture()
            .thenApply(WebhookClient.Result::attempt)
            .completeOnTimeout(timedOut, verifyTimeout.toMillis(), TimeUnit.MILLISECONDS),
        (attempt, error) -> new ChallengeAnswered(
            run, challenge, attempt != null ? attempt : new Attempt(1, startedAt, null, 0, String.valueOf(error), null)));
  }

  private ReplyEffect<EndpointJournal, State> challengeAnswered(State state, ChallengeAnswered cmd) {
    EndpointConfig c = state.config();
    if (cmd.run() != challengeRun || c.verification() == null || !c.verification().running()) return Effect().noReply();
    String error = Challenges.check(cmd.attempt(), cmd.challenge());
    Instant now = clock.instant();
    EndpointConfig next =
        c.withVerification(
            error == null ? EndpointConfig.Verification.passed(now) : EndpointConfig.Verification.failed(now, error), now);
    EndpointJournal event =
        error == null ? new EndpointJournal.VerificationPassed(next, now) : new EndpointJournal.VerificationFailed(next, now);
    return Effect()
        .persist(event)
        .thenRun(
            (State s) -> {
              Metrics.verification(error == null);
              LogContext.log(c.tenantId(), null, endpointId,
                  () -> {
                    if (error == null) log.info("Endpoint {} passed its verification", endpointId);
                    else log.info("Endpoint {} failed its verification: {}", endpointId, error);
                  });
              configureDispatcher(s);
              // The entity's own change: the index follows, so that fan-out includes it now.
              index.upsert(s.config(), s.deleted());
            })
        .thenNoReply();
  }

  /** The journaled parts here, the live parts from the dispatcher, which answers. */
  private ReplyEffect<EndpointJournal, State> getHealth(State state, GetHealth cmd) {
    if (!state.visibleTo(cmd.tenantId())) return notFound(cmd.replyTo());
    return tellDispatcher(
        new EndpointDispatcher.GetHealth(state.config().enabled(), state.failingSince(), cmd.replyTo()));
  }

  // ---- active: the dispatcher's changes ----

  private ReplyEffect<EndpointJournal, State> openCircuit(State state, OpenCircuit cmd) {
    if (cmd.epoch() != epoch) return Effect().noReply();
    return Effect()
        .persist(new EndpointJournal.CircuitOpened(cmd.failingSince(), cmd.reason(), clock.instant()))
        .thenRun(
            (State s) -> {
              Metrics.increment("zyven_circuits_opened_total");
              LogContext.log(s.config().tenantId(), null, endpointId,
                  () -> log.info("Circuit opened for endpoint {}: {}", endpointId, cmd.reason()));
              indexChange(s);
            })
        .thenNoReply();
  }

  private ReplyEffect<EndpointJournal, State> closeCircuit(State state, CloseCircuit cmd) {
    if (cmd.epoch() != epoch || state.failingSince() == null) return Effect().noReply();
    return Effect()
        .persist(new EndpointJournal.CircuitClosed(clock.instant()))
        .thenRun(this::indexChange)
        .thenNoReply();
  }

  private ReplyEffect<EndpointJournal, State> disable(State state, Disable cmd) {
    EndpointConfig config = state.config();
    if (cmd.epoch() != epoch || !config.enabled()) return Effect().noReply();
    Instant now = clock.instant();
    return Effect()
        .persist(new EndpointJournal.Disabled(config.withEnabled(false, now), cmd.reason(), now))
        .thenRun(
            (State s) -> {
              Metrics.increment("zyven_endpoints_disabled_total");
              LogContext.log(config.tenantId(), null, config.id(),
                  () -> log.warn("Disabling endpoint {} of tenant {}: {}", config.id(), config.tenantId(), cmd.reason()));
              indexChange(s);
              configureDispatcher(s);
            })
        .thenNoReply();
  }

  // ---- helpers ----

  private ReplyEffect<EndpointJournal, State> tellDispatcher(EndpointDispatcher.Message message) {
    dispatcher.tell(message);
    return Effect().noReply();
  }

  private void configureDispatcher(State state) {
    dispatcher.tell(new EndpointDispatcher.Configure(state.config(), state.deleted()));
  }

  /** Copies a change the entity made itself to the index: the HTTP routes do so for theirs. */
  private void indexChange(State state) {
    index.upsert(state.config(), state.deleted());
    indexCircuit(state);
  }

  /**
   * Copies whether the circuit is open to the index, for stats, so that they need not ask
   * every endpoint. Tagged with the journal's sequence number: an older state never wins.
   */
  private void indexCircuit(State state) {
    index.circuit(endpointId, state.failingSince(), lastSequenceNumber(ctx));
  }

  private ReplyEffect<EndpointJournal, State> notFound(ActorRef<Reply> replyTo) {
    return Effect().reply(replyTo, new NotFound());
  }

  private static Reply current(State state, String tenantId) {
    return state.visibleTo(tenantId) ? new Current(state.config()) : new NotFound();
  }

  static EndpointConfig apply(EndpointConfig c, Patch p, Instant now, long version) {
    String description =
        p.clearDescription() ? null : p.description() != null ? p.description() : c.description();
    Integer rateLimit =
        p.clearRateLimit()
            ? null
            : p.rateLimitPerSecond() != null ? p.rateLimitPerSecond() : c.rateLimitPerSecond();
    return new EndpointConfig(
        c.id(),
        c.tenantId(),
        p.url() != null ? p.url() : c.url(),
        description,
        p.eventTypes() != null ? List.copyOf(p.eventTypes()) : c.eventTypes(),
        c.secret(),
        c.previousSecret(),
        c.previousSecretExpiresAt(),
        p.enabled() != null ? p.enabled() : c.enabled(),
        p.maxInFlight() != null ? p.maxInFlight() : c.maxInFlight(),
        rateLimit,
        p.timeoutMs() != null ? p.timeoutMs() : c.timeoutMs(),
        p.maxAttempts() != null ? p.maxAttempts() : c.maxAttempts(),
        p.headers() != null ? Map.copyOf(p.headers()) : c.headers(),
        c.createdAt(),
        now,
        version,
        c.internal(),
        p.clearTransformation() ? null : p.transformation() != null ? p.transformation() : c.transformation(),
        c.verification());
  }

  @Override
  public EventHandler<State, EndpointJournal> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(EndpointJournal.Created.class, (s, e) -> new State(e.config(), false, null))
        .onEvent(EndpointJournal.Updated.class, (s, e) -> s.withConfig(e.config()))
        .onEvent(EndpointJournal.Deleted.class, (s, e) -> new State(bump(s.config(), e.at()), true, null))
        .onEvent(EndpointJournal.Disabled.class, (s, e) -> s.withConfig(e.config()))
        .onEvent(EndpointJournal.Enabled.class, (s, e) -> s.withConfig(e.config()).failingSince(null))
        .onEvent(EndpointJournal.SecretRotated.class, (s, e) -> s.withConfig(e.config()))
        .onEvent(EndpointJournal.SecretsResealed.class, (s, e) -> s.withConfig(e.config()))
        .onEvent(EndpointJournal.VerificationStarted.class, (s, e) -> s.withConfig(e.config()))
        .onEvent(EndpointJournal.VerificationPassed.class, (s, e) -> s.withConfig(e.config()))
        .onEvent(EndpointJournal.VerificationFailed.class, (s, e) -> s.withConfig(e.config()))
        .onEvent(EndpointJournal.CircuitOpened.class, (s, e) -> s.failingSince(e.failingSince()))
        .onEvent(EndpointJournal.CircuitClosed.class, (s, e) -> s.failingSince(null))
        .build();
  }

  // Deletion is a change too: the index must see a newer version to accept it.
  private static EndpointConfig bump(EndpointConfig c, Instant at) {
    return new EndpointConfig(
        c.id(), c.tenantId(), c.url(), c.description(), c.eventTypes(), c.secret(),
        c.previousSecret(), c.previousSecretExpiresAt(), false,
        c.maxInFlight(), c.rateLimitPerSecond(), c.timeoutMs(), c.maxAttempts(), c.headers(),
        c.createdAt(), at, c.version() + 1, c.internal(), c.transformation(), c.verification());
  }

  /** The tag of the health changes that become operational events (endpoint.disabled, …). */
  public static final String HEALTH_TAG = "endpoint-health";

  @Override
  public Set<String> tagsFor(EndpointJournal event) {
    return event instanceof EndpointJournal.Disabled
            || event instanceof EndpointJournal.Enabled
            || event instanceof EndpointJournal.CircuitOpened
            || event instanceof EndpointJournal.CircuitClosed
        ? Set.of(HEALTH_TAG)
        : Set.of();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              // Repairs the index if a node died between the journal write and the
              // index write; the version guard makes this a no-op otherwise.
              if (state.config() != null) indexChange(state);
              configureDispatcher(state);
              // The circuit was open when this endpoint last ran: the next request probes.
              if (state.failingSince() != null) {
                dispatcher.tell(new EndpointDispatcher.RestoreCircuit(state.failingSince()));
              }
              if (state.isActive()) ctx.getSelf().tell(ResealAfterRecovery.INSTANCE);
              // A challenge was out when the last incarnation stopped (a node died, or it
              // moved): its answer is lost, so a new one goes now.
              challengeIfRunning(state);
            })
        .build();
  }
}
