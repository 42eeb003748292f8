package io.zyven.app.event;

import io.zyven.protocol.Attempt;
import io.zyven.protocol.CborSerializable;
import io.zyven.protocol.DeliveryStatus;
import io.zyven.protocol.EventJournal;
import io.zyven.protocol.EventJournal.DeliveryTransition;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.Recovery;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * One accepted event and its deliveries, one per endpoint it fans out to. The entity id is
 * derived from tenant + Idempotency-Key, so this actor is the single writer that makes
 * ingest idempotent across nodes. Every delivery transition is a journaled event.
 */
public final class EventEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        EventEntity.Command, EventJournal, EventEntity.State> {

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "Event");

  // ---- commands ----

  public sealed interface Command extends CborSerializable {}

  /** Accept the event, or answer how an earlier accept with the same key went. */
  public record Accept(
      String tenantId,
      String type,
      String payload,
      String idempotencyKey,
      String bodyHash,
      List<String> endpointIds,
      ActorRef<AcceptReply> replyTo)
      implements Command {}

  public record Get(String tenantId, ActorRef<GetReply> replyTo) implements Command {}

  /** RECEIVED / RETRY_SCHEDULED → DISPATCHING: a new attempt starts. */
  public record StartAttempt(String endpointId, String reason, ActorRef<StatusReply<State>> replyTo)
      implements Command {}

  /** DISPATCHING → {@code outcome} (DELIVERED, RETRY_SCHEDULED or DEAD_LETTERED). */
  public record RecordAttempt(
      String endpointId,
      Attempt attempt,
      DeliveryStatus outcome,
      Instant nextAttemptAt,
      String reason,
      ActorRef<StatusReply<State>> replyTo)
      implements Command {}

  /**
   * Operator replay: terminal deliveries go back to DISPATCHING. With no endpoint, the
   * dead-lettered ones, or if there are none, the delivered ones.
   */
  public record Replay(
      String tenantId, String endpointId, String by, ActorRef<StatusReply<ReplayStarted>> replyTo)
      implements Command {}

  /** The deliveries a replay sent back to DISPATCHING (a record, so it can cross nodes). */
  public record ReplayStarted(List<String> endpointIds) implements CborSerializable {}

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

  public record Delivery(
      String endpointId,
      DeliveryStatus status,
      int attemptCount,
      Instant nextAttemptAt,
      String lastError,
      List<Attempt> attempts)
      implements CborSerializable {

    static Delivery received(String endpointId) {
      return new Delivery(endpointId, DeliveryStatus.RECEIVED, 0, null, null, List.of());
    }

    Delivery apply(DeliveryTransition t) {
      if (t instanceof EventJournal.DispatchStarted e) {
        return new Delivery(endpointId, e.to(), e.attempt(), null, lastError, attempts);
      } else if (t instanceof EventJournal.Delivered e) {
        return withAttempt(e.to(), e.attempt(), null);
      } else if (t instanceof EventJournal.RetryScheduled e) {
        return withAttempt(e.to(), e.attempt(), e.nextAttemptAt());
      } else if (t instanceof EventJournal.DeadLettered e) {
        return withAttempt(e.to(), e.attempt(), null);
      } else if (t instanceof EventJournal.Replayed e) {
        return new Delivery(endpointId, e.to(), e.attempt(), null, lastError, attempts);
      }
      throw new IllegalArgumentException("unknown transition " + t);
    }

    private Delivery withAttempt(DeliveryStatus to, Attempt attempt, Instant next) {
      List<Attempt> all = new ArrayList<>(attempts);
      all.add(attempt);
      return new Delivery(endpointId, to, attemptCount, next, attempt.error(), List.copyOf(all));
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

  // ---- behaviour ----

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                TYPE_KEY, ctx -> create(ctx.getEntityId(), ctx.getShard(), Clock.systemUTC())));
  }

  public static Behavior<Command> create(
      String eventId, ActorRef<ClusterSharding.ShardCommand> shard, Clock clock) {
    return Behaviors.setup(ctx -> new EventEntity(eventId, ctx, shard, clock));
  }

  private final String eventId;
  private final ActorContext<Command> ctx;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Clock clock;

  private EventEntity(
      String eventId,
      ActorContext<Command> ctx,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Clock clock) {
    super(PersistenceId.of(TYPE_KEY.name(), eventId));
    this.eventId = eventId;
    this.ctx = ctx;
    this.shard = shard;
    this.clock = clock;
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
  public CommandHandlerWithReply<Command, EventJournal, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Accept.class, this::onAccept)
        .onCommand(Get.class, this::onGet)
        .onCommand(StartAttempt.class, this::onStartAttempt)
        .onCommand(RecordAttempt.class, this::onRecordAttempt)
        .onCommand(Replay.class, this::onReplay)
        .build();
  }

  private ReplyEffect<EventJournal, State> onAccept(State state, Accept cmd) {
    if (!state.isEmpty()) {
      AcceptReply reply =
          state.received().bodyHash().equals(cmd.bodyHash())
              ? new Accepted(eventId, true)
              : new Conflict(eventId);
      return Effect().reply(cmd.replyTo(), reply);
    }
    if (cmd.endpointIds().isEmpty()) {
      passivate();
      return Effect().reply(cmd.replyTo(), new NoSubscribers(eventId));
    }
    EventJournal.Received received =
        new EventJournal.Received(
            eventId,
            cmd.tenantId(),
            cmd.type(),
            cmd.payload(),
            cmd.idempotencyKey(),
            cmd.bodyHash(),
            cmd.endpointIds().stream().distinct().toList(),
            clock.instant());
    return Effect().persist(received).thenReply(cmd.replyTo(), s -> new Accepted(eventId, false));
  }

  private ReplyEffect<EventJournal, State> onGet(State state, Get cmd) {
    if (state.isEmpty()) passivate(); // nothing here: don't keep an empty entity alive
    GetReply reply = state.visibleTo(cmd.tenantId()) ? new Found(state) : new NotFound();
    return Effect().reply(cmd.replyTo(), reply);
  }

  private ReplyEffect<EventJournal, State> onStartAttempt(State state, StartAttempt cmd) {
    Delivery d = state.deliveries().get(cmd.endpointId());
    if (d == null) return Effect().reply(cmd.replyTo(), StatusReply.error("no such delivery"));
    EventJournal.DispatchStarted started =
        new EventJournal.DispatchStarted(
            cmd.endpointId(), d.attemptCount() + 1, cmd.reason(), clock.instant());
    return transition(state, started, cmd.replyTo());
  }

  private ReplyEffect<EventJournal, State> onRecordAttempt(State state, RecordAttempt cmd) {
    if (cmd.outcome() == null) return Effect().reply(cmd.replyTo(), StatusReply.error("no outcome"));
    if (cmd.outcome() == DeliveryStatus.RETRY_SCHEDULED && cmd.nextAttemptAt() == null) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("a retry needs next_attempt_at"));
    }
    Instant now = clock.instant();
    DeliveryTransition t =
        switch (cmd.outcome()) {
          case DELIVERED -> new EventJournal.Delivered(cmd.endpointId(), cmd.attempt(), cmd.reason(), now);
          case RETRY_SCHEDULED ->
              new EventJournal.RetryScheduled(
                  cmd.endpointId(), cmd.attempt(), cmd.nextAttemptAt(), cmd.reason(), now);
          case DEAD_LETTERED ->
              new EventJournal.DeadLettered(cmd.endpointId(), cmd.attempt(), cmd.reason(), now);
          default -> null;
        };
    if (t == null) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("not an outcome: " + cmd.outcome()));
    }
    return transition(state, t, cmd.replyTo());
  }

  private ReplyEffect<EventJournal, State> onReplay(State state, Replay cmd) {
    if (!state.visibleTo(cmd.tenantId())) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("no such event"));
    }
    List<Delivery> targets = replayTargets(state, cmd.endpointId());
    if (targets.isEmpty()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("nothing to replay"));
    }
    Instant now = clock.instant();
    List<EventJournal> replayed =
        targets.stream()
            .map(
                d ->
                    (EventJournal)
                        new EventJournal.Replayed(
                            d.endpointId(), d.attemptCount() + 1, cmd.by(), "operator replay", now))
            .toList();
    ReplayStarted started = new ReplayStarted(targets.stream().map(Delivery::endpointId).toList());
    return Effect().persist(replayed).thenReply(cmd.replyTo(), s -> StatusReply.success(started));
  }

  private static List<Delivery> replayTargets(State state, String endpointId) {
    if (endpointId != null) {
      Delivery d = state.deliveries().get(endpointId);
      return d != null && d.status().isTerminal() ? List.of(d) : List.of();
    }
    List<Delivery> dead = withStatus(state, DeliveryStatus.DEAD_LETTERED);
    return dead.isEmpty() ? withStatus(state, DeliveryStatus.DELIVERED) : dead;
  }

  private static List<Delivery> withStatus(State state, DeliveryStatus status) {
    return state.deliveries().values().stream().filter(d -> d.status() == status).toList();
  }

  /** Persists a legal transition; when every delivery is then terminal, the entity stops. */
  private ReplyEffect<EventJournal, State> transition(
      State state, DeliveryTransition t, ActorRef<StatusReply<State>> replyTo) {
    Delivery d = state.deliveries().get(t.endpointId());
    if (d == null) return Effect().reply(replyTo, StatusReply.error("no such delivery"));
    if (!t.appliesTo(d.status())) {
      return Effect()
          .reply(replyTo, StatusReply.error("cannot move from " + d.status() + " to " + t.to()));
    }
    return Effect()
        .persist(t)
        .thenRun(
            (State s) -> {
              if (s.allTerminal()) passivate();
            })
        .thenReply(replyTo, StatusReply::success);
  }

  // Through the shard, so that messages arriving meanwhile are buffered, not lost.
  private void passivate() {
    shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
  }

  @Override
  public EventHandler<State, EventJournal> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }
}
