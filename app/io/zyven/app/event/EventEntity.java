package io.zyven.app.event;

import io.zyven.app.endpoint.EndpointEntity;
import io.zyven.app.endpoint.WebhookClient;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.CborSerializable;
import io.zyven.protocol.DeliveryStatus;
import io.zyven.protocol.EventJournal;
import io.zyven.protocol.EventJournal.DeliveryTransition;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.Recovery;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One accepted event and its deliveries, one per endpoint it fans out to. The entity id is
 * derived from tenant + Idempotency-Key, so this actor is the single writer that makes
 * ingest idempotent across nodes.
 *
 * <p>It drives each delivery: it journals the transition, asks the endpoint's entity to
 * send the attempt, and journals the outcome as the {@link DeliveryPolicy} decides. Its own
 * timers bring retries back; a reply that never comes (the endpoint's node died) counts
 * as a failed attempt once the attempt's time is up.
 */
public final class EventEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        EventEntity.Command, EventJournal, EventEntity.State> {

  private static final Logger log = LoggerFactory.getLogger(EventEntity.class);

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "Event");

  /**
   * The journal's tags, read by the read-model projection, one projection instance per
   * tag. Fixed for the life of the journal: an event's tag is a hash of its id.
   */
  public static final List<String> TAGS = List.of("event-0", "event-1", "event-2", "event-3");

  // ---- commands ----

  public sealed interface Command extends CborSerializable {}

  /**
   * Accept the event, or answer how an earlier accept with the same key went. {@code
   * requestId} names the HTTP request: ingest may send the same request again when an
   * answer is slow to come.
   */
  public record Accept(
      String tenantId,
      String type,
      String payload,
      String idempotencyKey,
      String bodyHash,
      String requestId,
      List<String> endpointIds,
      ActorRef<AcceptReply> replyTo)
      implements Command {}

  public record Get(String tenantId, ActorRef<GetReply> replyTo) implements Command {}

  /**
   * Operator replay: terminal deliveries go back to DISPATCHING. With no endpoint, the
   * dead-lettered ones, or if there are none, the delivered ones. {@code deadLettersOnly}
   * (an endpoint's recover, chosen from the read model, which may trail) never sends a
   * delivered one again.
   */
  public record Replay(
      String tenantId,
      String endpointId,
      boolean deadLettersOnly,
      String by,
      ActorRef<StatusReply<DeliveriesStarted>> replyTo)
      implements Command {}

  /**
   * Retry now: RETRY_SCHEDULED deliveries (all of them, or the one to {@code endpointId})
   * start their next attempt at once instead of at its scheduled time.
   */
  public record RetryNow(
      String tenantId, String endpointId, String by, ActorRef<StatusReply<DeliveriesStarted>> replyTo)
      implements Command {}

  /** The deliveries a replay or a retry-now started (a record, so it can cross nodes). */
  public record DeliveriesStarted(List<String> endpointIds) implements CborSerializable {}

  /** An endpoint's answer to a dispatch, through this entity's message adapter. */
  record DispatchReplied(EndpointEntity.DispatchReply reply) implements Command {}

  /** A retry's time has come. */
  record RetryDue(String endpointId) implements Command {}

  /** No answer for this attempt within its time: count it as a failure. */
  record ReplyOverdue(String endpointId, int attempt) implements Command {}

  /** After recovery: pick up every delivery where it was left. */
  enum Resume implements Command {
    INSTANCE
  }

  /**
   * From the waker: a delivery of this event looks overdue in the read model. Starting the
   * entity is most of the work (recovery resumes it); a live one starts overdue retries.
   */
  public enum Wake implements Command {
    INSTANCE
  }

  /**
   * Sharding's stop message (hand-off to another node, passivation): the entity first lets
   * the attempts it has out come back and be journaled, for at most {@code handoffWait}.
   */
  enum Stop implements Command {
    INSTANCE
  }

  /** The outcomes did not come back within {@code handoffWait}: hand over without them. */
  enum StopOverdue implements Command {
    INSTANCE
  }

  public sealed interface AcceptReply extends CborSerializable {}

  public record Accepted(String eventId, boolean replayed) implements AcceptReply {}

  /** The key was used before with a different body. */
  public record Conflict(String eventId) implements AcceptReply {}

  /** A new key, but nothing to deliver to: nothing was written. */
  public record NoSubscribers(String eventId) implements AcceptReply {}

  public sealed interface GetReply extends CborSerializable {}

  public record Found(State state) implements GetReply {}

  public record NotFound() implements GetReply {}

  // ---- state: the delivery state machine lives here and in DeliveryStatus ----

  /**
   * One (event, endpoint) delivery. {@code budgetBase} is the attempt count when the last
   * replay began: attempts since then count against the endpoint's {@code max_attempts}.
   */
  public record Delivery(
      String endpointId,
      DeliveryStatus status,
      int attemptCount,
      int budgetBase,
      Instant nextAttemptAt,
      String lastError,
      List<Attempt> attempts)
      implements CborSerializable {

    static Delivery received(String endpointId) {
      return new Delivery(endpointId, DeliveryStatus.RECEIVED, 0, 0, null, null, List.of());
    }

    Delivery apply(DeliveryTransition t) {
      if (t instanceof EventJournal.DispatchStarted e) {
        return new Delivery(endpointId, e.to(), e.attempt(), budgetBase, null, lastError, attempts);
      } else if (t instanceof EventJournal.RetryRequested e) {
        return new Delivery(endpointId, e.to(), e.attempt(), budgetBase, null, lastError, attempts);
      } else if (t instanceof EventJournal.Delivered e) {
        return withAttempt(e.to(), e.attempt(), null);
      } else if (t instanceof EventJournal.RetryScheduled e) {
        return withAttempt(e.to(), e.attempt(), e.nextAttemptAt());
      } else if (t instanceof EventJournal.AttemptDeferred e) {
        // The attempt was not made: its number is given back.
        return new Delivery(
            endpointId, e.to(), e.attempt() - 1, budgetBase, e.nextAttemptAt(), e.reason(), attempts);
      } else if (t instanceof EventJournal.DeadLettered e) {
        return withAttempt(e.to(), e.attempt(), null);
      } else if (t instanceof EventJournal.Replayed e) {
        return new Delivery(endpointId, e.to(), e.attempt(), e.attempt() - 1, null, lastError, attempts);
      }
      throw new IllegalArgumentException("unknown transition " + t);
    }

    private Delivery withAttempt(DeliveryStatus to, Attempt attempt, Instant next) {
      List<Attempt> all = new ArrayList<>(attempts);
      all.add(attempt);
      return new Delivery(
          endpointId, to, attemptCount, budgetBase, next, attempt.error(), List.copyOf(all));
    }
  }

  /** {@code received} is null until the event is accepted. */
  public record State(EventJournal.Received received, Map<String, Delivery> deliveries)
      implements CborSerializable {

    static final State EMPTY = new State(null, Map.of());

    boolean isEmpty() {
      return received == null;
    }

    boolean visibleTo(String tenantId) {
      return received != null && received.tenantId().equals(tenantId);
    }

    public DeliveryStatus status() {
      return DeliveryStatus.ofEvent(deliveries.values().stream().map(Delivery::status).toList());
    }

    boolean allTerminal() {
      return deliveries.values().stream().allMatch(d -> d.status().isTerminal());
    }

    State apply(EventJournal event) {
      if (event instanceof EventJournal.Received r) {
        Map<String, Delivery> ds = new LinkedHashMap<>();
        for (String id : r.endpointIds()) ds.put(id, Delivery.received(id));
        return new State(r, ds);
      }
      DeliveryTransition t = (DeliveryTransition) event;
      Map<String, Delivery> ds = new LinkedHashMap<>(deliveries);
      ds.put(t.endpointId(), ds.get(t.endpointId()).apply(t));
      return new State(received, ds);
    }
  }

  // ---- settings and wiring ----

  /**
   * {@code queueTimeout}: how long an endpoint may hold an attempt before sending it;
   * {@code replyMargin}: how much longer than that (and than the attempt's own timeout) to
   * wait for a reply before counting the attempt as failed; {@code handoffWait}: how long a
   * stopping entity waits for the outcomes of the attempts it has out.
   */
  public record Settings(
      DeliveryPolicy policy,
      Duration queueTimeout,
      Duration replyMargin,
      int defaultMaxAttempts,
      Duration passivateBeforeRetry,
      Duration handoffWait) {}

  public static void init(ActorSystem<?> system, Settings settings) {
    ClusterSharding sharding = ClusterSharding.get(system);
    Function<String, RecipientRef<EndpointEntity.Command>> endpoints =
        id -> sharding.entityRefFor(EndpointEntity.TYPE_KEY, id);
    // Idle events passivate (cluster.conf); the waker brings back those whose retry comes due.
    sharding.init(
        Entity.of(
                TYPE_KEY,
                ctx -> create(ctx.getEntityId(), ctx.getShard(), endpoints, settings, Clock.systemUTC()))
            .withStopMessage(Stop.INSTANCE));
  }

  public static Behavior<Command> create(
      String eventId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Function<String, RecipientRef<EndpointEntity.Command>> endpoints,
      Settings settings,
      Clock clock) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new EventEntity(eventId, ctx, timers, shard, endpoints, settings, clock)));
  }

  private final String eventId;
  private final String tag;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Function<String, RecipientRef<EndpointEntity.Command>> endpoints;
  private final Settings settings;
  private final Clock clock;
  private final ActorRef<EndpointEntity.DispatchReply> replies;
  // Learnt from the endpoints' replies; used when an attempt's outcome never comes.
  private final Map<String, Integer> maxAttempts = new LinkedHashMap<>();
  private boolean stopping;

  private EventEntity(
      String eventId,
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Function<String, RecipientRef<EndpointEntity.Command>> endpoints,
      Settings settings,
      Clock clock) {
    super(PersistenceId.of(TYPE_KEY.name(), eventId));
    this.eventId = eventId;
    this.tag = TAGS.get(Math.floorMod(eventId.hashCode(), TAGS.size()));
    this.ctx = ctx;
    this.timers = timers;
    this.shard = shard;
    this.endpoints = endpoints;
    this.settings = settings;
    this.clock = clock;
    this.replies = ctx.messageAdapter(EndpointEntity.DispatchReply.class, DispatchReplied::new);
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  // An event's history is a handful of rows: snapshots would cost a read at every start
  // and save nothing, so recovery does not even look for one.
  @Override
  public Recovery recovery() {
    return Recovery.withSnapshotSelectionCriteria(SnapshotSelectionCriteria.none());
  }

  @Override
  public Set<String> tagsFor(EventJournal event) {
    return Set.of(tag);
  }

  @Override
  public CommandHandlerWithReply<Command, EventJournal, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Accept.class, this::onAccept)
        .onCommand(Get.class, this::onGet)
        .onCommand(Replay.class, this::onReplay)
        .onCommand(RetryNow.class, this::onRetryNow)
        .onCommand(DispatchReplied.class, this::onDispatchReplied)
        .onCommand(RetryDue.class, this::onRetryDue)
        .onCommand(ReplyOverdue.class, this::onReplyOverdue)
        .onCommand(Resume.class, (state, resume) -> onResume(state))
        .onCommand(Wake.class, (state, wake) -> onWake(state))
        .onCommand(Stop.class, (state, stop) -> onStop(state))
        .onCommand(StopOverdue.class, (state, overdue) -> onStopOverdue(state))
        .build();
  }

  // ---- accept and read ----

  private ReplyEffect<EventJournal, State> onAccept(State state, Accept cmd) {
    if (!state.isEmpty()) {
      if (state.allTerminal()) passivate();
      boolean resent = cmd.requestId() != null && cmd.requestId().equals(state.received().requestId());
      AcceptReply reply =
          state.received().bodyHash().equals(cmd.bodyHash())
              ? new Accepted(eventId, !resent)
              : new Conflict(eventId);
      return Effect().reply(cmd.replyTo(), reply);
    }
    if (cmd.endpointIds().isEmpty()) {
      passivate();
      return Effect().reply(cmd.replyTo(), new NoSubscribers(eventId));
    }
    Instant now = clock.instant();
    List<String> targets = cmd.endpointIds().stream().distinct().toList();
    List<EventJournal> events = new ArrayList<>();
    events.add(
        new EventJournal.Received(
            eventId, cmd.tenantId(), cmd.type(), cmd.payload(), cmd.idempotencyKey(), cmd.bodyHash(),
            cmd.requestId(), targets, now));
    // The first attempts start in the same atomic journal write as the acceptance.
    for (String endpointId : targets) {
      events.add(new EventJournal.DispatchStarted(endpointId, 1, "first attempt", now));
    }
    return Effect()
        .persist(events)
        .thenRun((State s) -> targets.forEach(id -> dispatch(s, id)))
        .thenReply(cmd.replyTo(), s -> new Accepted(eventId, false));
  }

  private ReplyEffect<EventJournal, State> onGet(State state, Get cmd) {
    // Nothing to do here (empty, or every delivery done): don't stay in memory for a read.
    if (state.isEmpty() || state.allTerminal()) passivate();
    GetReply reply = state.visibleTo(cmd.tenantId()) ? new Found(state) : new NotFound();
    return Effect().reply(cmd.replyTo(), reply);
  }

  // ---- replay ----

  private ReplyEffect<EventJournal, State> onReplay(State state, Replay cmd) {
    if (!state.visibleTo(cmd.tenantId())) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("no such event"));
    }
    List<Delivery> targets = replayTargets(state, cmd.endpointId(), cmd.deadLettersOnly());
    if (targets.isEmpty()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("nothing to replay"));
    }
    Instant now = clock.instant();
    return startNow(
        targets,
        d -> new EventJournal.Replayed(d.endpointId(), d.attemptCount() + 1, cmd.by(), "operator replay", now),
        cmd.replyTo());
  }

  private static List<Delivery> replayTargets(State state, String endpointId, boolean deadLettersOnly) {
    if (endpointId != null) {
      Delivery d = state.deliveries().get(endpointId);
      boolean eligible =
          d != null && (deadLettersOnly ? d.status() == DeliveryStatus.DEAD_LETTERED : d.status().isTerminal());
      return eligible ? List.of(d) : List.of();
    }
    List<Delivery> dead = withStatus(state, DeliveryStatus.DEAD_LETTERED);
    return dead.isEmpty() && !deadLettersOnly ? withStatus(state, DeliveryStatus.DELIVERED) : dead;
  }

  private static List<Delivery> withStatus(State state, DeliveryStatus status) {
    return state.deliveries().values().stream().filter(d -> d.status() == status).toList();
  }

  // ---- retry now ----

  private ReplyEffect<EventJournal, State> onRetryNow(State state, RetryNow cmd) {
    if (!state.visibleTo(cmd.tenantId())) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("no such event"));
    }
    List<Delivery> waiting =
        withStatus(state, DeliveryStatus.RETRY_SCHEDULED).stream()
            .filter(d -> cmd.endpointId() == null || d.endpointId().equals(cmd.endpointId()))
            .toList();
    if (waiting.isEmpty()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("nothing to retry"));
    }
    Instant now = clock.instant();
    return startNow(
        waiting,
        d -> new EventJournal.RetryRequested(d.endpointId(), d.attemptCount() + 1, cmd.by(), "retry now", now),
        cmd.replyTo());
  }

  /**
   * Journals the given start of each delivery's next attempt (a replay, a retry now), then
   * dispatches them at once, and answers which deliveries started.
   */
  private ReplyEffect<EventJournal, State> startNow(
      List<Delivery> deliveries,
      Function<Delivery, EventJournal> start,
      ActorRef<StatusReply<DeliveriesStarted>> replyTo) {
    DeliveriesStarted started = new DeliveriesStarted(deliveries.stream().map(Delivery::endpointId).toList());
    return Effect()
        .persist(deliveries.stream().map(start).toList())
        .thenRun(
            (State s) ->
                started.endpointIds().forEach(id -> {
                  timers.cancel(retryTimer(id)); // a retry now: the schedule's attempt is this one
                  dispatch(s, id);
                }))
        .thenReply(replyTo, s -> StatusReply.success(started));
  }

  // ---- driving deliveries ----

  /** Asks the endpoint to send the delivery's current attempt. */
  private void dispatch(State state, String endpointId) {
    Delivery d = state.deliveries().get(endpointId);
    EventJournal.Received r = state.received();
    WebhookClient.Request request = new WebhookClient.Request(eventId, r.type(), r.payload(), d.attemptCount());
    endpoints.apply(endpointId).tell(new EndpointEntity.Dispatch(request, replies));
    expectReplyWithin(endpointId, d.attemptCount(), settings.queueTimeout().plus(settings.replyMargin()));
  }

  private void expectReplyWithin(String endpointId, int attempt, Duration window) {
    timers.startSingleTimer(replyTimer(endpointId), new ReplyOverdue(endpointId, attempt), window);
  }

  private ReplyEffect<EventJournal, State> onDispatchReplied(State state, DispatchReplied replied) {
    EndpointEntity.DispatchReply reply = replied.reply();
    Delivery d = state.deliveries().get(reply.endpointId());
    // A late answer to an attempt this delivery has moved past (timed out, replayed) is dropped.
    if (d == null || d.status() != DeliveryStatus.DISPATCHING || d.attemptCount() != reply.attemptNumber()) {
      return Effect().noReply();
    }
    if (reply instanceof EndpointEntity.Started started) {
      maxAttempts.put(d.endpointId(), started.maxAttempts());
      expectReplyWithin(d.endpointId(), d.attemptCount(), Duration.ofMillis(started.timeoutMs()).plus(settings.replyMargin()));
      return Effect().noReply();
    }
    if (reply instanceof EndpointEntity.Deferred deferred) {
      return record(
          new EventJournal.AttemptDeferred(
              d.endpointId(), d.attemptCount(), deferred.until(), deferred.reason(), clock.instant()));
    }
    EndpointEntity.Outcome outcome = (EndpointEntity.Outcome) reply;
    maxAttempts.put(d.endpointId(), outcome.maxAttempts());
    return record(decide(d, outcome.attempt(), outcome.verdict(), outcome.retryAfter(), outcome.maxAttempts()));
  }

  private ReplyEffect<EventJournal, State> onReplyOverdue(State state, ReplyOverdue overdue) {
    Delivery d = state.deliveries().get(overdue.endpointId());
    if (d == null || d.status() != DeliveryStatus.DISPATCHING || d.attemptCount() != overdue.attempt()) {
      return Effect().noReply();
    }
    Attempt lost =
        new Attempt(d.attemptCount(), clock.instant(), null, 0, "no reply from the endpoint in time", null);
    int max = maxAttempts.getOrDefault(d.endpointId(), settings.defaultMaxAttempts());
    return record(decide(d, lost, DeliveryPolicy.Verdict.RETRYABLE, null, max));
  }

  private DeliveryTransition decide(
      Delivery d, Attempt attempt, DeliveryPolicy.Verdict verdict, Duration retryAfter, int max) {
    Instant now = clock.instant();
    DeliveryPolicy.Decision decision =
        settings.policy().decide(verdict, attempt.statusCode(), d.attemptCount() - d.budgetBase(), max, retryAfter, now);
    if (decision instanceof DeliveryPolicy.Deliver) {
      return new EventJournal.Delivered(d.endpointId(), attempt, "HTTP " + attempt.statusCode(), now);
    }
    if (decision instanceof DeliveryPolicy.Retry retry) {
      return new EventJournal.RetryScheduled(d.endpointId(), attempt, retry.at(), retry.reason(), now);
    }
    return new EventJournal.DeadLettered(d.endpointId(), attempt, ((DeliveryPolicy.DeadLetter) decision).reason(), now);
  }

  /** Journals an outcome; then waits for the retry, or stops when all is terminal. */
  private ReplyEffect<EventJournal, State> record(DeliveryTransition t) {
    return Effect()
        .persist(t)
        .thenRun(
            (State s) -> {
              logOutcome(t);
              timers.cancel(replyTimer(t.endpointId()));
              Delivery d = s.deliveries().get(t.endpointId());
              if (d.status() == DeliveryStatus.RETRY_SCHEDULED) scheduleRetry(d);
              if (stopping && !attemptsOut(s)) ctx.getSelf().tell(Stop.INSTANCE);
              else if (s.allTerminal() || onlyDistantRetries(s)) passivate();
            })
        .thenNoReply();
  }

  /** Operators see failures in the log; never the payload or the receiver's body. */
  private void logOutcome(DeliveryTransition t) {
    if (t instanceof EventJournal.RetryScheduled r) {
      log.info(
          "Delivery failed: event {} endpoint {} attempt {}: {}; next attempt at {} ({})",
          eventId, r.endpointId(), r.attempt().number(), r.attempt().error(), r.nextAttemptAt(), r.reason());
    } else if (t instanceof EventJournal.DeadLettered d) {
      log.warn(
          "Delivery dead-lettered: event {} endpoint {} attempt {}: {}; {}",
          eventId, d.endpointId(), d.attempt().number(), d.attempt().error(), d.reason());
    }
  }

  /**
   * Nothing to do for a while: every open delivery waits for a retry further away than
   * {@code passivateBeforeRetry}. The entity leaves memory at once (rather than after the
   * idle timeout); the waker brings it back when a retry is due.
   */
  private boolean onlyDistantRetries(State s) {
    Instant soon = clock.instant().plus(settings.passivateBeforeRetry());
    return s.deliveries().values().stream()
        .allMatch(d -> d.status().isTerminal()
            || (d.status() == DeliveryStatus.RETRY_SCHEDULED && d.nextAttemptAt().isAfter(soon)));
  }

  private void scheduleRetry(Delivery d) {
    Duration wait = Duration.between(clock.instant(), d.nextAttemptAt());
    timers.startSingleTimer(
        retryTimer(d.endpointId()), new RetryDue(d.endpointId()), wait.isNegative() ? Duration.ZERO : wait);
  }

  private ReplyEffect<EventJournal, State> onRetryDue(State state, RetryDue due) {
    Delivery d = state.deliveries().get(due.endpointId());
    if (d == null || d.status() != DeliveryStatus.RETRY_SCHEDULED) return Effect().noReply();
    return startAttempts(List.of(d), "retry due");
  }

  /** Journals the next attempt of each delivery, then dispatches them. */
  private ReplyEffect<EventJournal, State> startAttempts(List<Delivery> due, String reason) {
    if (due.isEmpty()) return Effect().noReply();
    Instant now = clock.instant();
    List<EventJournal> started = new ArrayList<>();
    for (Delivery d : due) {
      started.add(new EventJournal.DispatchStarted(d.endpointId(), d.attemptCount() + 1, reason, now));
    }
    return Effect()
        .persist(started)
        .thenRun((State s) -> due.forEach(d -> dispatch(s, d.endpointId())))
        .thenNoReply();
  }

  /**
   * After a restart (crash, rebalance, passivation) every delivery goes on where it was:
   * RECEIVED and overdue retries start an attempt, later retries get their timer, and an
   * attempt in DISPATCHING is sent again (its outcome was lost with the old incarnation;
   * receivers de-duplicate on webhook-id).
   */
  private ReplyEffect<EventJournal, State> onResume(State state) {
    Instant now = clock.instant();
    List<Delivery> toStart = new ArrayList<>();
    for (Delivery d : state.deliveries().values()) {
      switch (d.status()) {
        case RECEIVED -> toStart.add(d);
        case RETRY_SCHEDULED -> {
          if (d.nextAttemptAt() == null || !d.nextAttemptAt().isAfter(now)) toStart.add(d);
          else scheduleRetry(d);
        }
        case DISPATCHING -> {
          // Unless this incarnation already sent it (a Wake handled before this Resume).
          if (!timers.isTimerActive(replyTimer(d.endpointId()))) dispatch(state, d.endpointId());
        }
        default -> {}
      }
    }
    return startAttempts(toStart, "resumed after restart");
  }

  private ReplyEffect<EventJournal, State> onStop(State state) {
    if (attemptsOut(state)) {
      // The last outcome to come back stops it, so a graceful leave does not send an
      // attempt twice. The wait is bounded: the whole shard's messages (ingest too) are
      // held until this entity stops, and the node's shutdown does not wait long.
      if (!stopping) timers.startSingleTimer(StopOverdue.INSTANCE, settings.handoffWait());
      stopping = true;
      return Effect().noReply();
    }
    return Effect().stop().thenNoReply();
  }

  /**
   * Stopping without an outcome would strand the delivery in DISPATCHING, with no live
   * entity, until its deadline passes and the waker steps in. Instead the attempt is journaled as deferred and
   * due now, so the waker brings the entity back on its new node within seconds, and that
   * incarnation sends it again (the receiver may see it twice; it de-duplicates on
   * webhook-id). Its number is given back: the receiver is not to blame.
   */
  private ReplyEffect<EventJournal, State> onStopOverdue(State state) {
    Instant now = clock.instant();
    List<EventJournal> deferred = new ArrayList<>();
    for (Delivery d : state.deliveries().values()) {
      if (attemptOut(d)) {
        deferred.add(
            new EventJournal.AttemptDeferred(
                d.endpointId(), d.attemptCount(), now, "outcome not back before the event moved to another node", now));
      }
    }
    if (deferred.isEmpty()) return Effect().stop().thenNoReply();
    return Effect().persist(deferred).thenStop().thenNoReply();
  }

  /** Whether this incarnation has sent an attempt whose outcome has not come back. */
  private boolean attemptsOut(State state) {
    return state.deliveries().values().stream().anyMatch(this::attemptOut);
  }

  private boolean attemptOut(Delivery d) {
    return d.status() == DeliveryStatus.DISPATCHING && timers.isTimerActive(replyTimer(d.endpointId()));
  }

  private ReplyEffect<EventJournal, State> onWake(State state) {
    if (state.isEmpty() || state.allTerminal()) {
      passivate();
      return Effect().noReply();
    }
    Instant now = clock.instant();
    List<Delivery> overdue =
        state.deliveries().values().stream()
            .filter(d -> d.status() == DeliveryStatus.RETRY_SCHEDULED && !d.nextAttemptAt().isAfter(now))
            .toList();
    return startAttempts(overdue, "retry due (woken)");
  }

  private static String replyTimer(String endpointId) {
    return "reply:" + endpointId;
  }

  private static String retryTimer(String endpointId) {
    return "retry:" + endpointId;
  }

  // Through the shard, so that messages arriving meanwhile are buffered, not lost.
  private void passivate() {
    shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              if (!state.isEmpty() && !state.allTerminal()) ctx.getSelf().tell(Resume.INSTANCE);
            })
        .build();
  }

  @Override
  public EventHandler<State, EventJournal> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }
}
