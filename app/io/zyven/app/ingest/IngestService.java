package io.zyven.app.ingest;

import io.zyven.app.endpoint.EventTypeFilter;
import io.zyven.app.event.EventEntity;
import io.zyven.app.store.Database.DatabaseUnavailable;
import io.zyven.app.store.EndpointIndex;
import io.zyven.app.store.EndpointIndex.Subscription;
import io.zyven.app.store.EventTypeStore;
import io.zyven.app.store.EventTypeStore.TypeState;
import io.zyven.app.telemetry.TraceParent;
import io.zyven.app.telemetry.Tracing;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * Ingest: derives the event's id from the tenant and its Idempotency-Key, computes the
 * fan-out from the tenant's enabled endpoints, and asks the event's entity to accept. The
 * entity decides between new, replayed and conflicting; nothing here writes.
 *
 * <p>Every stage runs on the actor system's dispatcher: the stages that {@code ask} returns
 * would otherwise run their callbacks on the common pool, which on two cores starts a new
 * thread for every task.
 */
public final class IngestService {

  /**
   * @param askTimeout how long the whole accept may take, resends included
   * @param askTimeoutWhileUnreachable the same while a member is unreachable
   * @param resendAfter how long to wait for the entity's answer before asking again
   */
  public record Settings(Duration askTimeout, Duration askTimeoutWhileUnreachable, Duration resendAfter) {}

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final EndpointIndex endpoints;
  private final Executor ec;
  private final Settings settings;
  private final Tracing tracing;
  private final SchemaCache schemas = new SchemaCache(SCHEMA_CACHE_SIZE);

  /** Compiled schemas kept per node; a tenant with more types in use recompiles the least used. */
  static final int SCHEMA_CACHE_SIZE = 2000;

