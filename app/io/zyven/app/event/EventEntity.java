package io.zyven.app.event;

import io.zyven.app.delivery.DeliveryMachine;
import io.zyven.app.delivery.DeliveryMachine.Delivery;
import io.zyven.app.delivery.DeliveryPolicy;
import io.zyven.app.delivery.DeliveryRequest;
import io.zyven.app.delivery.Dispatch;
import io.zyven.app.delivery.DispatchReply;
import io.zyven.app.metrics.Metrics;
import io.zyven.app.telemetry.LogContext;
import io.zyven.app.telemetry.TraceParent;
import io.zyven.app.telemetry.Tracing;
import io.zyven.protocol.CborSerializable;
import io.zyven.protocol.DeliveryStatus;
import io.zyven.protocol.EventJournal;
import io.zyven.protocol.EventJournal.DeliveryTransition;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
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
import org.apache.pekko.persistence.typed.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
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
 * <p>It has three states: empty (not accepted), open (a delivery is under way) and
 * finished (every delivery delivered or dead-lettered). Each handler asks the
 * {@link DeliveryMachine} what an input means, journals the answer, and sends the attempts
 * that start to their endpoints. Its timers bring retries back, and count an attempt as
 * failed when its reply never comes (the endpoint's node died).
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

  /** The journal's persistence id of an event. */
  public static PersistenceId persistenceId(String eventId) {
    return PersistenceId.of(TYPE_KEY.name(), eventId);
  }

  /** The tag of an event's journal rows: a hash of its id, fixed for the journal's life. */
  public static String tagOf(String eventId) {
    return TAGS.get(Math.floorMod(eventId.hashCode(), TAGS.size()));
  }

  // ---- commands ----

  public sealed interface Command extends CborSerializable {}

  /**
   * Accept the event, or answer how an earlier accept with the same key went. {@code
   * requestId} names the HTTP request: ingest may send the same request again when an
   * answer is slow to come. {@code traceparent} is the ingest's trace context (null: none).
   */
  public record Accept(
      String tenantId,
      String type,
      String payload,
      String idempotencyKey,
      String bodyHash,
      String requestId,
      List<String> endpointIds,
      String traceparent,
      ActorRef<AcceptReply> replyTo)
      implements Command {

    /** Without a trace context. */
    public Accept(
        String tenantId, String type, String payload, String idempotencyKey, String bodyHash, String requestId,
        List<String> endpointIds, ActorRef<AcceptReply> replyTo) {
      this(tenantId, type, payload, idempotencyKey, bodyHash, requestId, endpointIds, null, replyTo);
    }
  }

  public record Get(String tenantId, ActorRef<GetReply> replyTo) implements Command {}

  /**
   * Operator replay: terminal deliveries go back to DISPATCHING. With no endpoint, the
   * dead-lettered ones, or if there are none, the delivered ones. {@code deadLettersOnly}
   * (an endpoint's recover, chosen from the read model, which may trail) never sends a
   * delivered one again.
   */
  public record Replay(
      String tenantId, String endpointId, boolean deadLettersOnly, String by, ActorRef<StartReply> replyTo)
      implements Command {}

  /**
   * Retry now: RETRY_SCHEDULED deliveries (all of them, or the one to {@code endpointId})
   * start their next attempt at once instead of at its scheduled time.
   */
  public record RetryNow(String tenantId, String endpointId, String by, ActorRef<StartReply> replyTo)
      implements Command {}

  /**
   * Expunge the payload: journal who did it, dead-letter what is not finished, and answer
   * with the {@code Received} as it must now stand in the journal (without its payload).
   */
  public record ExpungePayload(String tenantId, String by, ActorRef<ExpungeReply> replyTo) implements Command {}

  /**
   * From the retention sweep: remove this event (journal, tags, read model) if it is
   * finished and its last change is before {@code cutoff}, the tenant's retention horizon.
   */
  public record Retire(String tenantId, Instant cutoff, ActorRef<RetireReply> replyTo) implements Command {}

  /** The remover's answer ({@code error} when storage failed). */
  record RemovalDone(Boolean removed, Throwable error, ActorRef<RetireReply> replyTo) implements Command {}

  /** An endpoint's answer to a dispatch, through this entity's message adapter. */
  record DispatchReplied(DispatchReply reply) implements Command {}

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
   * entity is most of the work (recovery resumes it); a live one starts what is due.
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

  // ---- replies ----

  public sealed interface AcceptReply extends CborSerializable {}

  public record Accepted(String eventId, boolean replayed) implements AcceptReply {}

  /** The key was used before with a different body. */
  public record Conflict(String eventId) implements AcceptReply {}

  /** A new key, but nothing to deliver to: nothing was written. */
  public record NoSubscribers(String eventId) implements AcceptReply {}

  public sealed interface GetReply extends CborSerializable {}

  public record Found(State state) implements GetReply {}

  public record NotFound() implements GetReply {}

  /** The answer to a replay or a retry now. */
  public sealed interface StartReply extends CborSerializable {}

  /** The deliveries that started. */
  public record DeliveriesStarted(List<String> endpointIds) implements StartReply {}

  /** No such event for this tenant. */
  public record NoSuchEvent() implements StartReply {}

  /** The event exists, but no delivery of it could start: nothing to replay or retry. */
  public record NothingToStart() implements StartReply {}

  /** The event's payload was expunged: there is nothing to send again. */
  public record PayloadGone() implements StartReply {}

  /** The answer to an expunge. */
  public sealed interface ExpungeReply extends CborSerializable {}

  /**
   * The payload is expunged ({@code already}: by an earlier request, and nothing was
   * journaled now). {@code received} is the event's first journal record as it must be
   * stored from now on.
   */
  public record Expunged(EventJournal.Received received, boolean already) implements ExpungeReply {}

  /** No such event for this tenant. */
  public record NoEventToExpunge() implements ExpungeReply {}

  /** The answer to a retire. */
  public sealed interface RetireReply extends CborSerializable {}

  /** The event and everything about it are gone. */
  public record Retired() implements RetireReply {}

  /** The event stays, for now or for good. */
  public record Kept(KeptBecause because) implements RetireReply {}

  public enum KeptBecause {
    /** A delivery is still under way (or a replay has just restarted one). */
    OPEN,
    /** Its last change is within the retention period. */
    RECENT,
    /** The read model has not projected all of its journal yet: a later sweep removes it. */
    NOT_PROJECTED,
    /** No such event (removed already, or never accepted). */
    GONE,
    /** Storage failed; a later sweep tries again. */
    FAILED
  }

  /**
   * Removes a finished event's rows from every table in one transaction: all or nothing,
   * whatever happens to the node. It answers false, and removes nothing, while the read
   * model has not projected every journal row of the event.
   */
  public interface Remover {
    CompletionStage<Boolean> remove(String eventId, String tag, State state);
  }

  // ---- state ----

  /**
   * {@code received} is null until the event is accepted; {@code payloadExpungedAt} is set
   * once its payload is expunged (and {@code received} has none from then on);
   * {@code lastChangeAt} is the time of the latest journal record, from which retention
   * counts.
   */
  public record State(
      EventJournal.Received received, Map<String, Delivery> deliveries, Instant payloadExpungedAt, Instant lastChangeAt)
      implements CborSerializable {

    static final State EMPTY = new State(null, Map.of(), null, null);

    boolean isEmpty() {
      return received == null;
    }

    /** Accepted, and every delivery is delivered or dead-lettered. */
    boolean isFinished() {
      return !isEmpty() && deliveries.values().stream().allMatch(Delivery::isTerminal);
    }

    boolean visibleTo(String tenantId) {
      return received != null && received.tenantId().equals(tenantId);
    }

    public DeliveryStatus status() {
      return DeliveryStatus.ofEvent(deliveries.values().stream().map(Delivery::status).toList());
    }

    State apply(EventJournal event, int attemptsKept) {
      // A Received starts afresh, even over an event retention removed from under a live
      // incarnation: the key's next event.
      if (event instanceof EventJournal.Received r) return new State(r, DeliveryMachine.accepted(r), null, r.at());
      // The journal's Received may still hold the payload (its rewrite had not happened
      // when a node died): the state drops it all the same.
      if (event instanceof EventJournal.PayloadExpunged e) {
        return new State(received.withoutPayload(), deliveries, e.at(), e.at());
      }
      DeliveryTransition t = (DeliveryTransition) event;
      Map<String, Delivery> ds = new LinkedHashMap<>(deliveries);
      ds.put(t.endpointId(), DeliveryMachine.apply(ds.get(t.endpointId()), t, attemptsKept));
      return new State(received, ds, payloadExpungedAt, t.at());
    }
  }

  // ---- settings and wiring ----

  /**
   * {@code queueTimeout}: how long an endpoint may hold an attempt before sending it;
   * {@code replyMargin}: how much longer than that (and than the attempt's own timeout) to
   * wait for a reply before counting the attempt as failed; {@code handoffWait}: how long a
   * stopping entity waits for the outcomes of the attempts it has out; {@code attemptsKept}:
   * how many of each delivery's latest attempts its state keeps (the journal has them all).
   */
  public record Settings(
      DeliveryPolicy policy,
      Duration queueTimeout,
      Duration replyMargin,
      int defaultMaxAttempts,
      Duration passivateBeforeRetry,
      Duration handoffWait,
      int attemptsKept) {

    /** Keeping every attempt in state. */
    public Settings(
        DeliveryPolicy policy,
        Duration queueTimeout,
        Duration replyMargin,
        int defaultMaxAttempts,
        Duration passivateBeforeRetry,
        Duration handoffWait) {
      this(policy, queueTimeout, replyMargin, defaultMaxAttempts, passivateBeforeRetry, handoffWait, Integer.MAX_VALUE);
    }
  }

  public static void init(ActorSystem<?> system, Dispatch.Endpoints endpoints, Remover remover, Settings settings) {
    // Idle events passivate (cluster.conf); the waker brings back those whose retry comes due.
    ClusterSharding.get(system)
        .init(
            Entity.of(
                    TYPE_KEY,
                    ctx -> create(ctx.getEntityId(), ctx.getShard(), endpoints, remover, settings, Clock.systemUTC()))
                .withStopMessage(Stop.INSTANCE));
  }

  /** An entity whose retirement always finds the read model behind: it is never removed. */
  public static Behavior<Command> create(
      String eventId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Dispatch.Endpoints endpoints,
      Settings settings,
      Clock clock) {
    Remover never = (id, tag, state) -> CompletableFuture.completedStage(false);
    return create(eventId, shard, endpoints, never, settings, clock);
  }

  public static Behavior<Command> create(
      String eventId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Dispatch.Endpoints endpoints,
      Remover remover,
      Settings settings,
      Clock clock) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new EventEntity(eventId, ctx, timers, shard, endpoints, remover, settings, clock)));
  }

  private final String eventId;
  private final String tag;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Dispatch.Endpoints endpoints;
  private final Remover remover;
  private final Settings settings;
  private final DeliveryMachine machine;
  private final Clock clock;
  private final ActorRef<DispatchReply> replies;

  // What this incarnation knows and recovery loses; each says why losing it is safe.
  /**
   * The attempts this incarnation sent whose outcome has not been journaled. After a
   * restart it is empty, which is true: nothing is out from the new incarnation, so every
   * delivery left DISPATCHING is sent again (receivers de-duplicate on webhook-id).
   */
  private final Map<String, Integer> sent = new HashMap<>();
  /**
   * Each endpoint's max_attempts, learnt from its replies, to judge a reply that never
   * comes. After a restart an attempt left out is sent again rather than judged, so the
   * default is needed only when an endpoint never answered at all.
   */
  private final Map<String, Integer> budgets = new HashMap<>();
  /** Stopping for a hand-off: lost with the incarnation, whose stop it is. */
  private boolean stopping;
  /**
   * The remover is at work on this event's rows: every command waits (stashed) for its
   * answer, so nothing is journaled meanwhile. Recovery cannot see it, and need not: the
   * removal is one transaction, and a new incarnation finds either all the rows or none.
   */
  private boolean removing;
  /**
   * The event's rows are gone, but this incarnation still holds its state: until it has
   * passivated it answers as an empty entity, and an accept starts the key's next event.
   * A new incarnation recovers to empty, the same.
   */
  private boolean removed;

  private EventEntity(
      String eventId,
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Dispatch.Endpoints endpoints,
      Remover remover,
      Settings settings,
      Clock clock) {
    super(persistenceId(eventId));
    this.eventId = eventId;
    this.tag = tagOf(eventId);
    this.ctx = ctx;
    this.timers = timers;
    this.shard = shard;
    this.endpoints = endpoints;
    this.remover = remover;
    this.settings = settings;
    this.machine = new DeliveryMachine(settings.policy());
    this.clock = clock;
    this.replies = ctx.messageAdapter(DispatchReply.class, DispatchReplied::new);
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
    CommandHandlerWithReplyBuilder<Command, EventJournal, State> builder = newCommandHandlerWithReplyBuilder();
    // Handlers are tried in this order: while the remover works, everything waits.
    builder
        .forState(state -> removing)
        .onCommand(RemovalDone.class, this::onRemovalDone)
        .onAnyCommand(cmd -> Effect().stash());
    builder
        .forState(state -> removed || state.isEmpty())
        .onCommand(Accept.class, this::accept)
        .onCommand(Retire.class, (state, cmd) -> passivateAnd(Effect().reply(cmd.replyTo(), new Kept(KeptBecause.GONE))))
        .onCommand(Get.class, (state, cmd) -> passivateAnd(Effect().reply(cmd.replyTo(), new NotFound())))
        .onCommand(Replay.class, (state, cmd) -> Effect().reply(cmd.replyTo(), new NoSuchEvent()))
        .onCommand(RetryNow.class, (state, cmd) -> Effect().reply(cmd.replyTo(), new NoSuchEvent()))
        .onCommand(ExpungePayload.class, (state, cmd) -> passivateAnd(Effect().reply(cmd.replyTo(), new NoEventToExpunge())))
        .onCommand(Wake.class, (state, cmd) -> passivateAnd(Effect().noReply()));
    builder
        .forState(State::isFinished)
        .onCommand(Accept.class, (state, cmd) -> passivateAnd(answerAgain(state, cmd)))
        .onCommand(Get.class, (state, cmd) -> passivateAnd(Effect().reply(cmd.replyTo(), found(state, cmd))))
        .onCommand(Replay.class, this::replay)
        .onCommand(RetryNow.class, (state, cmd) -> Effect().reply(cmd.replyTo(), startRefused(state, cmd.tenantId())))
        .onCommand(ExpungePayload.class, this::expunge)
        .onCommand(Retire.class, this::retire)
        .onCommand(Wake.class, (state, cmd) -> passivateAnd(Effect().noReply()));
    builder
        .forState(state -> !state.isEmpty() && !state.isFinished())
        .onCommand(Accept.class, this::answerAgain)
        .onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(), found(state, cmd)))
        .onCommand(Replay.class, this::replay)
        .onCommand(RetryNow.class, this::retryNow)
        .onCommand(ExpungePayload.class, this::expunge)
        .onCommand(DispatchReplied.class, this::onReply)
        .onCommand(ReplyOverdue.class, this::onReplyOverdue)
        .onCommand(RetryDue.class, (state, due) -> start(state, List.of(due.endpointId()), new DeliveryMachine.RetryDue()))
        .onCommand(Wake.class, (state, wake) -> startDue(state, "retry due (woken)"))
        .onCommand(Resume.class, (state, resume) -> resume(state))
        .onCommand(Stop.class, (state, stop) -> stopWhenOutcomesAreIn(state))
        .onCommand(StopOverdue.class, (state, overdue) -> handOff(state))
        .onCommand(Retire.class, (state, cmd) -> Effect().reply(cmd.replyTo(), new Kept(KeptBecause.OPEN)));
    // Whatever state: a late reply or timer changes nothing, and a stop stops.
    builder
        .forAnyState()
        .onCommand(DispatchReplied.class, (state, cmd) -> Effect().noReply())
        .onCommand(ReplyOverdue.class, (state, cmd) -> Effect().noReply())
        .onCommand(RetryDue.class, (state, cmd) -> Effect().noReply())
        .onCommand(Resume.class, (state, cmd) -> Effect().noReply())
        .onCommand(RemovalDone.class, (state, cmd) -> Effect().noReply())
        .onCommand(Stop.class, (state, cmd) -> Effect().stop().thenNoReply())
        .onCommand(StopOverdue.class, (state, cmd) -> Effect().stop().thenNoReply());
    return builder.build();
  }

  // ---- empty: accept ----

  private ReplyEffect<EventJournal, State> accept(State state, Accept cmd) {
    if (cmd.endpointIds().isEmpty()) {
      return passivateAnd(Effect().reply(cmd.replyTo(), new NoSubscribers(eventId)));
    }
    List<String> targets = cmd.endpointIds().stream().distinct().toList();
    // The journal write, in the ingest's trace; the attempts continue the ingest's context,
    // which is journaled with the event so that it outlives this incarnation.
    Tracing.Span persist =
        Tracing.get(ctx.getSystem())
            .start("persist", Tracing.Kind.INTERNAL, TraceParent.parse(cmd.traceparent()).orElse(null))
            .attribute("zyven.event_id", eventId);
    // One record accepts the event and starts every delivery's first attempt.
    EventJournal.Received received =
        new EventJournal.Received(
            eventId, cmd.tenantId(), cmd.type(), cmd.payload(), cmd.idempotencyKey(), cmd.bodyHash(),
            cmd.requestId(), targets, clock.instant(), true, cmd.traceparent());
    return Effect()
        .persist(received)
        .thenRun((State s) -> {
          persist.end();
          removed = false;
          targets.forEach(id -> dispatch(s, id));
        })
        .thenReply(cmd.replyTo(), s -> new Accepted(eventId, false));
  }

  // ---- accepted: answers ----

  private ReplyEffect<EventJournal, State> answerAgain(State state, Accept cmd) {
    boolean resent = cmd.requestId() != null && cmd.requestId().equals(state.received().requestId());
    AcceptReply reply =
        state.received().bodyHash().equals(cmd.bodyHash()) ? new Accepted(eventId, !resent) : new Conflict(eventId);
    return Effect().reply(cmd.replyTo(), reply);
  }

  private static GetReply found(State state, Get cmd) {
    return state.visibleTo(cmd.tenantId()) ? new Found(state) : new NotFound();
  }

  private static StartReply startRefused(State state, String tenantId) {
    return state.visibleTo(tenantId) ? new NothingToStart() : new NoSuchEvent();
  }

  // ---- expunge ----

  /**
   * Journals who expunged the payload, and the machine's answer for each delivery (the
   * unfinished ones are dead-lettered: nothing is left to send). A second expunge
   * journals nothing. Timers and attempts out are forgotten: no attempt starts after this
   * is journaled, and the outcome of one already out is stale when it comes.
   */
  private ReplyEffect<EventJournal, State> expunge(State state, ExpungePayload cmd) {
    if (!state.visibleTo(cmd.tenantId())) return Effect().reply(cmd.replyTo(), new NoEventToExpunge());
    if (state.payloadExpungedAt() != null) {
      return passivateAnd(Effect().reply(cmd.replyTo(), new Expunged(state.received(), true)));
    }
    List<EventJournal> records = new ArrayList<>();
    records.add(new EventJournal.PayloadExpunged(cmd.by(), clock.instant()));
    List<DeliveryTransition> deadLettered = steps(state.deliveries().values(), new DeliveryMachine.PayloadExpunged(cmd.by()));
    records.addAll(deadLettered);
    List<String> dispatching =
        state.deliveries().values().stream()
            .filter(d -> d.status() == DeliveryStatus.DISPATCHING)
            .map(Delivery::endpointId)
            .toList();
    return Effect()
        .persist(records)
        .thenRun(
            (State s) -> {
              for (DeliveryTransition t : deadLettered) {
                logOutcome(s, t);
                observe(s, t);
                timers.cancel(retryTimer(t.endpointId()));
                timers.cancel(replyTimer(t.endpointId()));
                sent.remove(t.endpointId());
                // An attempt handed to the endpoint but still in its queue is not sent.
                if (dispatching.contains(t.endpointId())) endpoints.withdraw(t.endpointId(), eventId);
              }
              if (stopping && sent.isEmpty()) ctx.getSelf().tell(Stop.INSTANCE);
              else if (s.isFinished()) passivate();
            })
        .thenReply(cmd.replyTo(), s -> new Expunged(s.received(), false));
  }

  // ---- retention ----

  /**
   * A finished event whose last change is before the tenant's cutoff is removed by the
   * remover, while every other command waits. The entity does it, not the sweep: it is the
   * event's single writer, so nothing can be journaled for the event while its rows go.
   */
  private ReplyEffect<EventJournal, State> retire(State state, Retire cmd) {
    if (!state.visibleTo(cmd.tenantId())) return passivateAnd(Effect().reply(cmd.replyTo(), new Kept(KeptBecause.GONE)));
    if (!state.lastChangeAt().isBefore(cmd.cutoff())) {
      return passivateAnd(Effect().reply(cmd.replyTo(), new Kept(KeptBecause.RECENT)));
    }
    removing = true;
    ctx.pipeToSelf(remover.remove(eventId, tag, state), (removed, error) -> new RemovalDone(removed, error, cmd.replyTo()));
    return Effect().noReply();
  }

  private ReplyEffect<EventJournal, State> onRemovalDone(State state, RemovalDone done) {
    removing = false;
    RetireReply reply;
    if (done.error() != null) {
      LogContext.log(tenantOf(state), eventId, null,
          () -> log.warn("Retention could not remove event {}: {}", eventId, done.error().toString()));
      reply = new Kept(KeptBecause.FAILED);
    } else if (!done.removed()) {
      reply = new Kept(KeptBecause.NOT_PROJECTED);
    } else {
      removed = true;
      reply = new Retired();
    }
    passivate();
    return Effect().reply(done.replyTo(), reply).thenUnstashAll();
  }

  // ---- replay and retry now ----

  private ReplyEffect<EventJournal, State> replay(State state, Replay cmd) {
    if (state.visibleTo(cmd.tenantId()) && state.payloadExpungedAt() != null) {
      return Effect().reply(cmd.replyTo(), new PayloadGone());
    }
    Collection<Delivery> candidates =
        cmd.endpointId() != null
            ? state.deliveries().containsKey(cmd.endpointId()) ? List.of(state.deliveries().get(cmd.endpointId())) : List.of()
            : DeliveryMachine.replayCandidates(state.deliveries().values(), cmd.deadLettersOnly());
    return startNow(state, cmd.tenantId(), candidates, new DeliveryMachine.Replay(cmd.by(), cmd.deadLettersOnly()), cmd.replyTo());
  }

  private ReplyEffect<EventJournal, State> retryNow(State state, RetryNow cmd) {
    Collection<Delivery> candidates =
        state.deliveries().values().stream()
            .filter(d -> cmd.endpointId() == null || d.endpointId().equals(cmd.endpointId()))
            .toList();
    return startNow(state, cmd.tenantId(), candidates, new DeliveryMachine.RetryNow(cmd.by()), cmd.replyTo());
  }

  /** Starts the next attempt of each candidate the machine lets start, and says which. */
  private ReplyEffect<EventJournal, State> startNow(
      State state,
      String tenantId,
      Collection<Delivery> candidates,
      DeliveryMachine.Input input,
      ActorRef<StartReply> replyTo) {
    if (!state.visibleTo(tenantId)) return Effect().reply(replyTo, new NoSuchEvent());
    List<DeliveryTransition> started = steps(candidates, input);
    if (started.isEmpty()) return Effect().reply(replyTo, new NothingToStart());
    List<String> ids = started.stream().map(DeliveryTransition::endpointId).toList();
    return journalAndSend(started).thenReply(replyTo, s -> new DeliveriesStarted(ids));
  }

  // ---- open: driving deliveries ----

  /** Journals the next attempt of every delivery whose time has come, then sends them. */
  private ReplyEffect<EventJournal, State> startDue(State state, String reason) {
    return start(state, state.deliveries().keySet(), new DeliveryMachine.AttemptDue(reason));
  }

  /** Journals the next attempt of each of these deliveries the machine starts, then sends them. */
  private ReplyEffect<EventJournal, State> start(State state, Collection<String> endpointIds, DeliveryMachine.Input input) {
    List<Delivery> candidates = endpointIds.stream().map(state.deliveries()::get).toList();
    List<DeliveryTransition> started = steps(candidates, input);
    if (started.isEmpty()) return Effect().noReply();
    return journalAndSend(started).thenNoReply();
  }

  /** Journals the attempts that start, then sends each to its endpoint. */
  private EffectBuilder<EventJournal, State> journalAndSend(List<DeliveryTransition> started) {
    return Effect()
        .persist(List.<EventJournal>copyOf(started))
        .thenRun(
            (State s) ->
                started.forEach(t -> {
                  // Started sooner than scheduled (a retry now, a wake): this is the schedule's attempt.
                  timers.cancel(retryTimer(t.endpointId()));
                  dispatch(s, t.endpointId());
                  observe(s, t);
                }));
  }

  private List<DeliveryTransition> steps(Collection<Delivery> deliveries, DeliveryMachine.Input input) {
    Instant now = clock.instant();
    List<DeliveryTransition> transitions = new ArrayList<>();
    for (Delivery d : deliveries) {
      if (machine.step(d, input, now, budget(d.endpointId()), random()) instanceof DeliveryMachine.Persist p) {
        transitions.add(p.transition());
      }
    }
    return transitions;
  }

  /** Asks the endpoint to send the delivery's current attempt. */
  private void dispatch(State state, String endpointId) {
    Delivery d = state.deliveries().get(endpointId);
    EventJournal.Received r = state.received();
    if (r.payload() == null) {
      // Never reached: the machine dead-letters every open delivery when the payload goes.
      LogContext.log(r.tenantId(), eventId, endpointId,
          () -> log.warn("Not sending event {} to endpoint {}: its payload was expunged", eventId, endpointId));
      return;
    }
    endpoints.dispatch(
        endpointId,
        new Dispatch(new DeliveryRequest(eventId, r.type(), r.payload(), d.attemptCount(), r.traceparent()), replies));
    sent.put(endpointId, d.attemptCount());
    expectReplyWithin(endpointId, d.attemptCount(), settings.queueTimeout().plus(settings.replyMargin()));
  }

  private void expectReplyWithin(String endpointId, int attempt, Duration window) {
    timers.startSingleTimer(replyTimer(endpointId), new ReplyOverdue(endpointId, attempt), window);
  }

  private ReplyEffect<EventJournal, State> onReply(State state, DispatchReplied replied) {
    DispatchReply reply = replied.reply();
    Delivery d = state.deliveries().get(reply.endpointId());
    if (d == null) return Effect().noReply();
    if (reply instanceof DispatchReply.Started started) {
      // Not a transition: the attempt is on the wire, and its own timeout now bounds the wait.
      if (d.dispatching(started.attemptNumber())) {
        budgets.put(d.endpointId(), started.maxAttempts());
        expectReplyWithin(d.endpointId(), d.attemptCount(), Duration.ofMillis(started.timeoutMs()).plus(settings.replyMargin()));
      }
      return Effect().noReply();
    }
    DeliveryMachine.Input input;
    if (reply instanceof DispatchReply.Outcome outcome) {
      budgets.put(d.endpointId(), outcome.maxAttempts());
      input = new DeliveryMachine.Outcome(outcome.attempt(), outcome.retryAfter());
    } else if (reply instanceof DispatchReply.Deferred deferred) {
      input = new DeliveryMachine.Deferral(deferred.attemptNumber(), deferred.until(), deferred.reason());
    } else if (reply instanceof DispatchReply.Cancelled cancelled) {
      input = new DeliveryMachine.Cancel(cancelled.attemptNumber(), cancelled.reason());
    } else {
      DispatchReply.Refused refused = (DispatchReply.Refused) reply;
      input = new DeliveryMachine.Refusal(refused.attemptNumber(), refused.reason());
    }
    return record(d, input);
  }

  private ReplyEffect<EventJournal, State> onReplyOverdue(State state, ReplyOverdue overdue) {
    return record(state.deliveries().get(overdue.endpointId()), new DeliveryMachine.LostReply(overdue.attempt()));
  }

  /** Journals what the machine makes of an input; then waits for the retry, or stops when all is done. */
  private ReplyEffect<EventJournal, State> record(Delivery d, DeliveryMachine.Input input) {
    if (!(machine.step(d, input, clock.instant(), budget(d.endpointId()), random()) instanceof DeliveryMachine.Persist p)) {
      return Effect().noReply(); // about an attempt the delivery has moved past
    }
    DeliveryTransition t = p.transition();
    return Effect()
        .persist(t)
        .thenRun(
            (State s) -> {
              logOutcome(s, t);
              observe(s, t);
              timers.cancel(replyTimer(t.endpointId()));
              sent.remove(t.endpointId());
              Delivery now = s.deliveries().get(t.endpointId());
              if (now.status() == DeliveryStatus.RETRY_SCHEDULED) scheduleRetry(now);
              if (stopping && sent.isEmpty()) ctx.getSelf().tell(Stop.INSTANCE);
              else if (s.isFinished() || onlyDistantRetries(s)) passivate();
            })
        .thenNoReply();
  }

  /**
   * Operators see failures in the log, with the tenant, event and endpoint as MDC fields;
   * never the payload or the receiver's body.
   */
  private void logOutcome(State s, DeliveryTransition t) {
    LogContext.log(tenantOf(s), eventId, t.endpointId(), () -> logOutcome(t));
  }

  private void logOutcome(DeliveryTransition t) {
    if (t instanceof EventJournal.RetryScheduled r) {
      log.info(
          "Delivery failed: event {} endpoint {} attempt {}: {}; next attempt at {} ({})",
          eventId, r.endpointId(), r.attempt().number(), r.attempt().error(), r.nextAttemptAt(), r.reason());
    } else if (t instanceof EventJournal.Cancelled c) {
      log.info("Delivery cancelled: event {} endpoint {}: {}", eventId, c.endpointId(), c.reason());
    } else if (t instanceof EventJournal.DeadLettered d && d.attempt() == null) {
      log.warn("Delivery dead-lettered: event {} endpoint {}: {}", eventId, d.endpointId(), d.reason());
    } else if (t instanceof EventJournal.DeadLettered d) {
      log.warn(
          "Delivery dead-lettered: event {} endpoint {} attempt {}: {}; {}",
          eventId, d.endpointId(), d.attempt().number(), d.attempt().error(), d.reason());
    }
  }

  /** Metrics of a journaled transition; after the write, never during recovery. */
  private static void observe(State s, DeliveryTransition t) {
    if (t instanceof EventJournal.Delivered d) Metrics.delivered(Duration.between(s.received().at(), d.at()));
    else if (t instanceof EventJournal.DeadLettered d) Metrics.deadLettered(DeliveryPolicy.deadLetterCause(d));
    else if (t instanceof EventJournal.Replayed) Metrics.replayed();
    else if (t instanceof EventJournal.Cancelled) Metrics.cancelled();
  }

  /**
   * Nothing to do for a while: every open delivery waits for a retry further away than
   * {@code passivateBeforeRetry}. The entity leaves memory at once (rather than after the
   * idle timeout); the waker brings it back when a retry is due.
   */
  private boolean onlyDistantRetries(State s) {
    Instant soon = clock.instant().plus(settings.passivateBeforeRetry());
    return s.deliveries().values().stream()
        .allMatch(d -> d.idleUntilAfter(soon));
  }

  private void scheduleRetry(Delivery d) {
    Duration wait = Duration.between(clock.instant(), d.nextAttemptAt());
    timers.startSingleTimer(
        retryTimer(d.endpointId()), new RetryDue(d.endpointId()), wait.isNegative() ? Duration.ZERO : wait);
  }

  /**
   * After a restart (crash, rebalance, passivation) every delivery goes on where it was:
   * what is due starts an attempt, a later retry gets its timer, and an attempt left in
   * DISPATCHING is sent again: its outcome was lost with the old incarnation, unless this
   * one sent it already (a Wake that came before this Resume).
   */
  private ReplyEffect<EventJournal, State> resume(State state) {
    Instant now = clock.instant();
    for (Delivery d : state.deliveries().values()) {
      if (d.status() == DeliveryStatus.DISPATCHING && !sent.containsKey(d.endpointId())) dispatch(state, d.endpointId());
      if (d.status() == DeliveryStatus.RETRY_SCHEDULED && !d.attemptDue(now)) scheduleRetry(d);
    }
    return startDue(state, "resumed after restart");
  }

  // ---- hand-off ----

  private ReplyEffect<EventJournal, State> stopWhenOutcomesAreIn(State state) {
    if (sent.isEmpty()) return Effect().stop().thenNoReply();
    // The last outcome to come back stops it, so a graceful leave does not send an attempt
    // twice. The wait is bounded: the whole shard's messages (ingest too) are held until
    // this entity stops, and the node's shutdown does not wait long.
    if (!stopping) timers.startSingleTimer(StopOverdue.INSTANCE, settings.handoffWait());
    stopping = true;
    return Effect().noReply();
  }

  /**
   * Stopping without an outcome would strand the delivery in DISPATCHING, with no live
   * entity, until its deadline passes and the waker steps in. Instead the machine defers
   * the attempt, due now, so the waker brings the event back on its new node within
   * seconds, and that incarnation sends it again.
   */
  private ReplyEffect<EventJournal, State> handOff(State state) {
    List<DeliveryTransition> deferred = new ArrayList<>();
    for (Map.Entry<String, Integer> out : sent.entrySet()) {
      Delivery d = state.deliveries().get(out.getKey());
      if (machine.step(d, new DeliveryMachine.HandOff(out.getValue()), clock.instant(), budget(d.endpointId()), random())
          instanceof DeliveryMachine.Persist p) {
        deferred.add(p.transition());
      }
    }
    if (deferred.isEmpty()) return Effect().stop().thenNoReply();
    return Effect().persist(List.<EventJournal>copyOf(deferred)).thenStop().thenNoReply();
  }

  // ---- helpers ----

  private static String tenantOf(State state) {
    return state.received() == null ? null : state.received().tenantId();
  }

  private int budget(String endpointId) {
    return budgets.getOrDefault(endpointId, settings.defaultMaxAttempts());
  }

  private static ThreadLocalRandom random() {
    return ThreadLocalRandom.current();
  }

  private static String replyTimer(String endpointId) {
    return "reply:" + endpointId;
  }

  private static String retryTimer(String endpointId) {
    return "retry:" + endpointId;
  }

  // Through the shard, so that messages arriving meanwhile are buffered, not lost.
  private <R> R passivateAnd(R effect) {
    passivate();
    return effect;
  }

  private void passivate() {
    shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              if (!state.isEmpty() && !state.isFinished()) ctx.getSelf().tell(Resume.INSTANCE);
            })
        .build();
  }

  @Override
  public EventHandler<State, EventJournal> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent((state, event) -> state.apply(event, settings.attemptsKept()));
  }
}
