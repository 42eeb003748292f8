package io.zyven.app.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.endpoint.CircuitBreaker.Allow;
import io.zyven.app.endpoint.CircuitBreaker.Change;
import io.zyven.app.endpoint.CircuitBreaker.Probe;
import io.zyven.app.endpoint.CircuitBreaker.Reject;
import io.zyven.app.endpoint.CircuitBreaker.Wait;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** One endpoint's circuit breaker, on a fake clock (the instants passed in). */
class CircuitBreakerTest {

  private static final Instant T0 = Instant.parse("2025-03-01T12:00:00Z");
  private static final Duration COOLDOWN = Duration.ofSeconds(30);
  private static final Duration MAX_COOLDOWN = Duration.ofMinutes(10);
  private static final int THRESHOLD = 5;

  private final CircuitBreaker breaker =
      new CircuitBreaker(new CircuitBreaker.Settings(THRESHOLD, COOLDOWN, MAX_COOLDOWN));

  @Test
  void staysClosedBelowTheThreshold() {
    for (int i = 0; i < THRESHOLD - 1; i++) {
      assertEquals(Change.NONE, breaker.onFailure(false, T0.plusSeconds(i)));
      assertInstanceOf(Allow.class, breaker.admit(T0.plusSeconds(i)));
    }
    assertFalse(breaker.isOpen());
  }

  @Test
  void opensAtTheThresholdOfConsecutiveFailures() {
    Instant openedAt = failTimes(THRESHOLD, T0);

    assertTrue(breaker.isOpen());
    Reject reject = assertInstanceOf(Reject.class, breaker.admit(openedAt));
    assertEquals(openedAt.plus(COOLDOWN), reject.retryAt());
    assertEquals("circuit open", reject.reason());
  }

  @Test
  void theThresholdFailureReportsOpenedOnce() {
    for (int i = 0; i < THRESHOLD - 1; i++) breaker.onFailure(false, T0);
    assertEquals(Change.OPENED, breaker.onFailure(false, T0));
    // Late failures of requests sent before it opened change nothing.
    assertEquals(Change.NONE, breaker.onFailure(false, T0.plusSeconds(1)));
    Reject reject = assertInstanceOf(Reject.class, breaker.admit(T0.plusSeconds(1)));
    assertEquals(T0.plus(COOLDOWN), reject.retryAt());
  }

  @Test
  void itsPositionIsClosedOpenThenHalfOpenFromTheEndOfTheCooldownUntilTheProbesVerdict() {
    assertEquals(CircuitBreaker.Position.CLOSED, breaker.position(T0));
    Instant openedAt = failTimes(THRESHOLD, T0);
    assertEquals(CircuitBreaker.Position.OPEN, breaker.position(openedAt));
    Instant cooled = openedAt.plus(COOLDOWN);
    assertEquals(CircuitBreaker.Position.HALF_OPEN, breaker.position(cooled), "the next request probes");
    assertInstanceOf(Probe.class, breaker.admit(cooled));
    assertEquals(CircuitBreaker.Position.HALF_OPEN, breaker.position(cooled.plusSeconds(1)), "the probe is out");
    breaker.onSuccess();
    assertEquals(CircuitBreaker.Position.CLOSED, breaker.position(cooled.plusSeconds(1)));
  }

  @Test
  void remembersWhenTheFailuresBegan() {
    assertNull(breaker.failingSince());
    breaker.onFailure(false, T0);
    breaker.onFailure(false, T0.plusSeconds(7));
    assertEquals(T0, breaker.failingSince());
    breaker.onSuccess();
    assertNull(breaker.failingSince());
  }

  @Test
  void rejectsWhileOpenUntilTheCooldownHasPassed() {
    Instant openedAt = failTimes(THRESHOLD, T0);

    assertInstanceOf(Reject.class, breaker.admit(openedAt.plusSeconds(1)));
    assertInstanceOf(
        Reject.class, breaker.admit(openedAt.plus(COOLDOWN).minusMillis(1)));
    assertInstanceOf(Probe.class, breaker.admit(openedAt.plus(COOLDOWN)));
  }

  @Test
  void halfOpenLetsExactlyOneProbeThrough() {
    Instant openedAt = failTimes(THRESHOLD, T0);
    Instant halfOpen = openedAt.plus(COOLDOWN);

    assertInstanceOf(Probe.class, breaker.admit(halfOpen));
    assertTrue(breaker.awaitingProbe());
    // The others wait for the probe's verdict (in the endpoint's queue).
    for (int i = 0; i < 10; i++) {
      assertInstanceOf(Wait.class, breaker.admit(halfOpen.plusMillis(i)));
    }
    // A failed probe: rejected again for the (doubled) cool-down, no longer waiting.
    breaker.onFailure(true, halfOpen.plusSeconds(1));
    assertFalse(breaker.awaitingProbe());
    assertInstanceOf(Reject.class, breaker.admit(halfOpen.plusSeconds(2)));
  }

  @Test
  void aSuccessfulProbeReleasesTheWaitingRequests() {
    Instant halfOpen = failTimes(THRESHOLD, T0).plus(COOLDOWN);
    breaker.admit(halfOpen);
    assertInstanceOf(Wait.class, breaker.admit(halfOpen));

    breaker.onSuccess();

    assertFalse(breaker.awaitingProbe());
    assertInstanceOf(Allow.class, breaker.admit(halfOpen));
  }

