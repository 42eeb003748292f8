package io.zyven.app.delivery;

import io.zyven.app.delivery.DeliveryPolicy.Verdict;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.CborSerializable;
import io.zyven.protocol.DeliveryStatus;
import io.zyven.protocol.EventJournal;
import io.zyven.protocol.EventJournal.DeliveryTransition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * The state machine of one (event, endpoint) delivery, and the only place that says which
 * transitions are legal:
 *
 * <pre>
 * RECEIVED ─▶ DISPATCHING ─┬─▶ DELIVERED ───────────────┐
 *                          ├─▶ RETRY_SCHEDULED ─▶ DISPATCHING … (capped)
 *                          ├─▶ DEAD_LETTERED ──(replay)──┴─▶ DISPATCHING
 *                          └─▶ CANCELLED (the endpoint's transformation chose not to send)
 * </pre>
 *
 * and an expunged payload takes any delivery not yet finished to DEAD_LETTERED (there is
 * nothing left to send).
 *
 * {@link #step} is pure: given a delivery, an input, the time, the endpoint's budget and a
 * source of randomness, it returns the transition to journal, or why there is none. What a
 * result means and when to retry is the {@link DeliveryPolicy}'s. {@link #apply} is the
 * fold of journaled transitions: the event entity and the read-model projection both use
 * it, so neither derives a state of its own.
 */
public final class DeliveryMachine {

  /**
   * One delivery as its transitions left it. {@code budgetBase} is the attempt count when
   * the last replay began: attempts since then count against the endpoint's
   * {@code max_attempts}.
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

    public static Delivery received(String endpointId) {
      return new Delivery(endpointId, DeliveryStatus.RECEIVED, 0, 0, null, null, List.of());
    }

    public boolean isTerminal() {
      return status.isTerminal();
    }

    /** Waiting to start its next attempt, and that time has come. */
    public boolean attemptDue(Instant now) {
      return status == DeliveryStatus.RECEIVED
          || (status == DeliveryStatus.RETRY_SCHEDULED && (nextAttemptAt == null || !nextAttemptAt.isAfter(now)));
    }

    /** Nothing to do before {@code t}: finished, or waiting for a retry after it. */
    public boolean idleUntilAfter(Instant t) {
      return isTerminal() || (status == DeliveryStatus.RETRY_SCHEDULED && nextAttemptAt.isAfter(t));
    }

    /** Attempt {@code number} is the one out now. */
    public boolean dispatching(int number) {
      return status == DeliveryStatus.DISPATCHING && attemptCount == number;
    }
  }

  // ---- inputs ----

  public sealed interface Input {}

  /**
   * Start what is due by now: on resume or wake, a RECEIVED delivery (of an older
   * journal) or a retry whose time has come by the clock.
   */
  public record AttemptDue(String reason) implements Input {}

  /**
   * The timer set for a scheduled retry fired: the retry starts. The timer, set from the
   * same schedule, has judged the time.
   */
  public record RetryDue() implements Input {}

  /** An operator asks for a scheduled retry now. */
  public record RetryNow(String by) implements Input {}

  /** An operator sends a terminal delivery again (recover: dead letters only). */
  public record Replay(String by, boolean deadLettersOnly) implements Input {}

  /**
   * The event's payload was expunged: there is nothing left to send, so a delivery not yet
   * finished is dead-lettered. An attempt out now is not waited for: its outcome, if it
   * comes, is stale.
   */
  public record PayloadExpunged(String by) implements Input {}

  /** The endpoint made the attempt, and this is what came back. */
  public record Outcome(Attempt attempt, Duration retryAfter) implements Input {}

  /** The endpoint did not make the attempt and asks to come back at {@code until}. */
  public record Deferral(int attempt, Instant until, String reason) implements Input {}

  /** The endpoint will never make it: it is disabled or deleted, or its transformation failed. */
  public record Refusal(int attempt, String reason) implements Input {}

  /** The endpoint's transformation cancelled the attempt: it is not sent, and that is no failure. */
  public record Cancel(int attempt, String reason) implements Input {}

  /** No outcome came back for the attempt within its time. */
  public record LostReply(int attempt) implements Input {}

  /** The event moves to another node before the attempt's outcome came back. */
  public record HandOff(int attempt) implements Input {}

  // ---- results ----

  public sealed interface Step {}

  public record Persist(DeliveryTransition transition) implements Step {}

  public record Refused(Why why) implements Step {}

  /** Why an input changes nothing. */
  public enum Why {
    /** About an attempt the delivery has moved past (late reply, timed out, replayed). */
    STALE,
    /** No attempt is due: it is running, scheduled later, or finished. */
    NOT_DUE,
    /** Retry now, but no retry is scheduled. */
    NOT_WAITING,
    /** Replay, but the delivery is not finished (or, for recover, not dead-lettered). */
    NOT_REPLAYABLE,
    /** Payload expunged, but the delivery is finished already: it stays as it is. */
    FINISHED
  }

  /** The reason a delivery is dead-lettered when its event's payload is expunged. */
  public static final String PAYLOAD_EXPUNGED = "payload expunged";

  private final DeliveryPolicy policy;

  public DeliveryMachine(DeliveryPolicy policy) {
    this.policy = policy;
  }

  /** The transition that {@code input} causes, or why it causes none. */
  public Step step(Delivery d, Input input, Instant now, int maxAttempts, RandomGenerator random) {
    String id = d.endpointId();
    int next = d.attemptCount() + 1;
    if (input instanceof AttemptDue due) {
      return d.attemptDue(now)
          ? persist(new EventJournal.DispatchStarted(id, next, due.reason(), now))
          : refused(Why.NOT_DUE);
    }
    if (input instanceof RetryDue) {
      return d.status() == DeliveryStatus.RETRY_SCHEDULED
          ? persist(new EventJournal.DispatchStarted(id, next, "retry due", now))
          : refused(Why.NOT_DUE);
    }
    if (input instanceof RetryNow retry) {
      // The attempt the schedule would make next, only sooner: it spends no more budget.
      return d.status() == DeliveryStatus.RETRY_SCHEDULED
          ? persist(new EventJournal.RetryRequested(id, next, retry.by(), "retry now", now))
          : refused(Why.NOT_WAITING);
    }
    if (input instanceof Replay replay) {
      boolean replayable =
          replay.deadLettersOnly() ? d.status() == DeliveryStatus.DEAD_LETTERED : d.isTerminal();
      return replayable
          ? persist(new EventJournal.Replayed(id, next, replay.by(), "operator replay", now))
          : refused(Why.NOT_REPLAYABLE);
    }
    if (input instanceof PayloadExpunged) {
      // No attempt belongs to this decision: none is made, and one out now is not judged.
      return d.isTerminal()
          ? refused(Why.FINISHED)
          : persist(new EventJournal.DeadLettered(id, null, PAYLOAD_EXPUNGED, now));
    }
    if (input instanceof Outcome outcome) {
      Attempt a = outcome.attempt();
      if (!d.dispatching(a.number())) return refused(Why.STALE);
      return persist(judge(d, a, DeliveryPolicy.classify(a.statusCode()), outcome.retryAfter(), maxAttempts, now, random));
    }
    if (input instanceof Deferral deferral) {
      if (!d.dispatching(deferral.attempt())) return refused(Why.STALE);
      Instant at = policy.comeBackAt(now, deferral.until(), random);
      return persist(new EventJournal.AttemptDeferred(id, deferral.attempt(), at, deferral.reason(), now));
    }
    if (input instanceof Refusal refusal) {
      if (!d.dispatching(refusal.attempt())) return refused(Why.STALE);
      Attempt notSent = new Attempt(refusal.attempt(), now, null, 0, refusal.reason() + "; not sent", null);
      return persist(new EventJournal.DeadLettered(id, notSent, refusal.reason(), now));
    }
    if (input instanceof Cancel cancel) {
      if (!d.dispatching(cancel.attempt())) return refused(Why.STALE);
      return persist(new EventJournal.Cancelled(id, cancel.attempt(), cancel.reason(), now));
    }
    if (input instanceof LostReply lost) {
      if (!d.dispatching(lost.attempt())) return refused(Why.STALE);
      Attempt noReply = new Attempt(lost.attempt(), now, null, 0, DeliveryPolicy.NO_REPLY, null);
      return persist(judge(d, noReply, Verdict.RETRYABLE, null, maxAttempts, now, random));
    }
    HandOff handOff = (HandOff) input;
    if (!d.dispatching(handOff.attempt())) return refused(Why.STALE);
    // Due now, so the event's next home sends it again at once; the receiver is not to
    // blame, so the attempt's number is given back.
    return persist(
        new EventJournal.AttemptDeferred(
            id, handOff.attempt(), now, "outcome not back before the event moved to another node", now));
  }

  private DeliveryTransition judge(
      Delivery d, Attempt a, Verdict verdict, Duration retryAfter, int maxAttempts, Instant now, RandomGenerator random) {
    int inBudget = d.attemptCount() - d.budgetBase();
    DeliveryPolicy.Decision decision =
        policy.decide(verdict, a.statusCode(), inBudget, maxAttempts, retryAfter, now, random);
    if (decision instanceof DeliveryPolicy.Deliver) {
      return new EventJournal.Delivered(d.endpointId(), a, "HTTP " + a.statusCode(), now);
    }
    if (decision instanceof DeliveryPolicy.Retry retry) {
      return new EventJournal.RetryScheduled(d.endpointId(), a, retry.at(), retry.reason(), now);
    }
    return new EventJournal.DeadLettered(d.endpointId(), a, ((DeliveryPolicy.DeadLetter) decision).reason(), now);
  }

  private static Step persist(DeliveryTransition t) {
    return new Persist(t);
  }

  private static Step refused(Why why) {
    return new Refused(why);
  }

  /**
   * The deliveries a replay without an endpoint sends again: the dead-lettered ones, or,
   * when there are none and the operator did not ask for dead letters only, the delivered.
   */
  public static List<Delivery> replayCandidates(Collection<Delivery> deliveries, boolean deadLettersOnly) {
    List<Delivery> dead = withStatus(deliveries, DeliveryStatus.DEAD_LETTERED);
    return dead.isEmpty() && !deadLettersOnly ? withStatus(deliveries, DeliveryStatus.DELIVERED) : dead;
  }

  private static List<Delivery> withStatus(Collection<Delivery> deliveries, DeliveryStatus status) {
    return deliveries.stream().filter(d -> d.status() == status).toList();
  }

  // ---- the fold ----

  /**
   * The deliveries an accepted event starts with, in fan-out order: RECEIVED, or, when the
   * acceptance started the first attempts, DISPATCHING attempt 1.
   */
  public static Map<String, Delivery> accepted(EventJournal.Received r) {
    Map<String, Delivery> deliveries = new LinkedHashMap<>();
    for (String endpointId : r.endpointIds()) {
      Delivery d = Delivery.received(endpointId);
      deliveries.put(endpointId, r.firstAttemptStarted() ? starting(d, 1, 0) : d);
    }
    return deliveries;
  }

  /**
   * A journaled transition applied to the delivery it names. Total: the journal is the
   * truth, so this never refuses; {@link #step} alone decides what may be journaled. Every
   * attempt is kept in {@link Delivery#attempts}.
   */
  public static Delivery apply(Delivery d, DeliveryTransition t) {
    return apply(d, t, Integer.MAX_VALUE);
  }

  /**
   * The same, keeping only the last {@code attemptsKept} attempts in {@link
   * Delivery#attempts} (each holds up to 4 KiB of response, and replays add attempts
   * without end). The journal keeps them all, and the read model lists them all; the count,
   * the budget and the last error do not depend on what is kept.
   */
  public static Delivery apply(Delivery d, DeliveryTransition t, int attemptsKept) {
    if (attemptsKept < 1) throw new IllegalArgumentException("attemptsKept must be at least 1");
    if (t instanceof EventJournal.DispatchStarted e) return starting(d, e.attempt(), d.budgetBase());
    if (t instanceof EventJournal.RetryRequested e) return starting(d, e.attempt(), d.budgetBase());
    // A replay opens a fresh budget: attempts from this one on count against it.
    if (t instanceof EventJournal.Replayed e) return starting(d, e.attempt(), e.attempt() - 1);
    if (t instanceof EventJournal.Delivered e) {
      return withAttempt(d, DeliveryStatus.DELIVERED, e.attempt(), null, attemptsKept);
    }
    if (t instanceof EventJournal.RetryScheduled e) {
      return withAttempt(d, DeliveryStatus.RETRY_SCHEDULED, e.attempt(), e.nextAttemptAt(), attemptsKept);
    }
    if (t instanceof EventJournal.DeadLettered e && e.attempt() == null) {
      return new Delivery(
          d.endpointId(), DeliveryStatus.DEAD_LETTERED, d.attemptCount(), d.budgetBase(), null, e.reason(), d.attempts());
    }
    if (t instanceof EventJournal.DeadLettered e) {
      return withAttempt(d, DeliveryStatus.DEAD_LETTERED, e.attempt(), null, attemptsKept);
    }
    if (t instanceof EventJournal.Cancelled) {
      // No attempt was made (its number is given back), and no error is left standing:
      // cancelling is not failing.
      return new Delivery(
          d.endpointId(), DeliveryStatus.CANCELLED, d.attemptCount() - 1, d.budgetBase(), null, null, d.attempts());
    }
    EventJournal.AttemptDeferred e = (EventJournal.AttemptDeferred) t;
    // The attempt was not made: its number is given back.
    return new Delivery(
        d.endpointId(), DeliveryStatus.RETRY_SCHEDULED, e.attempt() - 1, d.budgetBase(), e.nextAttemptAt(),
        e.reason(), d.attempts());
  }

  private static Delivery starting(Delivery d, int attempt, int budgetBase) {
    return new Delivery(
        d.endpointId(), DeliveryStatus.DISPATCHING, attempt, budgetBase, null, d.lastError(), d.attempts());
  }

  private static Delivery withAttempt(Delivery d, DeliveryStatus to, Attempt attempt, Instant next, int attemptsKept) {
    List<Attempt> before = d.attempts();
    int from = Math.max(0, before.size() + 1 - attemptsKept); // the oldest ones beyond the cap go
    List<Attempt> kept = new ArrayList<>(before.size() + 1 - from);
    kept.addAll(before.subList(from, before.size()));
    kept.add(attempt);
    return new Delivery(
        d.endpointId(), to, d.attemptCount(), d.budgetBase(), next, attempt.error(), List.copyOf(kept));
  }
}
