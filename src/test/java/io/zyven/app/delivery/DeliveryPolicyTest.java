package io.zyven.app.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.delivery.DeliveryPolicy.DeadLetter;
import io.zyven.app.delivery.DeliveryPolicy.Decision;
import io.zyven.app.delivery.DeliveryPolicy.Deliver;
import io.zyven.app.delivery.DeliveryPolicy.Retry;
import io.zyven.app.delivery.DeliveryPolicy.Verdict;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What an HTTP result means, and when a failed delivery is tried again. */
class DeliveryPolicyTest {

  private static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");
  private static final List<Duration> SCHEDULE =
      List.of(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofMinutes(2));
  private static final DeliveryPolicy EXACT = new DeliveryPolicy(SCHEDULE, 0.0, Duration.ofHours(1));
  private static final int MAX = 9;
  // Seeded: a failure can be run again with the same draws.
  private static final SplittableRandom RANDOM = new SplittableRandom(11);

  // ---- classify ----

  @ParameterizedTest(name = "HTTP {0} -> {1}")
  @CsvSource({
    "200, SUCCESS",
    "204, SUCCESS",
    "301, RETRYABLE", // redirects are not followed: a failure, retried
    "400, PERMANENT",
    "401, PERMANENT",
    "404, PERMANENT",
    "408, RETRYABLE",
    "409, PERMANENT",
    "410, GONE",
    "422, PERMANENT",
    "425, RETRYABLE",
    "429, RETRYABLE",
    "500, RETRYABLE",
    "503, RETRYABLE",
  })
  void classifiesStatusCodes(int status, Verdict expected) {
    assertEquals(expected, DeliveryPolicy.classify(status));
  }

  @Test
  void noResponseAtAllIsRetryable() {
    assertEquals(Verdict.RETRYABLE, DeliveryPolicy.classify(null));
  }

  @Test
  void onlyRetryableResultsCountAgainstTheEndpointsHealth() {
    assertTrue(DeliveryPolicy.isFailure(Verdict.RETRYABLE));
    for (Verdict v : List.of(Verdict.SUCCESS, Verdict.PERMANENT, Verdict.GONE)) {
      assertFalse(DeliveryPolicy.isFailure(v), v.name());
    }
  }

  @Test
  void onlyGoneDisablesTheEndpoint() {
    for (Verdict v : Verdict.values()) {
      assertEquals(v == Verdict.GONE, DeliveryPolicy.disablesEndpoint(v), v.name());
    }
  }

  // ---- deferrals ----

  @Test
  void aDeferredAttemptComesBackNoSoonerThanAskedAndWithinTheJitter() {
    DeliveryPolicy jittered = new DeliveryPolicy(SCHEDULE, 0.2, Duration.ofHours(1));
    Instant until = NOW.plusSeconds(10);
    Set<Instant> seen = new HashSet<>();
    for (int i = 0; i < 500; i++) {
      Instant at = jittered.comeBackAt(NOW, until, RANDOM);
      assertFalse(at.isBefore(until), at + " is before " + until);
      assertFalse(at.isAfter(NOW.plusSeconds(12)), at + " is past the jitter");
      seen.add(at);
    }
    assertTrue(seen.size() > 50, "comebacks should spread, saw " + seen.size());
  }

  @Test
  void aDeferralAlreadyDueComesBackAtOnce() {
    assertEquals(NOW, EXACT.comeBackAt(NOW, NOW.minusSeconds(3), RANDOM));
  }

  // ---- decide: the terminal verdicts ----

  @Test
  void successIsDelivered() {
    assertInstanceOf(Deliver.class, EXACT.decide(Verdict.SUCCESS, 200, 1, MAX, null, NOW, RANDOM));
    // Even on the last attempt of the budget.
    assertInstanceOf(Deliver.class, EXACT.decide(Verdict.SUCCESS, 204, MAX, MAX, null, NOW, RANDOM));
  }

  @Test
  void permanentFailureIsDeadLetteredAtOnce() {
    Decision d = EXACT.decide(Verdict.PERMANENT, 400, 1, MAX, null, NOW, RANDOM);
    assertEquals(new DeadLetter("permanent failure (HTTP 400)"), d);
  }

  @Test
  void goneIsDeadLetteredAtOnce() {
    Decision d = EXACT.decide(Verdict.GONE, 410, 1, MAX, null, NOW, RANDOM);
    assertEquals(new DeadLetter("410 Gone: the endpoint is disabled"), d);
  }

  // ---- decide: retries ----

  @Test
  void backoffFollowsTheScheduleByAttemptIndex() {
    assertEquals(NOW.plusSeconds(5), retryAt(EXACT, 1));
    assertEquals(NOW.plusSeconds(30), retryAt(EXACT, 2));
    assertEquals(NOW.plusSeconds(120), retryAt(EXACT, 3));
  }

  @Test
  void theLastScheduleEntryRepeats() {
    assertEquals(NOW.plusSeconds(120), retryAt(EXACT, 4));
    assertEquals(NOW.plusSeconds(120), retryAt(EXACT, 8));
  }

