package io.zyven.app.http;

import com.fasterxml.jackson.databind.util.RawValue;
import io.zyven.app.json.Json;
import io.zyven.app.metrics.Metrics;
import io.zyven.app.event.EventEntity;
import io.zyven.app.ingest.IdempotencyKey;
import io.zyven.app.ingest.IngestResult;
import io.zyven.app.ingest.IngestService;
import io.zyven.app.ingest.NewEvent;
import io.zyven.app.readmodel.EventOwners;
import io.zyven.app.readmodel.ExpungedPayloads;
import io.zyven.app.readmodel.ReadModelQueries;
import io.zyven.protocol.EventApi.AttemptView;
import io.zyven.protocol.EventApi.AuditView;
import io.zyven.protocol.EventApi.DeliveryView;
import io.zyven.protocol.EventApi.EventAccepted;
import io.zyven.protocol.EventApi.EventView;
import io.zyven.protocol.EventJournal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * {@code POST /v1/events} (ingest, decided by {@link IngestService}), {@code GET
 * /v1/events/{id}} (from the entity, never stale) and {@code GET /v1/events/{id}/audit}
 * (from the journal).
 *
 * <p>Every stage runs on the actor system's dispatcher: the stages that {@code ask} returns
 * would otherwise run their callbacks on the common pool, which on two cores starts a new
 * thread for every task.
 */
final class EventRoutes {
  private static final String REPLAYED_HEADER = "Idempotent-Replayed";

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final IngestService ingest;
  private final ReadModelQueries queries;
  private final EventOwners owners;
  private final ExpungedPayloads expunged;
  private final JdbcReadJournal journal;
  private final Executor ec;
  private final long maxBody;
  private final Duration askTimeout;

