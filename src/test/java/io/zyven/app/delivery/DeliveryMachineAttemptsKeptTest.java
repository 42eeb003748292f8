package io.zyven.app.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.zyven.app.delivery.DeliveryMachine.Delivery;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.EventJournal;
import io.zyven.protocol.EventJournal.DeliveryTransition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The fold with a cap on the attempts a delivery keeps: the same delivery as the fold that
 * keeps them all, but for its attempts, which are the latest {@code attemptsKept} of them.
 */
class DeliveryMachineAttemptsKeptTest {
  private static final Instant T0 = Instant.parse("2025-03-01T12:00:00Z");
  private static final String EP = "ep-1";

  @Property(tries = 200)
  void cappedFoldIsTheFullFoldWithOnlyTheLatestAttempts(
      @ForAll @IntRange(min = 1, max = 12) int runs,
      @ForAll @IntRange(min = 1, max = 4) int attemptsPerRun,
      @ForAll @IntRange(min = 1, max = 10) int kept) {
    Delivery full = Delivery.received(EP);
    Delivery capped = Delivery.received(EP);
    for (DeliveryTransition t : history(runs, attemptsPerRun)) {
      full = DeliveryMachine.apply(full, t);
      capped = DeliveryMachine.apply(capped, t, kept);
      List<Attempt> all = full.attempts();
      List<Attempt> latest = all.subList(Math.max(0, all.size() - kept), all.size());
      assertEquals(latest, capped.attempts());
      assertEquals(
          new Delivery(full.endpointId(), full.status(), full.attemptCount(), full.budgetBase(), full.nextAttemptAt(),
              full.lastError(), latest),
          capped);
    }
  }

  @Property(tries = 1)
  void atLeastOneAttemptIsKept() {
    assertThrows(IllegalArgumentException.class, () -> DeliveryMachine.apply(
        Delivery.received(EP), new EventJournal.DispatchStarted(EP, 1, "first", T0), 0));
  }

  /** Runs of failed attempts, each ending dead-lettered and replayed, the last one delivered. */
  private static List<DeliveryTransition> history(int runs, int attemptsPerRun) {
    List<DeliveryTransition> ts = new ArrayList<>();
    int n = 0;
    Instant at = T0;
    for (int run = 0; run < runs; run++) {
      for (int i = 0; i < attemptsPerRun; i++) {
        n++;
        at = at.plusSeconds(1);
        ts.add(n == 1 ? new EventJournal.DispatchStarted(EP, n, "first", at)
            : i == 0 ? new EventJournal.Replayed(EP, n, "tenant:t", "replay", at)
            : new EventJournal.DispatchStarted(EP, n, "retry due", at));
        Attempt a = new Attempt(n, at, 500, 3, "HTTP 500", "body " + n);
        boolean last = i == attemptsPerRun - 1;
        if (last && run == runs - 1) ts.add(new EventJournal.Delivered(EP, new Attempt(n, at, 200, 3, null, "ok"), "2xx", at));
        else if (last) ts.add(new EventJournal.DeadLettered(EP, a, "budget spent", at));
        else ts.add(new EventJournal.RetryScheduled(EP, a, at.plusSeconds(5), "retryable failure", at));
      }
    }
    return ts;
  }
}
