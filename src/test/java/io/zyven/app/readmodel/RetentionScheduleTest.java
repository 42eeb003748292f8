package io.zyven.app.readmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** When the sweep's next run starts, and what that does to the events kept past their period. */
class RetentionScheduleTest {
  private static final Duration INTERVAL = Duration.ofSeconds(5);
  private static final RetentionSweep.Settings SETTINGS =
      new RetentionSweep.Settings(Duration.ofSeconds(60), INTERVAL, 20_000, 32, 1000, 50, 0.6, Duration.ofSeconds(5));

  private static RetentionSweep.Run run(int candidates, int removed, long millis) {
    return new RetentionSweep.Run(Instant.EPOCH, candidates, removed, Map.of(), 0, null, millis);
  }

  @Test
  void aShortRunIsFollowedAnIntervalAfterItStarted() {
    assertEquals(Duration.ofSeconds(3), RetentionSweep.untilNextRun(run(100, 100, 2000), SETTINGS));
    assertEquals(INTERVAL, RetentionSweep.untilNextRun(run(0, 0, 0), SETTINGS));
  }

  @Test
  void aRunLongerThanTheIntervalIsFollowedAtOnce() {
    assertEquals(Duration.ZERO, RetentionSweep.untilNextRun(run(4000, 4000, 40_000), SETTINGS));
  }

  @Test
  void aFullBatchIsFollowedAtOnceOnlyWhenItRemovedSome() {
    assertEquals(Duration.ZERO, RetentionSweep.untilNextRun(run(20_000, 5, 1000), SETTINGS));
    assertEquals(Duration.ofSeconds(4), RetentionSweep.untilNextRun(run(20_000, 0, 1000), SETTINGS),
        "a batch of events that all stay is not looked at again at once");
  }

  /**
   * A busy node: events pass their period at {@code flow} a second and the sweep removes
   * at its keep-up floor, a tenth faster. What a run finds is what passed the cutoff since
   * the previous run started; it takes found / pace seconds. Starting from a minute's
   * backlog, what a run finds settles at one interval of the flow. (Counted from the end
   * of each run, with a whole interval idle after each, it would settle near eleven
   * intervals, after dozens of runs: the slow growth a 15-minute soak showed.)
   */
  @Test
  void atTheKeepUpPaceWhatARunFindsSettlesAtOneIntervalOfTheFlow() {
    double flow = 100;
    double pace = flow * 1.1;
    double found = flow * 60;
    for (int i = 0; i < 200; i++) {
      long millis = Math.round(found / pace * 1000);
      Duration wait = RetentionSweep.untilNextRun(run((int) found, (int) found, millis), SETTINGS);
      found = flow * (millis + wait.toMillis()) / 1000.0;
    }
    double oneInterval = flow * INTERVAL.toSeconds();
    assertTrue(found <= oneInterval * 1.01, "a run finds " + found + " events; one interval of the flow is " + oneInterval);
  }
}