  EventRoutes(
      ActorSystem<?> system,
      IngestService ingest,
      ReadModelQueries queries,
      EventOwners owners,
      ExpungedPayloads expunged,
      long maxBody,
      Duration askTimeout) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.ingest = ingest;
    this.queries = queries;
    this.owners = owners;
    this.expunged = expunged;
    this.journal =
        PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    this.ec = system.executionContext();
    this.maxBody = maxBody;
    this.askTimeout = askTimeout;
  }

  // ---- ingest: 415, 413, 400, then the service decides 202 / 200 / 409 / 422 ----

  CompletionStage<HttpResponse> ingest(Principal principal, HttpRequest request) {
    principal.requireAllEndpoints("send events");
    return Bodies.json(request.entity(), maxBody, askTimeout, system, ec)
        .thenComposeAsync(
            body -> {
              // The documented order: a bad key is reported before a bad body.
              IdempotencyKey key = idempotencyKey(request);
              IngestBody event = IngestBody.parse(body);
              return ingest.ingest(
                  principal.tenantId(), key, new NewEvent(event.type(), event.payload(), event.endpointId()), body,
                  request.getHeader("traceparent").map(HttpHeader::value).orElse(null));
            },
            ec)
        .thenApplyAsync(EventRoutes::ingestResponse, ec);
  }

  private static HttpResponse ingestResponse(IngestResult result) {
    if (result instanceof IngestResult.Accepted a) {
      Metrics.increment("zyven_events_accepted_total");
      return Responses.json(202, EventAccepted.of(a.eventId()));
    }
    if (result instanceof IngestResult.Replayed r) {
      return Responses.json(200, EventAccepted.of(r.eventId())).addHeader(RawHeader.create(REPLAYED_HEADER, "true"));
    }
    if (result instanceof IngestResult.KeyConflict c) {
      throw Problems.idempotencyConflict(
          "this Idempotency-Key was already used with a different body (event " + c.eventId() + ")");
    }
    if (result instanceof IngestResult.NoSubscribers n) {
      throw Problems.noSubscribers("no enabled endpoint subscribes to type " + Problems.quote(n.type()));
    }
    if (result instanceof IngestResult.EndpointUnavailable u) {
      throw Problems.endpointUnavailable(
          "endpoint " + Problems.quote(u.endpointId()) + " is unknown, disabled or pending verification");
    }
    throwCatalogueRefusal(result);
    throw new IllegalStateException("unexpected ingest result " + result);
  }

  /** Throws the problem for a refusal by the tenant's event-type catalogue; any other result passes. */
  static void throwCatalogueRefusal(IngestResult result) {
    if (result instanceof IngestResult.TypeRefused t) {
      throw Problems.eventTypeRefused(t.archived(), t.archived()
          ? "event type " + Problems.quote(t.type()) + " is archived in this tenant's catalogue"
          : "event type " + Problems.quote(t.type()) + " is not in this tenant's catalogue, and the tenant requires registered types");
    }
    if (result instanceof IngestResult.SchemaViolation v) {
      throw Problems.schemaViolation(
          "the payload does not match the schema of event type " + Problems.quote(v.type()) + " ("
              + v.violations().size() + (v.violations().size() == 1 ? " violation)" : " violations)"),
          v.violations());
    }
    if (result instanceof IngestResult.SchemaTooComplex c) {
      throw Problems.unprocessable(
          "the payload could not be checked against the schema of event type " + Problems.quote(c.type())
              + " within the validator's limits (evaluation steps, depth, or a pattern's time)");
    }
  }

  private static IdempotencyKey idempotencyKey(HttpRequest request) {
    try {
      return new IdempotencyKey(request.getHeader("Idempotency-Key").map(HttpHeader::value).orElse(null));
    } catch (IdempotencyKey.Invalid e) {
      throw Problems.badRequest(
          switch (e.reason()) {
            case MISSING -> "the Idempotency-Key header is required";
            case MALFORMED -> "Idempotency-Key must be 1-" + IdempotencyKey.MAX_LENGTH + " printable ASCII characters";
          });
    }
  }

  // ---- reads ----

  /**
   * {@code GET /v1/events/{id}/attempts}: every attempt of the event, in pages, from the
   * read model (the entity keeps only each delivery's latest attempts). A token limited to
   * some endpoints sees only theirs; another tenant's event is 404, checked first.
   */
  CompletionStage<HttpResponse> attempts(Principal principal, String pathId, HttpRequest request) {
    String id = Ids.canonical(pathId, "event");
    AttemptListRequest query = AttemptListRequest.parse(request.getUri().query().toMap());
    Set<String> endpointIds = principal.endpointIds();
    if (query.endpointId() != null) {
      principal.requireEndpoint(query.endpointId());
      endpointIds = Set.of(query.endpointId());
    }
    return queries
        .attempts(principal.tenantId(), id, endpointIds, query.limit(), query.cursor())
        .thenApplyAsync(
            page -> {
              if (page == null) throw notFound(id);
              return Responses.json(200, page);
            },
            ec);
  }

  /** {@code GET /v1/events}: from the read model (which trails the journal slightly). */
  CompletionStage<HttpResponse> list(Principal principal, HttpRequest request) {
    ListRequest query = ListRequest.parse(QueryParameters.single(request));
    if (query.filter().endpointId() != null) principal.requireEndpoint(query.filter().endpointId());
    // A token limited to some endpoints lists only the events that have a delivery to one of them.
    return queries
        .listEvents(principal.tenantId(), query.filter().onlyEndpoints(principal.endpointIds()), query.limit(), query.cursor())
        .thenApplyAsync(page -> Responses.json(200, page), ec);
  }

  /**
   * The event as its entity has it. A token limited to some endpoints sees only their
   * deliveries, and an event with none of them is, for it, not there.
   */
  CompletionStage<HttpResponse> get(Principal principal, String pathId) {
    String id = Ids.canonical(pathId, "event");
    return owned(principal, id)
        .thenComposeAsync(owned -> sharding
            .entityRefFor(EventEntity.TYPE_KEY, id)
            .<EventEntity.GetReply>ask(replyTo -> new EventEntity.Get(principal.tenantId(), replyTo), askTimeout), ec)
        .thenApplyAsync(
            reply -> {
              if (!(reply instanceof EventEntity.Found found)) throw notFound(id);
              EventView view = view(found.state(), principal);
              if (view.deliveries().isEmpty() && principal.restricted()) throw notFound(id);
              return Responses.json(200, view);
            },
            ec);
  }

  static EventView view(EventEntity.State s, Principal principal) {
    List<DeliveryView> deliveries =
        s.deliveries().values().stream()
            .filter(d -> principal.allows(d.endpointId()))
            .map(
                d ->
                    new DeliveryView(
                        d.endpointId(),
                        d.status(),
                        d.attemptCount(),
                        d.nextAttemptAt(),
                        d.lastError(),
                        d.attempts().stream().map(AttemptView::of).toList()))
            .toList();
    EventJournal.Received r = s.received();
    return new EventView(r.eventId(), r.type(), s.status(), r.payload(), r.at(), s.payloadExpungedAt(), deliveries);
  }

  /**
   * {@code POST /v1/events/{id}/replay {endpoint_id?}}: dead-lettered (or, failing those,
   * delivered) deliveries go back to DISPATCHING; journaled with who asked.
   */
  CompletionStage<HttpResponse> replay(Principal principal, String pathId, byte[] body) {
    String id = Ids.canonical(pathId, "event");
    String endpointId = principal.requireNamedEndpoint(ReplayRequest.endpointId(body), "replay");
    return startDeliveries(
        principal,
        id,
        replyTo -> new EventEntity.Replay(principal.tenantId(), endpointId, false, principal.by(), replyTo),
        () -> Problems.nothingToReplay("nothing to replay: " + (endpointId != null
            ? "endpoint " + endpointId + " has no dead-lettered or delivered delivery of this event"
            : "no delivery of this event is dead-lettered or delivered")));
  }

  /**
   * {@code POST /v1/events/{id}/retry {endpoint_id?}}: deliveries waiting for a retry are
   * attempted now; journaled with who asked.
   */
  CompletionStage<HttpResponse> retryNow(Principal principal, String pathId, byte[] body) {
    String id = Ids.canonical(pathId, "event");
    String endpointId = principal.requireNamedEndpoint(ReplayRequest.endpointId(body), "retry");
    return startDeliveries(
        principal,
        id,
        replyTo -> new EventEntity.RetryNow(principal.tenantId(), endpointId, principal.by(), replyTo),
        () -> Problems.nothingToRetry("nothing to retry: " + (endpointId != null
            ? "the delivery to endpoint " + endpointId + " is not waiting for a retry"
            : "no delivery of this event is waiting for a retry (RETRY_SCHEDULED)")));
  }

  /** Asks the event to start deliveries: 202 with the ones it started, 404, or 409. */
  private CompletionStage<HttpResponse> startDeliveries(
      Principal principal,
      String id,
      Function<ActorRef<EventEntity.StartReply>, EventEntity.Command> command,
      Supplier<Problems.ApiException> nothingToDo) {
    return owned(principal, id)
        .thenComposeAsync(owned -> sharding
            .entityRefFor(EventEntity.TYPE_KEY, id)
            .<EventEntity.StartReply>ask(command::apply, askTimeout), ec)
        .thenApplyAsync(
            reply -> {
              if (reply instanceof EventEntity.DeliveriesStarted started) {
                return Responses.json(202, new DeliveriesAccepted(id, started.endpointIds()));
              }
              if (reply instanceof EventEntity.NoSuchEvent) throw notFound(id);
              if (reply instanceof EventEntity.PayloadGone) {
                throw Problems.payloadExpunged("the payload of event " + id + " was expunged: there is nothing to send");
              }
              throw nothingToDo.get();
            },
            ec);
  }

  record DeliveriesAccepted(String eventId, List<String> endpointIds) {}

  /**
   * {@code DELETE /v1/events/{id}/payload}: the entity journals who expunged the payload
   * (and dead-letters what is not finished), then the event's {@code Received} journal row
   * is rewritten without it. 204, also when it was expunged before (nothing is journaled
   * again, but the row is rewritten again: that heals a rewrite lost to a crash).
   */
  CompletionStage<HttpResponse> expunge(Principal principal, String pathId) {
    String id = Ids.canonical(pathId, "event");
    principal.requireAllEndpoints("expunge a payload");
    return owned(principal, id)
        .thenComposeAsync(owned -> sharding
            .entityRefFor(EventEntity.TYPE_KEY, id)
            .<EventEntity.ExpungeReply>ask(
                replyTo -> new EventEntity.ExpungePayload(principal.tenantId(), principal.by(), replyTo), askTimeout), ec)
        .thenComposeAsync(
            reply -> {
              if (!(reply instanceof EventEntity.Expunged done)) throw notFound(id);
              return expunged.rewrite(done.received());
            },
            ec)
        .thenApplyAsync(rows -> HttpResponse.create().withStatus(204), ec);
  }

  /**
   * Every journaled transition of the event, in order, read from the journal itself. A
   * token limited to some endpoints sees only their transitions, and only events that have
   * a delivery to one of them.
   */
  CompletionStage<HttpResponse> audit(Principal principal, String pathId) {
    String id = Ids.canonical(pathId, "event");
    String persistenceId = PersistenceId.of(EventEntity.TYPE_KEY.name(), id).id();
    return owned(principal, id)
        .thenComposeAsync(owned -> journal
            .currentEventsByPersistenceId(persistenceId, 0L, Long.MAX_VALUE)
            .runWith(Sink.seq(), system), ec)
        .thenApplyAsync(
            envelopes -> {
              boolean visible =
                  !envelopes.isEmpty()
                      && envelopes.get(0).event() instanceof EventJournal.Received r
                      && r.tenantId().equals(principal.tenantId())
                      && (!principal.restricted() || r.endpointIds().stream().anyMatch(principal::allows));
              if (!visible) throw notFound(id);
              List<Map<String, Object>> entries = new ArrayList<>();
              for (EventEnvelope e : envelopes) {
                if (e.event() instanceof EventJournal.DeliveryTransition t && !principal.allows(t.endpointId())) {
                  continue;
                }
                Map<String, Object> entry = entry(e);
                if (e.event() instanceof EventJournal.Received r) {
                  entry.put("endpoint_ids", r.endpointIds().stream().filter(principal::allows).toList());
                }
                entries.add(entry);
              }
              return Responses.json(200, new AuditView(id, entries));
            },
            ec);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> entry(EventEnvelope envelope) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("sequence_nr", envelope.sequenceNr());
    entry.put("timestamp", Instant.ofEpochMilli(envelope.timestamp()).toString());
    entry.put("type", envelope.event().getClass().getSimpleName());
    Map<String, Object> fields = Json.MAPPER.convertValue(envelope.event(), Map.class);
    fields.remove("tenant_id"); // the caller is the tenant
    Object eventType = fields.remove("type");
    if (eventType != null) fields.put("event_type", eventType);
    if (envelope.event() instanceof EventJournal.Received r) {
      // Written as the bytes accepted (they were JSON then), like GET /v1/events/{id} does:
      // a tree would be nested deeper than the writer allows for a payload as deep as
      // ingest takes, nested inside this answer.
      fields.put("payload", r.payload() == null ? null : new RawValue(r.payload()));
    }
    if (envelope.event() instanceof EventJournal.DeliveryTransition t) {
      fields.put("status", t.to());
    }
    entry.putAll(fields);
    return entry;
  }

  /**
   * Completes when the event is the caller's tenant's, and fails with 404 otherwise (also
   * when there is no such event), having read only who owns it: nothing of another
   * tenant's event is read, and its entity is not started (which would resume its deliveries).
   */
  private CompletionStage<Void> owned(Principal principal, String id) {
    return owners
        .owner(id)
        .thenAcceptAsync(
            owner -> {
              if (owner.isEmpty() || !owner.get().equalsIgnoreCase(principal.tenantId())) throw notFound(id);
            },
            ec);
  }

  private static Problems.ApiException notFound(String id) {
    return Problems.notFound("no event " + id);
  }
}
