package io.zyven.app.delivery;

import com.typesafe.config.Config;
import io.zyven.protocol.EventJournal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The delivery policy, in one place: what an attempt's result means, what it does to the
 * endpoint, and when to try again.
 *
 * <ul>
 *   <li>2xx: delivered.
 *   <li>408, 425, 429, 5xx, 3xx (redirects are not followed), timeouts, refused or reset
 *       connections, DNS failures, and a reply that never came back: retryable.
 *   <li>410: dead-lettered, and the endpoint is disabled.
 *   <li>Any other 4xx, and an endpoint that is disabled or deleted: dead-lettered at once.
 * </ul>
 *
 * Retries follow {@code zyven.delivery.retry-schedule} (the delay after the n-th failure
 * is its n-th entry, the last one repeating), each ±{@code jitter}, with a Retry-After on
 * 429/503 honoured up to {@code max-retry-after}. The count is capped by the endpoint's
 * {@code max_attempts}, counted since the last replay: never infinite. Randomness comes
 * from the caller, so every decision can be replayed in a test.
 */
public final class DeliveryPolicy {

  /** What one attempt's result means. */
  public enum Verdict {
    SUCCESS,
    RETRYABLE,
    PERMANENT,
    /** 410: the receiver says the endpoint is gone for good. */
    GONE
  }

  /** What to do with a delivery after an attempt. */
  public sealed interface Decision {}

  public record Deliver() implements Decision {}

  public record Retry(Instant at, String reason) implements Decision {}

  public record DeadLetter(String reason) implements Decision {}

  /** The error recorded for an attempt whose outcome never came back. */
  public static final String NO_REPLY = "no reply from the endpoint in time";

  private final List<Duration> schedule;
  private final double jitter;
  private final Duration maxRetryAfter;

  public DeliveryPolicy(List<Duration> schedule, double jitter, Duration maxRetryAfter) {
    if (schedule.isEmpty()) throw new IllegalArgumentException("retry-schedule must not be empty");
    this.schedule = List.copyOf(schedule);
    this.jitter = jitter;
    this.maxRetryAfter = maxRetryAfter;
  }

  public static DeliveryPolicy fromConfig(Config delivery) {
    return new DeliveryPolicy(
        delivery.getDurationList("retry-schedule"),
        delivery.getDouble("jitter"),
        delivery.getDuration("max-retry-after"));
  }

  /** The verdict for a response status, or for no response at all ({@code null}). */
  public static Verdict classify(Integer status) {
    if (status == null) return Verdict.RETRYABLE; // timeout, refused, reset, DNS
    if (status >= 200 && status < 300) return Verdict.SUCCESS;
    if (status == 410) return Verdict.GONE;
    if (status == 408 || status == 425 || status == 429 || status >= 500) return Verdict.RETRYABLE;
    if (status >= 300 && status < 400) return Verdict.RETRYABLE;
    return Verdict.PERMANENT;
  }

  /** How the reason of a delivery whose transformation failed begins. */
  public static final String TRANSFORMATION = "transformation ";

  /** How the reason of a delivery dead-lettered for running out of attempts begins. */
  static final String GAVE_UP = "gave up after ";

  /**
   * Why a delivery was dead-lettered, for the dead-letter counter: {@code expunged} (no
   * attempt: the payload went), {@code exhausted} (out of attempts), {@code gone} (410),
   * {@code permanent} (another 4xx), or {@code refused} (not sent: the endpoint was deleted
   * or disabled, or is pending verification), or {@code transformation} (not sent: the endpoint's transformation failed).
   */
  public static String deadLetterCause(EventJournal.DeadLettered d) {
    if (d.attempt() == null) return "expunged";
    if (d.reason().startsWith(TRANSFORMATION)) return "transformation";
    if (d.reason().startsWith(GAVE_UP)) return "exhausted";
    return switch (classify(d.attempt().statusCode())) {
      case GONE -> "gone";
      case PERMANENT -> "permanent";
      default -> "refused";
    };
  }

  /** Whether a result counts against the endpoint's health (its circuit breaker). */
  public static boolean isFailure(Verdict verdict) {
    return verdict == Verdict.RETRYABLE;
  }

  /** Whether a result disables the endpoint at once. */
  public static boolean disablesEndpoint(Verdict verdict) {
    return verdict == Verdict.GONE;
  }

  /**
   * The decision after attempt {@code attemptInBudget} (counted since the last replay) out
   * of {@code maxAttempts} had {@code verdict}. {@code retryAfter} is the receiver's
   * Retry-After on a 429 or 503, or null.
   */
  public Decision decide(
      Verdict verdict,
      Integer status,
      int attemptInBudget,
      int maxAttempts,
      Duration retryAfter,
      Instant now,
      RandomGenerator random) {
    return switch (verdict) {
      case SUCCESS -> new Deliver();
      case GONE -> new DeadLetter("410 Gone: the endpoint is disabled");
      case PERMANENT -> new DeadLetter("permanent failure (HTTP " + status + ")");
      case RETRYABLE -> {
        if (attemptInBudget >= maxAttempts) {
          yield new DeadLetter(GAVE_UP + attemptInBudget + " attempts");
        }
        boolean honoursRetryAfter = retryAfter != null && status != null && (status == 429 || status == 503);
        Duration delay =
            honoursRetryAfter ? min(retryAfter, maxRetryAfter) : backoff(attemptInBudget, random);
        yield new Retry(now.plus(delay), honoursRetryAfter ? "Retry-After " + delay.toSeconds() + "s" : "retryable failure");
      }
    };
  }

  /** The delay after the {@code failures}-th failure, with jitter. */
  public Duration backoff(int failures, RandomGenerator random) {
    Duration base = schedule.get(Math.min(Math.max(failures, 1), schedule.size()) - 1);
    return withJitter(base, random);
  }

  /**
   * When an attempt the endpoint could not make (circuit open, queue full) comes back: no
   * sooner than {@code until}, spread by the jitter so that deferred deliveries do not all
   * return at the same instant.
   */
  public Instant comeBackAt(Instant now, Instant until, RandomGenerator random) {
    Duration wait = Duration.between(now, until);
    Instant jittered = now.plus(withJitter(wait.isNegative() ? Duration.ZERO : wait, random));
    return jittered.isBefore(until) ? until : jittered;
  }

  /** {@code base} ±jitter, so that deliveries failing together do not retry together. */
  Duration withJitter(Duration base, RandomGenerator random) {
    double factor = 1 + jitter * (2 * random.nextDouble() - 1);
    return Duration.ofNanos((long) (base.toNanos() * factor));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
