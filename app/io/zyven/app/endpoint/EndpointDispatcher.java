package io.zyven.app.endpoint;

import io.zyven.app.metrics.Metrics;
import io.zyven.app.delivery.DeliveryPolicy;
import io.zyven.app.delivery.DeliveryPolicy.Verdict;
import io.zyven.app.delivery.Dispatch;
import io.zyven.app.delivery.DispatchReply;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.EndpointConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Every request to one endpoint's URL goes through here: at most {@code max_in_flight} at
 * once, at most {@code rate_limit_per_second}, the rest queued (bounded, for a while); a
 * circuit breaker stops requests to an endpoint that keeps failing, and one failing for
 * {@code zyven.circuit.disable-after}, or answering 410, is disabled.
 *
 * <p>The decisions are {@link #step}: the time and one message in, the actions to take out,
 * with no I/O. The {@link #create actor} around it, a child of the endpoint's
 * {@link EndpointEntity}, carries the actions out: it sends through {@link WebhookClient}
 * on a pool of its own, answers the events, runs the drain timer, and asks the entity to
 * journal what must survive a restart. The gate and breaker counters live in memory only.
 */
public final class EndpointDispatcher {

  // ---- messages ----

  sealed interface Message {}

  /** The endpoint's config now ({@code null}: never created), after recovery and every change. */
  record Configure(EndpointConfig config, boolean deleted) implements Message {}

  /** The circuit was open when the endpoint last ran: the next request probes. */
  record RestoreCircuit(Instant failingSince) implements Message {}

  /**
   * The tenant enabled the endpoint: a fresh start. Changes decided before it are stale
   * (see {@link EndpointEntity.HealthChange#epoch}).
   */
  record ResetCircuit() implements Message {}

  /** Send one attempt of an event, and answer how it went. */
  record Deliver(Dispatch dispatch) implements Message {}

  /**
   * The event's payload was expunged: its attempts still waiting in the queue are dropped,
   * unsent and unanswered (the event has dead-lettered them already). One already sent
   * cannot be called back.
   */
  record Withdraw(String eventId) implements Message {}

  /** A request came back ({@code probe}: it was the half-open circuit's one probe). */
  record RequestDone(Dispatch dispatch, WebhookClient.Result result, boolean probe) implements Message {}

  /** Time to look at the queue again. */
  enum Drain implements Message {
    INSTANCE
  }

  /**
   * The entity is stopping (hand-off, passivation): requests already sent may finish first,
   * for at most {@code handOffWait}, so their outcomes reach the events; queued ones are
   * deferred, to be sent from the new home.
   */
  enum HandOff implements Message {
    INSTANCE
  }

  /**
   * The requests still out after {@code handOffWait} are left behind: a receiver that
   * never answers must not hold up a shutdown. Their events count them as lost replies.
   */
  enum HandOffOverdue implements Message {
    INSTANCE
  }

  /** The live parts of the health view; the journaled parts come from the entity. */
  record GetHealth(boolean enabled, Instant failingSince, ActorRef<EndpointEntity.Reply> replyTo)
      implements Message {}

  // ---- actions ----

  sealed interface Action {}

  /** Send the request ({@code probe}: as the circuit's probe), and tell back {@link RequestDone}. */
  record Send(Dispatch dispatch, EndpointConfig config, boolean probe) implements Action {}

  record Reply(Dispatch dispatch, DispatchReply reply) implements Action {}

  /** Ask the entity to journal a change of the endpoint's health. */
  record Journal(EndpointEntity.HealthChange change) implements Action {}

  record AnswerHealth(ActorRef<EndpointEntity.Reply> replyTo, EndpointEntity.Health health) implements Action {}

  /** Drain the queue every {@link #DRAIN_EVERY} while anything waits in it. */
  record ScheduleDrain() implements Action {}

  record CancelDrain() implements Action {}

  /** Send {@link HandOffOverdue} after this long. */
  record ScheduleHandOffDeadline(Duration after) implements Action {}

  /** Every request is back after a hand-off, or the rest are left behind. */
  record Stop() implements Action {}

  /**
   * Gate and breaker settings, from {@code zyven.delivery} and {@code zyven.circuit};
   * {@code transformationTime} is the longest a transformation waits for a runner, and then
   * runs, before its request ({@code zyven.transformation.wall-time}).
   */
  public record Settings(
      int queueLimit, Duration queueTimeout, CircuitBreaker.Settings circuit, Duration disableAfter,
      Duration handOffWait, Duration transformationTime) {

    public Settings(
        int queueLimit, Duration queueTimeout, CircuitBreaker.Settings circuit, Duration disableAfter,
        Duration handOffWait) {
      this(queueLimit, queueTimeout, circuit, disableAfter, handOffWait, Duration.ZERO);
    }
  }

  static final Duration DRAIN_EVERY = Duration.ofMillis(100);

  /** When a deferred attempt comes back if the endpoint was busy or moving. */
  static final Duration COME_BACK_AFTER = Duration.ofSeconds(1);

  // ---- state ----

  private final String endpointId;
  private final Settings settings;
  private final DeliveryGate<Dispatch> gate = new DeliveryGate<>();
  private final CircuitBreaker breaker;
  private EndpointConfig config; // null until the entity says: never created
  private boolean deleted;
  /** Disabling was asked for; until the entity's next config, nothing more is sent. */
  private boolean disabling;
  private int epoch;
  private boolean stopping;
  private boolean drainScheduled;

  EndpointDispatcher(String endpointId, Settings settings) {
    this.endpointId = endpointId;
    this.settings = settings;
    this.breaker = new CircuitBreaker(settings.circuit());
  }

  // ---- decisions ----

  /** What to do about {@code message} at {@code now}. */
  List<Action> step(Instant now, Message message) {
    List<Action> actions = new ArrayList<>();
    if (message instanceof Configure c) {
      config = c.config();
      deleted = c.deleted();
      disabling = false; // the entity's word is newer than the request to disable
    } else if (message instanceof RestoreCircuit r) {
      breaker.restoreOpen(r.failingSince(), now);
    } else if (message instanceof ResetCircuit) {
      breaker.onSuccess();
      epoch++;
    } else if (message instanceof Deliver d) {
      deliver(d.dispatch(), now, actions);
    } else if (message instanceof Withdraw w) {
      gate.remove(d -> d.request().eventId().equals(w.eventId()));
    } else if (message instanceof RequestDone done) {
      requestDone(done, now, actions);
    } else if (message instanceof Drain) {
      drain(now, actions);
    } else if (message instanceof HandOff) {
      handOff(now, actions);
    } else if (message instanceof HandOffOverdue) {
      if (stopping) actions.add(new Stop());
    } else {
      GetHealth get = (GetHealth) message;
      actions.add(new AnswerHealth(get.replyTo(), new EndpointEntity.Health(
          get.enabled(), breaker.position(now), get.failingSince(), gate.inFlight(), gate.waiting())));
    }
    keepDrainTimer(actions);
    return actions;
  }

  private void deliver(Dispatch d, Instant now, List<Action> actions) {
    if (stopping) {
      // Already on its way when the hand-off began: send it from the new home.
      deferBriefly(d, now, "endpoint moving to another node", actions);
    } else if (!accepting()) {
      refuse(d, actions);
    } else {
      admit(d, now, actions);
    }
  }

  /** Past the breaker, then past the in-flight limit and rate limit, or into the queue. */
  private void admit(Dispatch d, Instant now, List<Action> actions) {
    CircuitBreaker.Admission admission = breaker.admit(now);
    if (admission instanceof CircuitBreaker.Reject reject) {
      defer(d, reject.retryAt(), reject.reason(), actions);
    } else if (admission instanceof CircuitBreaker.Wait) {
      if (!gate.hold(d, now, limits())) deferBriefly(d, now, "endpoint queue full", actions);
    } else if (admission instanceof CircuitBreaker.Probe) {
      gate.forceStart();
      send(d, true, actions);
    } else {
      Boolean sendNow = gate.offer(d, now, limits());
      if (sendNow == null) deferBriefly(d, now, "endpoint queue full", actions);
      else if (sendNow) send(d, false, actions);
    }
  }

  private void requestDone(RequestDone done, Instant now, List<Action> actions) {
    gate.finished();
    if (done.result().notSent() != null) {
      notSent(done, now, actions);
      return;
    }
    Attempt attempt = done.result().attempt();
    // What counts as a failure, and what disables, is the policy's to say.
    Verdict verdict = DeliveryPolicy.classify(attempt.statusCode());
    if (DeliveryPolicy.isFailure(verdict)) {
      CircuitBreaker.Change moved = breaker.onFailure(done.probe(), now);
      Instant since = breaker.failingSince();
      if (enabled() && !now.isBefore(since.plus(settings.disableAfter()))) {
        disable("failing continuously since " + since, actions);
      } else if (moved == CircuitBreaker.Change.OPENED) {
        actions.add(new Journal(new EndpointEntity.OpenCircuit(epoch, since, attempt.error())));
      }
    } else {
      if (breaker.onSuccess() == CircuitBreaker.Change.CLOSED) {
        actions.add(new Journal(new EndpointEntity.CloseCircuit(epoch)));
      }
      if (DeliveryPolicy.disablesEndpoint(verdict) && enabled()) disable("410 Gone", actions);
    }
    int maxAttempts = config == null ? 1 : config.maxAttempts();
    reply(done.dispatch(), new DispatchReply.Outcome(endpointId, attempt, done.result().retryAfter(), maxAttempts), actions);
    slotFreed(now, actions);
  }

  /**
   * The transformation kept the request from being sent: it says nothing of the receiver's
   * health, and a probe not made leaves the next request to probe.
   */
  private void notSent(RequestDone done, Instant now, List<Action> actions) {
    breaker.probeNotMade(done.probe());
    WebhookClient.NotSent why = done.result().notSent();
    int attempt = done.dispatch().request().attempt();
    switch (why.kind()) {
      case CANCELLED -> reply(done.dispatch(), new DispatchReply.Cancelled(endpointId, attempt, why.reason()), actions);
      case FAILED -> reply(done.dispatch(), new DispatchReply.Refused(endpointId, attempt, why.reason()), actions);
      case BUSY -> deferBriefly(done.dispatch(), now, why.reason(), actions);
    }
    slotFreed(now, actions);
  }

  private void slotFreed(Instant now, List<Action> actions) {
    if (stopping) {
      if (gate.inFlight() == 0) actions.add(new Stop());
    } else {
      drain(now, actions); // a slot is free
    }
  }

  private void disable(String reason, List<Action> actions) {
    disabling = true;
    actions.add(new Journal(new EndpointEntity.Disable(epoch, reason)));
  }

  private void drain(Instant now, List<Action> actions) {
    if (config == null || stopping) return;
    DeliveryGate.Released<Dispatch> released = gate.drain(now, limits(), !breaker.awaitingProbe());
    for (Dispatch expired : released.expired()) {
      deferBriefly(expired, now, "endpoint busy: waited too long in its queue", actions);
    }
    for (Dispatch next : released.toSend()) {
      // Counted in flight by the gate already; the endpoint may have been disabled, or the
      // breaker opened, meanwhile.
      if (!accepting()) {
        gate.finished();
        refuse(next, actions);
        continue;
      }
      CircuitBreaker.Admission admission = breaker.admit(now);
      if (admission instanceof CircuitBreaker.Reject reject) {
        gate.finished();
        defer(next, reject.retryAt(), reject.reason(), actions);
      } else if (admission instanceof CircuitBreaker.Wait) {
        // Another request became the probe meanwhile: this one waits again.
        gate.finished();
        if (!gate.hold(next, now, limits())) deferBriefly(next, now, "endpoint queue full", actions);
      } else {
        send(next, admission instanceof CircuitBreaker.Probe, actions);
      }
    }
  }

  private void handOff(Instant now, List<Action> actions) {
    if (stopping) return;
    stopping = true;
    for (Dispatch d : gate.takeAll()) deferBriefly(d, now, "endpoint moving to another node", actions);
    actions.add(gate.inFlight() == 0 ? new Stop() : new ScheduleHandOffDeadline(settings.handOffWait()));
  }

  private void keepDrainTimer(List<Action> actions) {
    boolean needed = gate.hasWaiting() && !stopping;
    if (needed && !drainScheduled) actions.add(new ScheduleDrain());
    if (!needed && drainScheduled) actions.add(new CancelDrain());
    drainScheduled = needed;
  }

  // ---- answers ----

  private void send(Dispatch d, boolean probe, List<Action> actions) {
    // A transformation runs first: it may wait for a runner for up to its time, then run
    // for up to as long again. The event waits for that too.
    int timeoutMs =
        config.timeoutMs() + (config.transformation() != null ? 2 * (int) settings.transformationTime().toMillis() : 0);
    reply(d, new DispatchReply.Started(endpointId, d.request().attempt(), timeoutMs, config.maxAttempts()), actions);
    actions.add(new Send(d, config, probe));
  }

  /**
   * A disabled or deleted endpoint, or one whose verification has not passed, sends
   * nothing: the delivery fails permanently.
   */
  private void refuse(Dispatch d, List<Action> actions) {
    String why = config == null || deleted ? "endpoint deleted"
        : config.pendingVerification() ? "endpoint pending verification" : "endpoint disabled";
    reply(d, new DispatchReply.Refused(endpointId, d.request().attempt(), why), actions);
  }

  /** Busy or moving: the attempt comes back in a moment, unspent. */
  private void deferBriefly(Dispatch d, Instant now, String reason, List<Action> actions) {
    defer(d, now.plus(COME_BACK_AFTER), reason, actions);
  }

  // The raw time: the event's delivery machine spreads the comebacks.
  private void defer(Dispatch d, Instant until, String reason, List<Action> actions) {
    reply(d, new DispatchReply.Deferred(endpointId, d.request().attempt(), until, reason), actions);
  }

  private static void reply(Dispatch d, DispatchReply reply, List<Action> actions) {
    actions.add(new Reply(d, reply));
  }

  private boolean accepting() {
    return enabled() && !deleted && !config.pendingVerification();
  }

  private boolean enabled() {
    return config != null && config.enabled() && !disabling;
  }

  private DeliveryGate.Limits limits() {
    return new DeliveryGate.Limits(
        config.maxInFlight(), config.rateLimitPerSecond(), settings.queueLimit(), settings.queueTimeout());
  }

  // ---- the actor ----

  /**
   * The actor that carries out the decisions. {@code entity} is its parent, which journals
   * the health changes and watches it stop.
   */
  static Behavior<Message> create(
      String endpointId,
      ActorRef<EndpointEntity.HealthChange> entity,
      WebhookClient client,
      Settings settings,
      Clock clock) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  Shell shell = new Shell(new EndpointDispatcher(endpointId, settings), ctx, timers, entity, client, clock);
                  return Behaviors.receive(Message.class).onMessage(Message.class, shell::onMessage).build();
                }));
  }

  private static final class Shell {
    private final EndpointDispatcher dispatcher;
    private final ActorContext<Message> ctx;
    private final TimerScheduler<Message> timers;
    private final ActorRef<EndpointEntity.HealthChange> entity;
    private final WebhookClient client;
    private final WebhookClient.Pool pool;
    private final Clock clock;

    Shell(
        EndpointDispatcher dispatcher,
        ActorContext<Message> ctx,
        TimerScheduler<Message> timers,
        ActorRef<EndpointEntity.HealthChange> entity,
        WebhookClient client,
        Clock clock) {
      this.dispatcher = dispatcher;
      this.ctx = ctx;
      this.timers = timers;
      this.entity = entity;
      this.client = client;
      this.pool = client.newPool(); // connections of its own: see WebhookClient.Pool
      this.clock = clock;
    }

    Behavior<Message> onMessage(Message message) {
      boolean stop = false;
      for (Action action : dispatcher.step(clock.instant(), message)) {
        if (action instanceof Send s) {
          ctx.pipeToSelf(
              client.send(pool, s.config(), s.dispatch().request()),
              (result, error) -> new RequestDone(s.dispatch(), result != null ? result : failed(s.dispatch(), error), s.probe()));
        } else if (action instanceof Reply r) {
          count(r.reply());
          r.dispatch().replyTo().tell(r.reply());
        } else if (action instanceof Journal j) {
          entity.tell(j.change());
        } else if (action instanceof AnswerHealth h) {
          h.replyTo().tell(h.health());
        } else if (action instanceof ScheduleDrain) {
          timers.startTimerWithFixedDelay(Drain.INSTANCE, Drain.INSTANCE, DRAIN_EVERY);
        } else if (action instanceof CancelDrain) {
          timers.cancel(Drain.INSTANCE);
        } else if (action instanceof ScheduleHandOffDeadline h) {
          timers.startSingleTimer(HandOffOverdue.INSTANCE, h.after());
        } else {
          stop = true;
        }
      }
      return stop ? Behaviors.stopped() : Behaviors.same();
    }

    // The client never fails; should it, the attempt still ends, as a failure.
    private WebhookClient.Result failed(Dispatch d, Throwable error) {
      return new WebhookClient.Result(
          new Attempt(d.request().attempt(), clock.instant(), null, 0, String.valueOf(error), null), null);
    }

    private static void count(DispatchReply reply) {
      if (reply instanceof DispatchReply.Deferred) {
        Metrics.increment("zyven_deliveries_deferred_total");
      } else if (reply instanceof DispatchReply.Outcome o) {
        Verdict verdict = DeliveryPolicy.classify(o.attempt().statusCode());
        Metrics.attempt(verdict.name().toLowerCase(Locale.ROOT), o.attempt().statusCode(), o.attempt().latencyMs());
      }
    }
  }
}