  @Test
  void aFailedProbeReopensWithTheCooldownDoubled() {
    Instant t = failTimes(THRESHOLD, T0).plus(COOLDOWN);
    Duration expected = COOLDOWN;
    // 30 s, 60 s, 2 min, 4 min, 8 min, then capped at 10 min.
    Duration[] cooldowns = {
      Duration.ofSeconds(60), Duration.ofMinutes(2), Duration.ofMinutes(4), Duration.ofMinutes(8),
      MAX_COOLDOWN, MAX_COOLDOWN, MAX_COOLDOWN
    };
    for (Duration next : cooldowns) {
      assertInstanceOf(Probe.class, breaker.admit(t), "probe after " + expected);
      assertEquals(Change.NONE, breaker.onFailure(true, t));
      assertTrue(breaker.isOpen());
      Reject reject = assertInstanceOf(Reject.class, breaker.admit(t));
      assertEquals(t.plus(next), reject.retryAt(), "cool-down after a failed probe");
      assertInstanceOf(Reject.class, breaker.admit(t.plus(next).minusMillis(1)));
      t = t.plus(next);
      expected = next;
    }
  }

  @Test
  void aSuccessfulProbeClosesTheCircuit() {
    Instant halfOpen = failTimes(THRESHOLD, T0).plus(COOLDOWN);
    assertInstanceOf(Probe.class, breaker.admit(halfOpen));

    assertEquals(Change.CLOSED, breaker.onSuccess());

    assertFalse(breaker.isOpen());
    assertNull(breaker.failingSince());
    assertInstanceOf(Allow.class, breaker.admit(halfOpen));
    assertInstanceOf(Allow.class, breaker.admit(halfOpen));
  }

  @Test
  void successResetsTheCountAndTheCooldown() {
    // Open, fail two probes (cool-down now 2 min), then recover.
    Instant t = failTimes(THRESHOLD, T0).plus(COOLDOWN);
    breaker.admit(t);
    breaker.onFailure(true, t);
    t = t.plus(COOLDOWN.multipliedBy(2));
    breaker.admit(t);
    breaker.onFailure(true, t);
    t = t.plus(COOLDOWN.multipliedBy(4));
    assertInstanceOf(Probe.class, breaker.admit(t));
    assertEquals(Change.CLOSED, breaker.onSuccess());

    // A full threshold is needed again, not one failure.
    Instant again = t.plusSeconds(60);
    for (int i = 0; i < THRESHOLD - 1; i++) {
      assertEquals(Change.NONE, breaker.onFailure(false, again));
      assertInstanceOf(Allow.class, breaker.admit(again));
    }
    assertEquals(Change.OPENED, breaker.onFailure(false, again));
    // And the cool-down starts from the base again.
    Reject reject = assertInstanceOf(Reject.class, breaker.admit(again));
    assertEquals(again.plus(COOLDOWN), reject.retryAt());
  }

  @Test
  void aSuccessInBetweenResetsTheConsecutiveCount() {
    for (int i = 0; i < THRESHOLD - 1; i++) breaker.onFailure(false, T0);
    // A 2xx, or a permanent 4xx: the receiver is up.
    assertEquals(Change.NONE, breaker.onSuccess());
    for (int i = 0; i < THRESHOLD - 1; i++) {
      assertEquals(Change.NONE, breaker.onFailure(false, T0));
    }
    assertFalse(breaker.isOpen());
    assertInstanceOf(Allow.class, breaker.admit(T0));
  }

  /**
   * The circuit can close while a probe is out: a request sent before it opened succeeds
   * late, or the tenant re-enables the endpoint. The probe's later failure is then an
   * ordinary first failure, not a failed probe: it must not reopen the circuit (silently:
   * no OPENED, so nothing is journaled) with a doubled cool-down.
   */
  @Test
  void aProbeFailingAfterTheCircuitClosedIsAnOrdinaryFailure() {
    Instant halfOpen = failTimes(THRESHOLD, T0).plus(COOLDOWN);
    assertInstanceOf(Probe.class, breaker.admit(halfOpen));
    assertEquals(Change.CLOSED, breaker.onSuccess());

    Instant later = halfOpen.plusSeconds(1);
    assertEquals(Change.NONE, breaker.onFailure(true, later));

    assertFalse(breaker.isOpen());
    assertInstanceOf(Allow.class, breaker.admit(later));
    // It counts as one failure of a fresh run: the threshold still applies.
    for (int i = 0; i < THRESHOLD - 2; i++) breaker.onFailure(false, later);
    assertFalse(breaker.isOpen());
    assertEquals(Change.OPENED, breaker.onFailure(false, later));
  }

  @Test
  void restoredOpenCircuitProbesAtOnce() {
    breaker.restoreOpen(T0.minusSeconds(3600), T0);

    assertTrue(breaker.isOpen());
    assertEquals(T0.minusSeconds(3600), breaker.failingSince());
    assertInstanceOf(Probe.class, breaker.admit(T0));
    assertInstanceOf(Wait.class, breaker.admit(T0));
  }

  /** {@code n} consecutive failures one second apart; returns the time of the last. */
  private Instant failTimes(int n, Instant from) {
    Instant t = from;
    for (int i = 0; i < n; i++) {
      t = from.plusSeconds(i);
      breaker.onFailure(false, t);
    }
    return t;
  }
}
