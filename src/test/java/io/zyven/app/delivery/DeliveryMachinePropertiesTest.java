package io.zyven.app.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.delivery.DeliveryMachine.Delivery;
import io.zyven.app.delivery.DeliveryMachine.Input;
import io.zyven.app.delivery.DeliveryMachine.Persist;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.DeliveryStatus;
import io.zyven.protocol.EventJournal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * Any sequence of inputs, in any order, with attempt numbers right or wrong, fed through
 * {@link DeliveryMachine#step} and folded with {@link DeliveryMachine#apply}, as the entity
 * does: the delivery only ever moves along the machine's graph, never spends more than its
 * budget, and a finished delivery moves again only on a replay.
 */
class DeliveryMachinePropertiesTest {

  private static final Instant START = Instant.parse("2025-03-01T12:00:00Z");
  private static final DeliveryMachine MACHINE =
      new DeliveryMachine(
          new DeliveryPolicy(List.of(Duration.ofSeconds(5), Duration.ofSeconds(30)), 0.2, Duration.ofMinutes(10)));

  /**
   * The graph: every status a delivery may move to from each status. An expunged payload
   * dead-letters a delivery from any unfinished status.
   */
  private static final Map<DeliveryStatus, Set<DeliveryStatus>> LEGAL =
      Map.of(
          DeliveryStatus.RECEIVED, Set.of(DeliveryStatus.DISPATCHING, DeliveryStatus.DEAD_LETTERED),
          DeliveryStatus.DISPATCHING,
              Set.of(DeliveryStatus.DELIVERED, DeliveryStatus.RETRY_SCHEDULED, DeliveryStatus.DEAD_LETTERED),
          DeliveryStatus.RETRY_SCHEDULED, Set.of(DeliveryStatus.DISPATCHING, DeliveryStatus.DEAD_LETTERED),
          DeliveryStatus.DELIVERED, Set.of(DeliveryStatus.DISPATCHING),
          DeliveryStatus.DEAD_LETTERED, Set.of(DeliveryStatus.DISPATCHING));

  /** One input, its attempt number given as an offset from the delivery's current one. */
  record Move(String kind, int attemptOffset, Integer status, int secondsLater) {}

  @Property(tries = 500)
  void noSequenceOfInputsLeavesTheGraphOrTheBudget(
      @ForAll("moves") List<Move> moves, @ForAll @IntRange(min = 1, max = 6) int budget, @ForAll long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Delivery d = Delivery.received("ep");
    Instant now = START;
    for (Move move : moves) {
      now = now.plusSeconds(move.secondsLater());
      Input input = input(move, d, now);
      if (!(MACHINE.step(d, input, now, budget, random) instanceof Persist p)) continue;
      Delivery before = d;
      d = DeliveryMachine.apply(d, p.transition());

      // Only along the graph.
      assertTrue(
          LEGAL.get(before.status()).contains(d.status()),
          before.status() + " -> " + d.status() + " on " + input);
      // A terminal delivery moves again only on a replay.
      if (before.isTerminal()) {
        assertTrue(input instanceof DeliveryMachine.Replay, "left " + before.status() + " on " + input);
      }
      // Never past the budget: attempts since the last replay.
      assertTrue(
          d.attemptCount() - d.budgetBase() <= budget,
          "attempt " + d.attemptCount() + " with base " + d.budgetBase() + " over a budget of " + budget);
      assertTrue(d.attemptCount() >= 0);
      // A waiting delivery always knows when it comes back.
      if (d.status() == DeliveryStatus.RETRY_SCHEDULED) assertNotNull(d.nextAttemptAt());
      // Every recorded attempt is one that was started.
      for (Attempt a : d.attempts()) assertTrue(a.number() >= 1);
      assertEquals(d.endpointId(), p.transition().endpointId());
    }
  }

  @Property(tries = 200)
  void retriesAreNeverScheduledInThePastAndNeverBeyondTheirCap(
      @ForAll @IntRange(min = 1, max = 50) int attempt, @ForAll long seed) {
    Delivery d = new Delivery("ep", DeliveryStatus.DISPATCHING, attempt, 0, null, null, List.of());
    Attempt failed = new Attempt(attempt, START, 503, 5, "HTTP 503", null);
    if (MACHINE.step(d, new DeliveryMachine.Outcome(failed, null), START, 100, new SplittableRandom(seed))
        instanceof Persist p
        && p.transition() instanceof EventJournal.RetryScheduled r) {
      assertTrue(r.nextAttemptAt().isAfter(START));
      // The longest delay in the schedule, plus 20 % jitter.
      assertTrue(!r.nextAttemptAt().isAfter(START.plusSeconds(36)), r.nextAttemptAt().toString());
    }
  }

  private static Input input(Move move, Delivery d, Instant now) {
    int attempt = Math.max(0, d.attemptCount() + move.attemptOffset());
    return switch (move.kind()) {
      case "due" -> new DeliveryMachine.AttemptDue("due");
      case "timer" -> new DeliveryMachine.RetryDue();
      case "now" -> new DeliveryMachine.RetryNow("ops");
      case "replay" -> new DeliveryMachine.Replay("ops", false);
      case "recover" -> new DeliveryMachine.Replay("ops", true);
      case "outcome" -> new DeliveryMachine.Outcome(
          new Attempt(attempt, now, move.status(), 3, "x", null), move.status() == null ? null : Duration.ofSeconds(2));
      case "deferral" -> new DeliveryMachine.Deferral(attempt, now.plusSeconds(1), "queue full");
      case "refusal" -> new DeliveryMachine.Refusal(attempt, "endpoint disabled");
      case "lost" -> new DeliveryMachine.LostReply(attempt);
      case "expunge" -> new DeliveryMachine.PayloadExpunged("ops");
      default -> new DeliveryMachine.HandOff(attempt);
    };
  }

  @Provide
  Arbitrary<List<Move>> moves() {
    Arbitrary<String> kind =
        Arbitraries.of("due", "timer", "now", "replay", "recover", "outcome", "outcome", "outcome",
            "deferral", "refusal", "lost", "handoff", "expunge");
    // Mostly about the current attempt; sometimes a late or a wrong one.
    Arbitrary<Integer> offset = Arbitraries.frequencyOf(
        Tuple.of(8, Arbitraries.just(0)), Tuple.of(2, Arbitraries.integers().between(-3, 3)));
    Arbitrary<Integer> status = Arbitraries.of(200, 204, 301, 400, 404, 408, 410, 429, 500, 503).injectNull(0.15);
    Arbitrary<Integer> later = Arbitraries.integers().between(0, 120);
    return Combinators.combine(kind, offset, status, later).as(Move::new).list().ofMaxSize(60);
  }
}
