package io.zyven.app.readmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The sweep's pace yields to a busy machine and takes the room an idle one leaves. */
class RetentionPaceTest {
  private static final long SECOND = 1_000_000_000L;

  private final AtomicLong clock = new AtomicLong();
  private final AtomicReference<Double> load = new AtomicReference<>(0.0);
  private final RetentionPace pace = new RetentionPace(50, 1000, 0.6, load::get, clock::get);

  /** One second passes, then the next element asks for its cost. */
  private int afterASecond() {
    clock.addAndGet(SECOND);
    return pace.cost();
  }

  @Test
  void startsAtTheFloorUntilItHasLookedAtTheMachine() {
    assertEquals(50, pace.rate());
    assertEquals(RetentionPace.SCALE * 1000 / 50, pace.cost());
  }

  @Test
  void climbsToTheMaximumWhileTheMachineHasRoom() {
    load.set(0.3);
    for (int i = 0; i < 9; i++) afterASecond();
    assertEquals(950, pace.rate());
    assertEquals(RetentionPace.SCALE, afterASecond());
    assertEquals(1000, pace.rate());
    afterASecond();
    assertEquals(1000, pace.rate(), "never above the maximum");
  }

  @Test
  void halvesWhileTheMachineIsBusyDownToTheFloor() {
    load.set(0.3);
    for (int i = 0; i < 10; i++) afterASecond();
    load.set(0.9);
    afterASecond();
    assertEquals(500, pace.rate());
    for (int i = 0; i < 10; i++) afterASecond();
    assertEquals(50, pace.rate(), "never below the floor, however busy");
    assertEquals(RetentionPace.SCALE * 1000 / 50, pace.cost());
  }

  @Test
  void neverYieldsBelowTheRateAtWhichEventsPassTheirPeriod() {
    pace.keepUpWith(400);
    load.set(0.9);
    for (int i = 0; i < 10; i++) afterASecond();
    assertEquals(440, pace.rate(), 1e-9, "busy, yet a tenth above the flow, so the backlog does not grow");
    pace.keepUpWith(10);
    afterASecond();
    assertEquals(220, pace.rate(), 1e-9, "the flow slowed: halving again");
    pace.keepUpWith(5000);
    pace.cost();
    assertEquals(1000, pace.rate(), 1e-9, "never above the maximum");
  }

  @Test
  void looksAtTheLoadAtMostOnceASecond() {
    load.set(0.3);
    clock.addAndGet(SECOND / 2);
    pace.cost();
    assertEquals(50, pace.rate(), "half a second: no look yet");
    clock.addAndGet(SECOND / 2);
    pace.cost();
    pace.cost();
    assertEquals(150, pace.rate(), "one look for the second that passed, not one per element");
  }

  @Test
  void keepsItsRateWhenTheLoadIsUnknown() {
    load.set(-1.0);
    afterASecond();
    assertEquals(50, pace.rate());
  }

  @Test
  void refusesAFloorAboveTheMaximum() {
    assertThrows(IllegalArgumentException.class, () -> new RetentionPace(100, 50, 0.6, load::get, clock::get));
    assertThrows(IllegalArgumentException.class, () -> new RetentionPace(0, 50, 0.6, load::get, clock::get));
  }
}