  public IngestService(ActorSystem<?> system, EndpointIndex endpoints, Settings settings) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.endpoints = endpoints;
    this.ec = system.executionContext();
    this.settings = settings;
    this.tracing = Tracing.get(system);
  }

  /** Who sends an event: whether the tenant's catalogue applies, and what it may target. */
  public enum Origin {
    /** A producer's request: the catalogue's rules apply; the tenant's own endpoints only. */
    PRODUCER(true, false),
    /** Zyven's test ping (a type of Zyven's own, outside the catalogue); the tenant's own endpoints only. */
    TEST_PING(false, false),
    /** Zyven's alerts, outside the catalogue, to an alert channel's endpoint, which no tenant request can target. */
    ALERT(false, true);

    final boolean checksCatalogue;
    final boolean mayTargetInternal;

    Origin(boolean checksCatalogue, boolean mayTargetInternal) {
      this.checksCatalogue = checksCatalogue;
      this.mayTargetInternal = mayTargetInternal;
    }
  }

  /**
   * Accepts {@code event} for the tenant under {@code key}. {@code body} is the request body
   * as received: its hash tells a replay of the same request from a conflicting one.
   */
  public CompletionStage<IngestResult> ingest(String tenantId, IdempotencyKey key, NewEvent event, byte[] body) {
    return ingest(tenantId, key, event, body, null, Origin.PRODUCER);
  }

  /**
   * The same, in the trace of the request's {@code traceparent} header ({@code traceparent},
   * null or not a valid one: a new trace). The ingest span's context is what the event
   * journals and its delivery attempts continue.
   */
  public CompletionStage<IngestResult> ingest(
      String tenantId, IdempotencyKey key, NewEvent event, byte[] body, String traceparent) {
    return ingest(tenantId, key, event, body, traceparent, Origin.PRODUCER);
  }

  /** The same, sent by {@code origin}. */
  public CompletionStage<IngestResult> ingest(
      String tenantId, IdempotencyKey key, NewEvent event, byte[] body, String traceparent, Origin origin) {
    UUID onlyEndpoint = event.endpointId() == null ? null : uuidOrNull(event.endpointId());
    if (event.endpointId() != null && onlyEndpoint == null) {
      // Not even an id, so it cannot exist: the same answer as an unknown one.
      return CompletableFuture.completedStage(new IngestResult.EndpointUnavailable(event.endpointId()));
    }
    String eventId = eventId(tenantId, key.value());
    Tracing.Span span =
        tracing
            .start("ingest", Tracing.Kind.SERVER, TraceParent.parse(traceparent).orElse(null))
            .attribute("zyven.tenant_id", tenantId)
            .attribute("zyven.event_id", eventId)
            .attribute("zyven.event_type", event.type());
    String context = span.context().header();
    // Tells this request's resends from other requests with the same key; it needs to be
    // unique, not unguessable, so no SecureRandom (a lock) on the hot path.
    ThreadLocalRandom random = ThreadLocalRandom.current();
    String requestId = new UUID(random.nextLong(), random.nextLong()).toString();
    String bodyHash = sha256(body);
    // The whole accept, fan-out lookup included, answers within the ask timeout: the
    // lookup's pool may wait longer for a connection while PostgreSQL is away.
    Instant deadline = Instant.now().plus(acceptTimeout());
    // The type's catalogue state is read with the fan-out, on the same connection, on every
    // request: a schema changed on any node applies to the next request here. Zyven's own
    // events are not in any tenant's catalogue.
    SchemaCache.Entry held = origin.checksCatalogue ? schemas.held(tenantId, event.type()) : null;
    return lookup(tenantId, onlyEndpoint, origin, event.type(), held == null ? 0 : held.version(), deadline)
        .thenApplyAsync(
            fanout -> new Checked(
                fanout.subscriptions(), origin.checksCatalogue ? catalogueCheck(tenantId, event, fanout.also(), held) : null),
            ec)
        .thenComposeAsync(
            checked -> {
              // A refused event goes nowhere; the entity is still asked, as for an event no
              // endpoint subscribes to, so that a key it accepted earlier is answered as before.
              List<String> targets =
                  checked.refused() != null ? List.of() : targets(checked.subscriptions(), event.type(), onlyEndpoint);
              // Asked even with no targets: a known key is answered from the entity's state.
              Function<ActorRef<EventEntity.AcceptReply>, EventEntity.Accept> accept =
                  replyTo ->
                      new EventEntity.Accept(
                          tenantId, event.type(), event.payload(), key.value(), bodyHash, requestId, targets, context,
                          replyTo);
              return askAccept(sharding.entityRefFor(EventEntity.TYPE_KEY, eventId), accept, deadline)
                  .thenApplyAsync(reply -> checked.refused() != null && !(reply instanceof EventEntity.Accepted)
                      && !(reply instanceof EventEntity.Conflict) ? checked.refused() : result(reply, event), ec);
            },
            ec)
        .whenComplete((result, error) -> endSpan(span, result, error));
  }

  private record Checked(List<Subscription> subscriptions, IngestResult refused) {}

  private CompletionStage<EndpointIndex.Fanout<TypeState>> lookup(
      String tenantId, UUID onlyEndpoint, Origin origin, String type, long cachedVersion, Instant deadline) {
    return endpoints
        .enabled(tenantId, onlyEndpoint, origin.mayTargetInternal,
            c -> origin.checksCatalogue ? EventTypeStore.typeState(c, tenantId, type, cachedVersion) : null)
        .toCompletableFuture()
        .orTimeout(Math.max(1, Duration.between(Instant.now(), deadline).toMillis()), TimeUnit.MILLISECONDS)
        .exceptionally(IngestService::lookupFailed);
  }

  /**
   * The catalogue's verdict: archived types are refused, and so are unregistered ones when
   * the tenant requires registration; a payload must match its type's schema. Null: accepted.
   * {@code held}: the compiled schema this node held when the lookup was sent.
   */
  private IngestResult catalogueCheck(String tenantId, NewEvent event, TypeState type, SchemaCache.Entry held) {
    if (type.registered() && type.archived()) return new IngestResult.TypeRefused(event.type(), true);
    if (!type.registered() && type.requireRegistered()) return new IngestResult.TypeRefused(event.type(), false);
    if (!type.hasSchema()) return null;
    com.networknt.schema.Schema schema;
    try {
      schema = schemas.schema(tenantId, event.type(), type.version(), type.schemaText(), held);
    } catch (EventSchemas.InvalidSchema e) {
      // Checked when saved; a schema a newer library refuses must not take ingest down.
      return new IngestResult.SchemaTooComplex(event.type());
    }
    try {
      List<EventSchemas.Violation> violations = EventSchemas.validate(schema, event.payload());
      return violations.isEmpty() ? null : new IngestResult.SchemaViolation(event.type(), violations);
    } catch (EventSchemas.TooComplex e) {
      return new IngestResult.SchemaTooComplex(event.type());
    }
  }

  private static void endSpan(Tracing.Span span, IngestResult result, Throwable error) {
    if (error != null) {
      Throwable cause = error instanceof CompletionException ? error.getCause() : error;
      span.error(cause.getClass().getSimpleName());
    } else {
      span.attribute("zyven.result", result.getClass().getSimpleName());
    }
    span.end();
  }

  /**
   * The event id for a tenant's Idempotency-Key: name-based, so every node that receives
   * the same key reaches the same single-writer entity. It must never change: a stored
   * event is found again only through it.
   */
  public static String eventId(String tenantId, String idempotencyKey) {
    return UUID.nameUUIDFromBytes((tenantId + "\n" + idempotencyKey).getBytes(StandardCharsets.UTF_8))
        .toString();
  }

  /**
   * The endpoints an event goes to. A targeted event ({@code onlyEndpoint} not null) goes to
   * that endpoint whatever its filter; any other to every enabled endpoint whose
   * {@code event_types} subscribe to its type.
   */
  static List<String> targets(List<Subscription> enabled, String type, UUID onlyEndpoint) {
    return enabled.stream()
        .filter(
            s -> onlyEndpoint != null
                ? UUID.fromString(s.endpointId()).equals(onlyEndpoint)
                : EventTypeFilter.subscribes(s.eventTypes(), type))
        .map(Subscription::endpointId)
        .toList();
  }

  /** The entity's answer as an ingest result. */
  static IngestResult result(EventEntity.AcceptReply reply, NewEvent event) {
    if (reply instanceof EventEntity.Accepted a) {
      return a.replayed() ? new IngestResult.Replayed(a.eventId()) : new IngestResult.Accepted(a.eventId());
    }
    if (reply instanceof EventEntity.Conflict c) return new IngestResult.KeyConflict(c.eventId());
    // Nothing to deliver to: the targeted endpoint was not among the enabled ones, or no
    // enabled endpoint subscribes to the type.
    return event.endpointId() != null
        ? new IngestResult.EndpointUnavailable(event.endpointId())
        : new IngestResult.NoSubscribers(event.type());
  }

  /**
   * Asks the entity to accept, and asks again after {@code resendAfter} without an answer,
   * until the deadline. Sharding delivers at most once: it drops a message that reaches a
   * shard between the start and the end of its hand-off to another node. The entity answers
   * a resend of the same request (same request id) as it answered the first, so the
   * producer sees one 202 and no 503.
   */
  private CompletionStage<EventEntity.AcceptReply> askAccept(
      EntityRef<EventEntity.Command> entity,
      Function<ActorRef<EventEntity.AcceptReply>, EventEntity.Accept> accept,
      Instant deadline) {
    Duration left = Duration.between(Instant.now(), deadline);
    Duration resendAfter = settings.resendAfter();
    return entity
        .<EventEntity.AcceptReply>ask(accept::apply, left.compareTo(resendAfter) < 0 ? left : resendAfter)
        .handleAsync(
            (reply, error) -> {
              if (error == null) return CompletableFuture.completedStage(reply);
              Throwable cause = error instanceof CompletionException ? error.getCause() : error;
              if (cause instanceof TimeoutException && Instant.now().isBefore(deadline)) {
                return askAccept(entity, accept, deadline);
              }
              return CompletableFuture.<EventEntity.AcceptReply>failedStage(error);
            },
            ec)
        .thenComposeAsync(stage -> stage, ec);
  }

  /**
   * While a member is unreachable, its shards answer nothing until the split brain resolver
   * has moved them: give up (503) quickly rather than after the whole ask timeout. A write
   * that lands late is harmless; the client's retry with the same key gets it back.
   */
  private Duration acceptTimeout() {
    // A member that is leaving gracefully may look unreachable as it shuts down; its
    // shards are being handed over, not lost: the normal timeout applies.
    boolean lost = false;
    for (Member m : Cluster.get(system).state().getUnreachable()) {
      lost |= m.status() != MemberStatus.leaving() && m.status() != MemberStatus.exiting();
    }
    return lost ? settings.askTimeoutWhileUnreachable() : settings.askTimeout();
  }

  /** A lookup with no answer in time is storage unavailable, like one that failed. */
  private static <T> T lookupFailed(Throwable error) {
    Throwable cause = error instanceof CompletionException ? error.getCause() : error;
    if (cause instanceof TimeoutException) {
      throw new CompletionException(new DatabaseUnavailable(
          new SQLTransientConnectionException("the fan-out lookup had no answer within the ask timeout")));
    }
    throw error instanceof CompletionException c ? c : new CompletionException(error);
  }

  private static UUID uuidOrNull(String id) {
    try {
      return UUID.fromString(id);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String sha256(byte[] body) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
