package io.zyven.app.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import io.zyven.app.delivery.DeliveryMachine.Delivery;
import io.zyven.app.delivery.DeliveryMachine.Input;
import io.zyven.app.delivery.DeliveryMachine.Persist;
import io.zyven.app.delivery.DeliveryMachine.Refused;
import io.zyven.app.delivery.DeliveryMachine.Step;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.DeliveryStatus;
import io.zyven.protocol.EventJournal;
import io.zyven.protocol.EventJournal.DeliveryTransition;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every delivery state against every input: what the machine journals, or why nothing. */
class DeliveryMachineTest {

  private static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");
  private static final DeliveryMachine MACHINE =
      new DeliveryMachine(
          new DeliveryPolicy(List.of(Duration.ofSeconds(5), Duration.ofSeconds(30)), 0.0, Duration.ofHours(1)));
  private static final int BUDGET = 3;
  private static final String EP = "ep-1";

  /**
   * The states: {@code RETRY_SCHEDULED_DUE} is a retry whose time has come, {@code
   * RETRY_SCHEDULED_LATER} one still waiting. Every delivery that made an attempt is at
   * attempt 1, so inputs about attempt 1 are about its current attempt.
   */
  private static Delivery in(String state) {
    return switch (state) {
      case "RECEIVED" -> Delivery.received(EP);
      case "DISPATCHING" -> delivery(DeliveryStatus.DISPATCHING, null);
      case "RETRY_SCHEDULED_DUE" -> delivery(DeliveryStatus.RETRY_SCHEDULED, NOW.minusSeconds(1));
      case "RETRY_SCHEDULED_LATER" -> delivery(DeliveryStatus.RETRY_SCHEDULED, NOW.plusSeconds(60));
      case "DELIVERED" -> delivery(DeliveryStatus.DELIVERED, null);
      case "DEAD_LETTERED" -> delivery(DeliveryStatus.DEAD_LETTERED, null);
      case "CANCELLED" -> delivery(DeliveryStatus.CANCELLED, null);
      default -> throw new IllegalArgumentException(state);
    };
  }

  private static Delivery delivery(DeliveryStatus status, Instant next) {
    return new Delivery(EP, status, 1, 0, next, null, List.of());
  }

  private static Input input(String name) {
    return switch (name) {
      case "AttemptDue" -> new DeliveryMachine.AttemptDue("due");
      case "RetryDue" -> new DeliveryMachine.RetryDue();
      case "RetryNow" -> new DeliveryMachine.RetryNow("ops");
      case "Replay" -> new DeliveryMachine.Replay("ops", false);
      case "ReplayDeadLetters" -> new DeliveryMachine.Replay("ops", true);
      case "Outcome2xx" -> new DeliveryMachine.Outcome(attempt(200), null);
      case "Outcome503" -> new DeliveryMachine.Outcome(attempt(503), null);
      case "Outcome400" -> new DeliveryMachine.Outcome(attempt(400), null);
      case "Outcome410" -> new DeliveryMachine.Outcome(attempt(410), null);
      case "NoResponse" -> new DeliveryMachine.Outcome(attempt(null), null);
      case "Deferral" -> new DeliveryMachine.Deferral(1, NOW.plusSeconds(10), "circuit open");
      case "Refusal" -> new DeliveryMachine.Refusal(1, "endpoint disabled");
      case "TransformFailed" -> new DeliveryMachine.Refusal(1, "transformation threw Error: no amount (line 2)");
      case "Cancel" -> new DeliveryMachine.Cancel(1, "cancelled by the endpoint's transformation");
      case "LostReply" -> new DeliveryMachine.LostReply(1);
      case "HandOff" -> new DeliveryMachine.HandOff(1);
      case "PayloadExpunged" -> new DeliveryMachine.PayloadExpunged("ops");
      default -> throw new IllegalArgumentException(name);
    };
  }

  private static Attempt attempt(Integer status) {
    return new Attempt(1, NOW, status, 12, status != null && status < 300 ? null : "failed", null);
  }

