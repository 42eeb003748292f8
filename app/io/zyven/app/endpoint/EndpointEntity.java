package io.zyven.app.endpoint;

import io.zyven.app.store.EndpointIndex;
import io.zyven.protocol.CborSerializable;
import io.zyven.protocol.EndpointConfig;
import io.zyven.protocol.EndpointJournal;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
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

/**
 * One endpoint: its configuration, event-sourced so that every change is audited. (The
 * delivery gate — in-flight limit, rate limit, circuit breaker — joins it with delivery.)
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

  /** No such endpoint for this tenant (never created, deleted, or another tenant's). */
  public record NotFound() implements Reply {}

  // ---- state ----

  public record State(EndpointConfig config, boolean deleted) implements CborSerializable {
    static final State EMPTY = new State(null, false);

    boolean visibleTo(String tenantId) {
      return config != null && !deleted && config.tenantId().equals(tenantId);
    }
  }

  // ---- behaviour ----

  public static void init(ActorSystem<?> system, EndpointIndex index) {
    ClusterSharding.get(system)
        .init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), index, Clock.systemUTC())));
  }

  public static Behavior<Command> create(String endpointId, EndpointIndex index, Clock clock) {
    return Behaviors.setup(ctx -> new EndpointEntity(endpointId, index, clock));
  }

  private final EndpointIndex index;
  private final Clock clock;

  private EndpointEntity(String endpointId, EndpointIndex index, Clock clock) {
    super(PersistenceId.of(TYPE_KEY.name(), endpointId));
    this.index = index;
    this.clock = clock;
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
        .onEvent(EndpointJournal.Created.class, (s, e) -> new State(e.config(), false))
        .onEvent(EndpointJournal.Updated.class, (s, e) -> new State(e.config(), false))
        .onEvent(
            EndpointJournal.Deleted.class,
            (s, e) -> new State(bump(s.config(), e.at()), true))
        .build();
  }

  // Deletion is a change too: the index must see a newer version to accept it.
  private static EndpointConfig bump(EndpointConfig c, Instant at) {
    return new EndpointConfig(
        c.id(), c.tenantId(), c.url(), c.description(), c.eventTypes(), c.secret(), false,
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
              if (state.config() != null) index.upsert(state.config(), state.deleted());
            })
        .build();
  }
}
