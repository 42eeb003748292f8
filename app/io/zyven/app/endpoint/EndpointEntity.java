package io.zyven.app.endpoint;

import io.zyven.app.Metrics;
import io.zyven.app.delivery.DeliveryPolicy;
import io.zyven.app.delivery.DeliveryPolicy.Verdict;
import io.zyven.app.delivery.Dispatch;
import io.zyven.app.delivery.DispatchReply;
import io.zyven.app.store.EndpointIndex;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.CborSerializable;
import io.zyven.protocol.EndpointConfig;
import io.zyven.protocol.EndpointJournal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One endpoint: its configuration, event-sourced so that every change is audited, and the
 * live delivery gate in front of it. Every request to the endpoint's URL goes through
 * here: at most {@code max_in_flight} at once, at most {@code rate_limit_per_second}, the
 * rest queued (bounded); a circuit breaker stops requests to an endpoint that keeps
 * failing, and one that fails for {@code zyven.circuit.disable-after} is disabled.
 *
 * <p>The gate (in-flight count, queue, breaker counters) lives in memory; what must
 * survive a restart (the circuit opening, with the time the failures began; disabling) is
 * journaled.
 */
public final class EndpointEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        EndpointEntity.Command, EndpointJournal, EndpointEntity.State> {

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "Endpoint");

  // ---- commands ----

  public sealed interface Command extends CborSerializable {}

  public record Create(EndpointConfig config, ActorRef<Reply> replyTo) implements Command {}

  public record Update(String tenantId, Patch patch, ActorRef<Reply> replyTo) implements Command {}

  public record Delete(String tenantId, ActorRef<Reply> replyTo) implements Command {}

  public record Get(String tenantId, ActorRef<Reply> replyTo) implements Command {}

  public record Enable(String tenantId, ActorRef<Reply> replyTo) implements Command {}

  /** How the endpoint is doing now: answered with {@link Health} or {@link NotFound}. */
  public record GetHealth(String tenantId, ActorRef<Reply> replyTo) implements Command {}

  public record RotateSecret(String tenantId, String newSecret, ActorRef<Reply> replyTo)
      implements Command {}

  /** Send one attempt of an event to this endpoint, and answer how it went. */
  public record Deliver(Dispatch dispatch) implements Command {}

  private record RequestDone(Dispatch dispatch, WebhookClient.Result result, boolean probe)
      implements Command {}

  private enum Drain implements Command {
    INSTANCE
  }

  /**
   * Sharding's stop message (hand-off, passivation): requests already sent finish first, so
   * their outcomes reach the events; queued ones are deferred, to be sent from the new home.
   */
  enum Stop implements Command {
    INSTANCE
  }

  /**
   * A PATCH: null fields are left alone. {@code clearDescription} and {@code clearRateLimit}
   * remove those optional fields, because null cannot say that.
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
      Map<String, String> headers)
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

  /** No such endpoint for this tenant (never created, deleted, or another tenant's). */
  public record NotFound() implements Reply {}

  // ---- state ----

  /** {@code failingSince} is set while the circuit is open. */
  public record State(EndpointConfig config, boolean deleted, Instant failingSince)
      implements CborSerializable {
    static final State EMPTY = new State(null, false, null);

    boolean visibleTo(String tenantId) {
      return config != null && !deleted && config.tenantId().equals(tenantId);
    }

    State withConfig(EndpointConfig c) {
      return new State(c, deleted, failingSince);
    }

    State failingSince(Instant since) {
      return new State(config, deleted, since);
    }
  }

  /** Gate and breaker settings, from {@code zyven.delivery} and {@code zyven.circuit}. */
  public record Settings(
      int queueLimit,
      Duration queueTimeout,
      CircuitBreaker.Settings circuit,
      Duration disableAfter) {}

  // ---- behaviour ----

  private static final Logger log = LoggerFactory.getLogger(EndpointEntity.class);
  private static final Duration DRAIN_EVERY = Duration.ofMillis(100);

  public static void init(
      ActorSystem<?> system, EndpointIndex index, WebhookClient client, Settings settings) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                    TYPE_KEY,
                    ctx -> create(ctx.getEntityId(), index, client, settings, Clock.systemUTC()))
                .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(
      String endpointId, EndpointIndex index, WebhookClient client, Settings settings, Clock clock) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new EndpointEntity(endpointId, ctx, timers, index, client, settings, clock)));
  }

  private final String endpointId;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final EndpointIndex index;
  private final WebhookClient client;
  private final WebhookClient.Pool pool;
  private final Settings settings;
  private final Clock clock;
  private final DeliveryGate<Dispatch> gate = new DeliveryGate<>();
  private final CircuitBreaker breaker;
  private boolean stopping;

  private EndpointEntity(
      String endpointId,
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      EndpointIndex index,
      WebhookClient client,
      Settings settings,
      Clock clock) {
    super(PersistenceId.of(TYPE_KEY.name(), endpointId));
    this.endpointId = endpointId;
    this.ctx = ctx;
    this.timers = timers;
    this.index = index;
    this.client = client;
    this.pool = client.newPool(); // connections of its own: see WebhookClient.Pool
    this.settings = settings;
    this.clock = clock;
    this.breaker = new CircuitBreaker(settings.circuit());
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public CommandHandlerWithReply<Command, EndpointJournal, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Create.class, this::onCreate)
        .onCommand(Update.class, this::onUpdate)
        .onCommand(Delete.class, this::onDelete)
        .onCommand(Get.class, this::onGet)
        .onCommand(Enable.class, this::onEnable)
        .onCommand(GetHealth.class, this::onGetHealth)
        .onCommand(RotateSecret.class, this::onRotateSecret)
        .onCommand(Deliver.class, (state, cmd) -> onDispatch(state, cmd.dispatch()))
        .onCommand(RequestDone.class, this::onRequestDone)
        .onCommand(Drain.class, (state, drain) -> drain(state))
        .onCommand(Stop.class, (state, stop) -> onStop(state))
        .build();
  }

  private ReplyEffect<EndpointJournal, State> onCreate(State state, Create cmd) {
    if (state.config() != null) {
      // Ids are random, so this is a retried Create: answer with what exists.
      return Effect().reply(cmd.replyTo(), reply(state, cmd.config().tenantId()));
    }
    return Effect()
        .persist(new EndpointJournal.Created(cmd.config(), clock.instant()))
        .thenReply(cmd.replyTo(), s -> new Current(s.config()));
  }

  private ReplyEffect<EndpointJournal, State> onUpdate(State state, Update cmd) {
    if (!state.visibleTo(cmd.tenantId())) return Effect().reply(cmd.replyTo(), new NotFound());
    EndpointConfig current = state.config();
    // A patch that changes nothing journals nothing.
    if (apply(current, cmd.patch(), current.updatedAt(), current.version()).equals(current)) {
      return Effect().reply(cmd.replyTo(), new Current(current));
    }
    EndpointConfig updated = apply(current, cmd.patch(), clock.instant(), current.version() + 1);
    return Effect()
        .persist(new EndpointJournal.Updated(updated, updated.updatedAt()))
        .thenReply(cmd.replyTo(), s -> new Current(s.config()));
  }

  private ReplyEffect<EndpointJournal, State> onDelete(State state, Delete cmd) {
    if (!state.visibleTo(cmd.tenantId())) return Effect().reply(cmd.replyTo(), new NotFound());
    return Effect()
        .persist(new EndpointJournal.Deleted(clock.instant()))
        .thenReply(cmd.replyTo(), s -> new Current(s.config()));
  }

  private ReplyEffect<EndpointJournal, State> onGet(State state, Get cmd) {
    return Effect().reply(cmd.replyTo(), reply(state, cmd.tenantId()));
  }

  private ReplyEffect<EndpointJournal, State> onGetHealth(State state, GetHealth cmd) {
    if (!state.visibleTo(cmd.tenantId())) return Effect().reply(cmd.replyTo(), new NotFound());
    Health health = new Health(
        state.config().enabled(), breaker.position(clock.instant()), state.failingSince(),
        gate.inFlight(), gate.waiting());
    return Effect().reply(cmd.replyTo(), health);
  }

  private ReplyEffect<EndpointJournal, State> onEnable(State state, Enable cmd) {
    if (!state.visibleTo(cmd.tenantId())) return Effect().reply(cmd.replyTo(), new NotFound());
    if (state.config().enabled() && state.failingSince() == null) {
      return Effect().reply(cmd.replyTo(), new Current(state.config()));
    }
    EndpointConfig enabled = state.config().withEnabled(true, clock.instant());
    return Effect()
        .persist(new EndpointJournal.Enabled(enabled, enabled.updatedAt()))
        .thenRun(
            s -> {
              breaker.onSuccess(); // a fresh start: the tenant says it is fixed
              indexCircuit(s);
            })
        .thenReply(cmd.replyTo(), s -> new Current(s.config()));
  }

  private ReplyEffect<EndpointJournal, State> onRotateSecret(State state, RotateSecret cmd) {
    if (!state.visibleTo(cmd.tenantId())) return Effect().reply(cmd.replyTo(), new NotFound());
    Instant now = clock.instant();
    EndpointConfig rotated =
        state.config().withRotatedSecret(cmd.newSecret(), now.plus(ROTATION_OVERLAP), now);
    return Effect()
        .persist(new EndpointJournal.SecretRotated(rotated, now))
        .thenReply(cmd.replyTo(), s -> new Current(s.config()));
  }

  /** When a deferred attempt comes back if the endpoint was busy or moving. */
  private static final Duration COME_BACK_AFTER = Duration.ofSeconds(1);

  /** How long the previous secret keeps signing after a rotation. */
  public static final Duration ROTATION_OVERLAP = Duration.ofHours(24);

  // ---- the delivery gate ----

  private ReplyEffect<EndpointJournal, State> onDispatch(State state, Dispatch cmd) {
    if (stopping) {
      // Already in its mailbox when the hand-off began: send it from the new home.
      deferBriefly(cmd, "endpoint moving to another node");
      return Effect().noReply();
    }
    if (!accepting(state)) {
      refuse(cmd, state);
    } else {
      admit(cmd, state.config());
      scheduleDrain();
    }
    return Effect().noReply();
  }

  private static boolean accepting(State state) {
    return state.config() != null && !state.deleted() && state.config().enabled();
  }

  /** A disabled or deleted endpoint sends nothing: the delivery fails permanently. */
  private void refuse(Dispatch cmd, State state) {
    String why = state.config() == null || state.deleted() ? "endpoint deleted" : "endpoint disabled";
    cmd.replyTo().tell(new DispatchReply.Refused(endpointId, cmd.request().attempt(), why));
  }

  /** Past the breaker, then past the in-flight limit and rate limit, or into the queue. */
  private void admit(Dispatch cmd, EndpointConfig config) {
    Instant now = clock.instant();
    CircuitBreaker.Admission admission = breaker.admit(now);
    if (admission instanceof CircuitBreaker.Reject reject) {
      defer(cmd, reject.retryAt(), reject.reason());
    } else if (admission instanceof CircuitBreaker.Wait) {
      if (!gate.hold(cmd, now, limits(config))) deferBriefly(cmd, "endpoint queue full");
    } else if (admission instanceof CircuitBreaker.Probe) {
      gate.forceStart();
      send(cmd, config, true);
    } else {
      Boolean sendNow = gate.offer(cmd, now, limits(config));
      if (sendNow == null) deferBriefly(cmd, "endpoint queue full");
      else if (sendNow) send(cmd, config, false);
    }
  }

  private void send(Dispatch cmd, EndpointConfig config, boolean probe) {
    cmd.replyTo().tell(new DispatchReply.Started(endpointId, cmd.request().attempt(), config.timeoutMs(), config.maxAttempts()));
    ctx.pipeToSelf(
        client.send(pool, config, cmd.request()),
        (result, error) -> new RequestDone(cmd, result != null ? result : failed(cmd, error), probe));
  }

  private WebhookClient.Result failed(Dispatch cmd, Throwable error) {
    return new WebhookClient.Result(
        new Attempt(cmd.request().attempt(), clock.instant(), null, 0, String.valueOf(error), null), null);
  }

  /** Busy or moving: the attempt comes back in a moment, unspent. */
  private void deferBriefly(Dispatch cmd, String reason) {
    defer(cmd, clock.instant().plus(COME_BACK_AFTER), reason);
  }

  // The event's delivery machine spreads the comebacks, so they do not all return at once.
  private void defer(Dispatch cmd, Instant until, String reason) {
    Metrics.increment("zyven_deliveries_deferred_total");
    cmd.replyTo().tell(new DispatchReply.Deferred(endpointId, cmd.request().attempt(), until, reason));
  }

  private ReplyEffect<EndpointJournal, State> onRequestDone(State state, RequestDone done) {
    gate.finished();
    Instant now = clock.instant();
    Attempt attempt = done.result().attempt();
    Verdict verdict = DeliveryPolicy.classify(attempt.statusCode());
    Metrics.increment("zyven_delivery_attempts_total", "outcome=\"" + verdict.name().toLowerCase() + "\"");
    EndpointConfig config = state.config();
    DispatchReply.Outcome outcome =
        new DispatchReply.Outcome(
            endpointId, attempt, done.result().retryAfter(), config == null ? 1 : config.maxAttempts());

    EndpointJournal change = null;
    if (DeliveryPolicy.isFailure(verdict)) {
      CircuitBreaker.Change moved = breaker.onFailure(done.probe(), now);
      Instant since = breaker.failingSince();
      if (config != null && config.enabled() && !now.isBefore(since.plus(settings.disableAfter()))) {
        change = disable(config, "failing continuously since " + since, now);
      } else if (moved == CircuitBreaker.Change.OPENED) {
        Metrics.increment("zyven_circuits_opened_total");
        log.info("Circuit opened for endpoint {}: {}", endpointId, attempt.error());
        change = new EndpointJournal.CircuitOpened(since, attempt.error(), now);
      }
    } else {
      if (breaker.onSuccess() == CircuitBreaker.Change.CLOSED) change = new EndpointJournal.CircuitClosed(now);
      if (DeliveryPolicy.disablesEndpoint(verdict) && config != null && config.enabled()) {
        change = disable(config, "410 Gone", now);
      }
    }
    if (change == null) {
      done.dispatch().replyTo().tell(outcome);
      if (stopping) return gate.inFlight() == 0 ? Effect().stop().thenNoReply() : Effect().noReply();
      return drain(state);
    }
    return Effect()
        .persist(change)
        .thenRun(
            (State s) -> {
              done.dispatch().replyTo().tell(outcome);
              if (s.config() != null) index.upsert(s.config(), s.deleted());
              indexCircuit(s);
              ctx.getSelf().tell(stopping ? Stop.INSTANCE : Drain.INSTANCE);
            })
        .thenNoReply();
  }

  /**
   * Copies whether the circuit is open to the index, for stats, so that they need not ask
   * every endpoint. Tagged with the journal's sequence number: an older state never wins.
   */
  private void indexCircuit(State state) {
    index.circuit(endpointId, state.failingSince(), lastSequenceNumber(ctx));
  }

  private ReplyEffect<EndpointJournal, State> onStop(State state) {
    stopping = true;
    timers.cancel(Drain.INSTANCE);
    for (Dispatch d : gate.takeAll()) deferBriefly(d, "endpoint moving to another node");
    if (gate.inFlight() > 0) return Effect().noReply(); // the last RequestDone stops it
    return Effect().stop().thenNoReply();
  }

  private EndpointJournal disable(EndpointConfig config, String reason, Instant now) {
    Metrics.increment("zyven_endpoints_disabled_total");
    log.warn("Disabling endpoint {} of tenant {}: {}", config.id(), config.tenantId(), reason);
    return new EndpointJournal.Disabled(config.withEnabled(false, now), reason, now);
  }

  private ReplyEffect<EndpointJournal, State> drain(State state) {
    EndpointConfig config = state.config();
    if (config == null || stopping) return Effect().noReply();
    DeliveryGate.Released<Dispatch> released =
        gate.drain(clock.instant(), limits(config), !breaker.awaitingProbe());
    for (Dispatch expired : released.expired()) {
      deferBriefly(expired, "endpoint busy: waited too long in its queue");
    }
    for (Dispatch next : released.toSend()) {
      // Counted in flight by the gate already; the breaker may have opened meanwhile.
      CircuitBreaker.Admission admission = accepting(state) ? breaker.admit(clock.instant()) : null;
      if (admission == null) {
        gate.finished();
        refuse(next, state);
      } else if (admission instanceof CircuitBreaker.Reject reject) {
        gate.finished();
        defer(next, reject.retryAt(), reject.reason());
      } else if (admission instanceof CircuitBreaker.Wait) {
        // Another item became the probe meanwhile: this one waits again.
        gate.finished();
        if (!gate.hold(next, clock.instant(), limits(config))) {
          deferBriefly(next, "endpoint queue full");
        }
      } else {
        send(next, config, admission instanceof CircuitBreaker.Probe);
      }
    }
    scheduleDrain();
    return Effect().noReply();
  }

  private void scheduleDrain() {
    if (gate.hasWaiting() && !timers.isTimerActive(Drain.INSTANCE)) {
      timers.startTimerWithFixedDelay(Drain.INSTANCE, Drain.INSTANCE, DRAIN_EVERY);
    } else if (!gate.hasWaiting()) {
      timers.cancel(Drain.INSTANCE);
    }
  }

  private DeliveryGate.Limits limits(EndpointConfig config) {
    return new DeliveryGate.Limits(
        config.maxInFlight(), config.rateLimitPerSecond(), settings.queueLimit(), settings.queueTimeout());
  }

  private static Reply reply(State state, String tenantId) {
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
        version);
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
        c.createdAt(), at, c.version() + 1);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              // Repairs the index if a node died between the journal write and the
              // index write; the version guard makes this a no-op otherwise.
              if (state.config() != null) {
                index.upsert(state.config(), state.deleted());
                indexCircuit(state);
              }
              // The circuit was open when this endpoint last ran: the next request probes.
              if (state.failingSince() != null) breaker.restoreOpen(state.failingSince(), clock.instant());
            })
        .build();
  }
}