  @ParameterizedTest(name = "{0} + {1} -> {2}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          RECEIVED              | AttemptDue        | DispatchStarted
          RECEIVED              | RetryDue          | NOT_DUE
          RECEIVED              | RetryNow          | NOT_WAITING
          RECEIVED              | Replay            | NOT_REPLAYABLE
          RECEIVED              | ReplayDeadLetters | NOT_REPLAYABLE
          RECEIVED              | Outcome2xx        | STALE
          RECEIVED              | Outcome503        | STALE
          RECEIVED              | Outcome400        | STALE
          RECEIVED              | Outcome410        | STALE
          RECEIVED              | NoResponse        | STALE
          RECEIVED              | Deferral          | STALE
          RECEIVED              | Refusal           | STALE
          RECEIVED              | LostReply         | STALE
          RECEIVED              | HandOff           | STALE
          RECEIVED              | Cancel            | STALE
          RECEIVED              | PayloadExpunged   | DeadLettered
          DISPATCHING           | AttemptDue        | NOT_DUE
          DISPATCHING           | RetryDue          | NOT_DUE
          DISPATCHING           | RetryNow          | NOT_WAITING
          DISPATCHING           | Replay            | NOT_REPLAYABLE
          DISPATCHING           | ReplayDeadLetters | NOT_REPLAYABLE
          DISPATCHING           | Outcome2xx        | Delivered
          DISPATCHING           | Outcome503        | RetryScheduled
          DISPATCHING           | Outcome400        | DeadLettered
          DISPATCHING           | Outcome410        | DeadLettered
          DISPATCHING           | NoResponse        | RetryScheduled
          DISPATCHING           | Deferral          | AttemptDeferred
          DISPATCHING           | Refusal           | DeadLettered
          DISPATCHING           | LostReply         | RetryScheduled
          DISPATCHING           | HandOff           | AttemptDeferred
          DISPATCHING           | Cancel            | Cancelled
          DISPATCHING           | PayloadExpunged   | DeadLettered
          RETRY_SCHEDULED_DUE   | AttemptDue        | DispatchStarted
          RETRY_SCHEDULED_DUE   | RetryDue          | DispatchStarted
          RETRY_SCHEDULED_DUE   | RetryNow          | RetryRequested
          RETRY_SCHEDULED_DUE   | Replay            | NOT_REPLAYABLE
          RETRY_SCHEDULED_DUE   | ReplayDeadLetters | NOT_REPLAYABLE
          RETRY_SCHEDULED_DUE   | Outcome2xx        | STALE
          RETRY_SCHEDULED_DUE   | Outcome503        | STALE
          RETRY_SCHEDULED_DUE   | Outcome400        | STALE
          RETRY_SCHEDULED_DUE   | Outcome410        | STALE
          RETRY_SCHEDULED_DUE   | NoResponse        | STALE
          RETRY_SCHEDULED_DUE   | Deferral          | STALE
          RETRY_SCHEDULED_DUE   | Refusal           | STALE
          RETRY_SCHEDULED_DUE   | LostReply         | STALE
          RETRY_SCHEDULED_DUE   | HandOff           | STALE
          RETRY_SCHEDULED_DUE   | Cancel            | STALE
          RETRY_SCHEDULED_DUE   | PayloadExpunged   | DeadLettered
          RETRY_SCHEDULED_LATER | AttemptDue        | NOT_DUE
          RETRY_SCHEDULED_LATER | RetryDue          | DispatchStarted
          RETRY_SCHEDULED_LATER | RetryNow          | RetryRequested
          RETRY_SCHEDULED_LATER | Replay            | NOT_REPLAYABLE
          RETRY_SCHEDULED_LATER | ReplayDeadLetters | NOT_REPLAYABLE
          RETRY_SCHEDULED_LATER | Outcome2xx        | STALE
          RETRY_SCHEDULED_LATER | LostReply         | STALE
          RETRY_SCHEDULED_LATER | HandOff           | STALE
          RETRY_SCHEDULED_LATER | Cancel            | STALE
          RETRY_SCHEDULED_LATER | PayloadExpunged   | DeadLettered
          DELIVERED             | AttemptDue        | NOT_DUE
          DELIVERED             | RetryDue          | NOT_DUE
          DELIVERED             | RetryNow          | NOT_WAITING
          DELIVERED             | Replay            | Replayed
          DELIVERED             | ReplayDeadLetters | NOT_REPLAYABLE
          DELIVERED             | Outcome2xx        | STALE
          DELIVERED             | Outcome503        | STALE
          DELIVERED             | Outcome400        | STALE
          DELIVERED             | Outcome410        | STALE
          DELIVERED             | NoResponse        | STALE
          DELIVERED             | Deferral          | STALE
          DELIVERED             | Refusal           | STALE
          DELIVERED             | LostReply         | STALE
          DELIVERED             | HandOff           | STALE
          DELIVERED             | Cancel            | STALE
          DELIVERED             | PayloadExpunged   | FINISHED
          DEAD_LETTERED         | AttemptDue        | NOT_DUE
          DEAD_LETTERED         | RetryDue          | NOT_DUE
          DEAD_LETTERED         | RetryNow          | NOT_WAITING
          DEAD_LETTERED         | Replay            | Replayed
          DEAD_LETTERED         | ReplayDeadLetters | Replayed
          DEAD_LETTERED         | Outcome2xx        | STALE
          DEAD_LETTERED         | Outcome503        | STALE
          DEAD_LETTERED         | Outcome400        | STALE
          DEAD_LETTERED         | Outcome410        | STALE
          DEAD_LETTERED         | NoResponse        | STALE
          DEAD_LETTERED         | Deferral          | STALE
          DEAD_LETTERED         | Refusal           | STALE
          DEAD_LETTERED         | LostReply         | STALE
          DEAD_LETTERED         | HandOff           | STALE
          DEAD_LETTERED         | Cancel            | STALE
          DEAD_LETTERED         | PayloadExpunged   | FINISHED
          CANCELLED             | AttemptDue        | NOT_DUE
          CANCELLED             | RetryDue          | NOT_DUE
          CANCELLED             | RetryNow          | NOT_WAITING
          CANCELLED             | Replay            | Replayed
          CANCELLED             | ReplayDeadLetters | NOT_REPLAYABLE
          CANCELLED             | Outcome2xx        | STALE
          CANCELLED             | Outcome503        | STALE
          CANCELLED             | Deferral          | STALE
          CANCELLED             | Refusal           | STALE
          CANCELLED             | Cancel            | STALE
          CANCELLED             | LostReply         | STALE
          CANCELLED             | HandOff           | STALE
          CANCELLED             | PayloadExpunged   | FINISHED
          """)
  void everyStateAgainstEveryInput(String state, String input, String expected) {
    Step step = MACHINE.step(in(state), input(input), NOW, BUDGET, new SplittableRandom(1));
    if (step instanceof Persist p) {
      assertEquals(expected, p.transition().getClass().getSimpleName());
      assertEquals(EP, p.transition().endpointId());
      assertEquals(NOW, p.transition().at());
    } else {
      assertEquals(expected, ((Refused) step).why().name());
    }
  }

  // ---- what the transitions carry ----

  @Test
  void anAttemptAboutAnotherNumberIsStale() {
    Delivery d = new Delivery(EP, DeliveryStatus.DISPATCHING, 2, 0, null, null, List.of());
    assertEquals(new Refused(DeliveryMachine.Why.STALE), MACHINE.step(d, input("Outcome2xx"), NOW, BUDGET, new SplittableRandom(1)));
    assertEquals(new Refused(DeliveryMachine.Why.STALE), MACHINE.step(d, input("LostReply"), NOW, BUDGET, new SplittableRandom(1)));
  }

  @Test
  void startingCountsTheNextAttempt() {
    assertEquals(
        new EventJournal.DispatchStarted(EP, 1, "due", NOW), persisted(in("RECEIVED"), input("AttemptDue")));
    assertEquals(
        new EventJournal.DispatchStarted(EP, 2, "retry due", NOW), persisted(in("RETRY_SCHEDULED_LATER"), input("RetryDue")));
    assertEquals(
        new EventJournal.RetryRequested(EP, 2, "ops", "retry now", NOW), persisted(in("RETRY_SCHEDULED_LATER"), input("RetryNow")));
    assertEquals(
        new EventJournal.Replayed(EP, 2, "ops", "operator replay", NOW), persisted(in("DEAD_LETTERED"), input("Replay")));
  }

  @Test
  void aRetryableFailureWaitsTheBackoffAndTheLastOfTheBudgetDeadLetters() {
    DeliveryTransition retry = persisted(in("DISPATCHING"), input("Outcome503"));
    assertEquals(NOW.plusSeconds(5), ((EventJournal.RetryScheduled) retry).nextAttemptAt());

    Delivery last = new Delivery(EP, DeliveryStatus.DISPATCHING, BUDGET, 0, null, null, List.of());
    Step step = MACHINE.step(last, new DeliveryMachine.LostReply(BUDGET), NOW, BUDGET, new SplittableRandom(1));
    EventJournal.DeadLettered dead = (EventJournal.DeadLettered) ((Persist) step).transition();
    assertEquals("gave up after 3 attempts", dead.reason());
    assertEquals(DeliveryPolicy.NO_REPLY, dead.attempt().error());
  }

  @Test
  void goneDeadLettersWithTheReasonThatDisablesTheEndpoint() {
    EventJournal.DeadLettered dead = (EventJournal.DeadLettered) persisted(in("DISPATCHING"), input("Outcome410"));
    assertEquals("410 Gone: the endpoint is disabled", dead.reason());
  }

  @Test
  void aRefusalRecordsAnAttemptThatWasNotSent() {
    EventJournal.DeadLettered dead = (EventJournal.DeadLettered) persisted(in("DISPATCHING"), input("Refusal"));
    assertEquals("endpoint disabled", dead.reason());
    assertEquals(null, dead.attempt().statusCode());
    assertEquals("endpoint disabled; not sent", dead.attempt().error());
  }

  @Test
  void anExpungedPayloadDeadLettersWithoutAnAttemptAndKeepsTheCount() {
    Delivery waiting = new Delivery(EP, DeliveryStatus.RETRY_SCHEDULED, 2, 0, NOW.plusSeconds(60), "HTTP 503", List.of(attempt(503)));
    EventJournal.DeadLettered dead = (EventJournal.DeadLettered) persisted(waiting, input("PayloadExpunged"));
    assertEquals(DeliveryMachine.PAYLOAD_EXPUNGED, dead.reason());
    assertEquals(null, dead.attempt());

    Delivery after = DeliveryMachine.apply(waiting, dead);
    assertEquals(DeliveryStatus.DEAD_LETTERED, after.status());
    assertEquals(2, after.attemptCount());
    assertEquals(null, after.nextAttemptAt());
    assertEquals(DeliveryMachine.PAYLOAD_EXPUNGED, after.lastError());
    assertEquals(waiting.attempts(), after.attempts());
  }

  @Test
  void aHandOffDefersTheAttemptDueNow() {
    EventJournal.AttemptDeferred deferred = (EventJournal.AttemptDeferred) persisted(in("DISPATCHING"), input("HandOff"));
    assertEquals(NOW, deferred.nextAttemptAt());
    assertEquals(1, deferred.attempt());
  }

  @Test
  void aCancelIsNoAttemptAndNoError() {
    Delivery failedOnce = new Delivery(EP, DeliveryStatus.DISPATCHING, 2, 0, null, "HTTP 503", List.of(attempt(503)));
    EventJournal.Cancelled cancelled =
        (EventJournal.Cancelled) persisted(failedOnce, new DeliveryMachine.Cancel(2, "cancelled by the endpoint's transformation"));
    assertEquals(2, cancelled.attempt());
    Delivery after = DeliveryMachine.apply(failedOnce, cancelled);
    assertEquals(DeliveryStatus.CANCELLED, after.status());
    assertEquals(1, after.attemptCount()); // the cancelled attempt's number is given back
    assertEquals(null, after.lastError());
    assertEquals(failedOnce.attempts(), after.attempts());
  }

  @Test
  void anEventWhoseDeliveriesAreDeliveredOrCancelledIsDelivered() {
    assertEquals(DeliveryStatus.DELIVERED, DeliveryStatus.ofEvent(List.of(DeliveryStatus.DELIVERED, DeliveryStatus.CANCELLED)));
    assertEquals(DeliveryStatus.DELIVERED, DeliveryStatus.ofEvent(List.of(DeliveryStatus.CANCELLED)));
    assertEquals(DeliveryStatus.DEAD_LETTERED, DeliveryStatus.ofEvent(List.of(DeliveryStatus.CANCELLED, DeliveryStatus.DEAD_LETTERED)));
    assertEquals(DeliveryStatus.DISPATCHING, DeliveryStatus.ofEvent(List.of(DeliveryStatus.CANCELLED, DeliveryStatus.DISPATCHING)));
  }

  private static DeliveryTransition persisted(Delivery d, Input input) {
    return assertInstanceOf(Persist.class, MACHINE.step(d, input, NOW, BUDGET, new SplittableRandom(1))).transition();
  }

  // ---- the fold ----

  @Test
  void theFoldHandlesEveryKindOfTransition() {
    Attempt a = attempt(503);
    for (Class<?> kind : EventJournal.DeliveryTransition.class.getPermittedSubclasses()) {
      DeliveryTransition t = Arrays.stream(new DeliveryTransition[] {
              new EventJournal.DispatchStarted(EP, 2, "r", NOW),
              new EventJournal.RetryRequested(EP, 2, "ops", "r", NOW),
              new EventJournal.Replayed(EP, 2, "ops", "r", NOW),
              new EventJournal.Delivered(EP, a, "r", NOW),
              new EventJournal.RetryScheduled(EP, a, NOW.plusSeconds(5), "r", NOW),
              new EventJournal.AttemptDeferred(EP, 2, NOW, "r", NOW),
              new EventJournal.DeadLettered(EP, a, "r", NOW),
              new EventJournal.Cancelled(EP, 2, "r", NOW)})
          .filter(kind::isInstance)
          .findFirst()
          .orElseGet(() -> fail("no example of " + kind.getSimpleName() + ": add one, and its case in the fold"));
      Delivery after = DeliveryMachine.apply(in("DISPATCHING"), t);
      assertEquals(t.to(), after.status(), kind.getSimpleName());
    }
  }

  @Test
  void aDeferralGivesTheAttemptNumberBackAndAReplayOpensAFreshBudget() {
    Delivery deferred =
        DeliveryMachine.apply(in("DISPATCHING"), new EventJournal.AttemptDeferred(EP, 1, NOW, "queue full", NOW));
    assertEquals(0, deferred.attemptCount());
    assertEquals("queue full", deferred.lastError());

    Delivery replayed = DeliveryMachine.apply(in("DEAD_LETTERED"), new EventJournal.Replayed(EP, 2, "ops", "r", NOW));
    assertEquals(2, replayed.attemptCount());
    assertEquals(1, replayed.budgetBase());
  }

  /** The cause the dead-letter counter gives each way a delivery is dead-lettered (budget 1: a retryable result exhausts it). */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', textBlock = """
      Outcome400      | permanent
      Outcome410      | gone
      Outcome503      | exhausted
      NoResponse      | exhausted
      LostReply       | exhausted
      Refusal         | refused
      TransformFailed | transformation
      PayloadExpunged | expunged
      """)
  void everyDeadLetterHasItsCause(String input, String cause) {
    Step step = MACHINE.step(in("DISPATCHING"), input(input), NOW, 1, new SplittableRandom(1));
    EventJournal.DeadLettered dead =
        assertInstanceOf(EventJournal.DeadLettered.class, assertInstanceOf(Persist.class, step).transition());
    assertEquals(cause, DeliveryPolicy.deadLetterCause(dead), dead.toString());
  }
}