  @Test
  void backoffWithoutJitterIsExact() {
    assertEquals(Duration.ofSeconds(5), EXACT.backoff(1, RANDOM));
    assertEquals(Duration.ofSeconds(30), EXACT.backoff(2, RANDOM));
    assertEquals(Duration.ofMinutes(2), EXACT.backoff(3, RANDOM));
    assertEquals(Duration.ofMinutes(2), EXACT.backoff(50, RANDOM));
  }

  @Test
  void jitterKeepsEveryDelayWithinTwentyPercent() {
    DeliveryPolicy jittered = new DeliveryPolicy(SCHEDULE, 0.2, Duration.ofHours(1));
    for (int attempt = 1; attempt <= 4; attempt++) {
      Duration base = SCHEDULE.get(Math.min(attempt, SCHEDULE.size()) - 1);
      long low = (long) (base.toNanos() * 0.8);
      long high = (long) (base.toNanos() * 1.2);
      Set<Long> seen = new HashSet<>();
      for (int i = 0; i < 2000; i++) {
        long delay = Duration.between(NOW, retryAt(jittered, attempt)).toNanos();
        int n = attempt;
        assertTrue(
            delay >= low && delay <= high,
            () -> "attempt " + n + ": " + Duration.ofNanos(delay) + " outside " + base + " ±20%");
        seen.add(delay);
      }
      // Jitter is there to spread retries: the values must actually vary.
      assertTrue(seen.size() > 100, "jitter should spread retries, saw " + seen.size() + " values");
    }
  }

  @Test
  void withJitterZeroIsTheIdentity() {
    assertEquals(Duration.ofMillis(1234), EXACT.withJitter(Duration.ofMillis(1234), RANDOM));
  }

  @Test
  void deadLettersWhenTheBudgetIsSpent() {
    assertInstanceOf(Retry.class, EXACT.decide(Verdict.RETRYABLE, 503, MAX - 1, MAX, null, NOW, RANDOM));
    assertEquals(
        new DeadLetter("gave up after 9 attempts"),
        EXACT.decide(Verdict.RETRYABLE, 503, MAX, MAX, null, NOW, RANDOM));
    assertEquals(
        new DeadLetter("gave up after 2 attempts"),
        EXACT.decide(Verdict.RETRYABLE, null, 2, 2, null, NOW, RANDOM));
  }

  @Test
  void aSingleAttemptBudgetNeverRetries() {
    assertInstanceOf(DeadLetter.class, EXACT.decide(Verdict.RETRYABLE, 500, 1, 1, null, NOW, RANDOM));
  }

  @Test
  void retryAfterIsHonouredOn429() {
    Decision d = EXACT.decide(Verdict.RETRYABLE, 429, 1, MAX, Duration.ofSeconds(90), NOW, RANDOM);
    assertEquals(NOW.plusSeconds(90), ((Retry) d).at());
  }

  @Test
  void retryAfterIsHonouredOn503() {
    Decision d = EXACT.decide(Verdict.RETRYABLE, 503, 1, MAX, Duration.ofSeconds(90), NOW, RANDOM);
    assertEquals(NOW.plusSeconds(90), ((Retry) d).at());
  }

  @Test
  void retryAfterIsIgnoredOnOtherStatuses() {
    for (Integer status : new Integer[] {500, 502, 504, 408, 425, null}) {
      Decision d = EXACT.decide(Verdict.RETRYABLE, status, 1, MAX, Duration.ofSeconds(90), NOW, RANDOM);
      assertEquals(NOW.plusSeconds(5), ((Retry) d).at(), "status " + status);
    }
  }

  @Test
  void retryAfterIsCappedAtMaxRetryAfter() {
    Decision d = EXACT.decide(Verdict.RETRYABLE, 429, 1, MAX, Duration.ofHours(5), NOW, RANDOM);
    assertEquals(NOW.plus(Duration.ofHours(1)), ((Retry) d).at());

    DeliveryPolicy shortCap = new DeliveryPolicy(SCHEDULE, 0.0, Duration.ofMinutes(10));
    Decision capped = shortCap.decide(Verdict.RETRYABLE, 503, 1, MAX, Duration.ofMinutes(11), NOW, RANDOM);
    assertEquals(NOW.plus(Duration.ofMinutes(10)), ((Retry) capped).at());
  }

  @Test
  void retryAfterDoesNotExtendTheBudget() {
    assertInstanceOf(
        DeadLetter.class, EXACT.decide(Verdict.RETRYABLE, 429, MAX, MAX, Duration.ofSeconds(1), NOW, RANDOM));
  }

  @Test
  void anEmptyScheduleIsRefused() {
    assertThrows(
        IllegalArgumentException.class, () -> new DeliveryPolicy(List.of(), 0.2, Duration.ofHours(1)));
  }

  private static Instant retryAt(DeliveryPolicy policy, int attemptInBudget) {
    Decision d = policy.decide(Verdict.RETRYABLE, 500, attemptInBudget, MAX, null, NOW, RANDOM);
    return assertInstanceOf(Retry.class, d).at();
  }
}
