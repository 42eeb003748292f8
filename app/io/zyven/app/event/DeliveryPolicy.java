package io.zyven.app.event;

import com.typesafe.config.Config;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The delivery policy, in one place: what an HTTP result means, and when to try again.
 *
 * <ul>
 *   <li>2xx: delivered.
 *   <li>408, 425, 429, 5xx, 3xx (redirects are not followed), timeouts, refused or reset
 *       connections, DNS failures: retryable.
 *   <li>410: dead-lettered, and the endpoint is disabled.
 *   <li>Any other 4xx: dead-lettered at once.
 * </ul>
 *
 * Retries follow {@code zyven.delivery.retry-schedule} (the delay after the n-th failure
 * is its n-th entry, the last one repeating), each ±{@code jitter}, with a Retry-After on
 * 429/503 honoured up to {@code max-retry-after}. The count is capped by the endpoint's
 * {@code max_attempts}: never infinite.
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

  /**
   * The decision after attempt {@code attemptInBudget} (counted since the last replay) out
   * of {@code maxAttempts} had {@code verdict}. {@code retryAfter} is the receiver's
   * Retry-After on a 429 or 503, or null.
   */
  public Decision decide(
      Verdict verdict, Integer status, int attemptInBudget, int maxAttempts, Duration retryAfter, Instant now) {
    return switch (verdict) {
      case SUCCESS -> new Deliver();
      case GONE -> new DeadLetter("410 Gone: the endpoint is disabled");
      case PERMANENT -> new DeadLetter("permanent failure (HTTP " + status + ")");
      case RETRYABLE -> {
        if (attemptInBudget >= maxAttempts) {
          yield new DeadLetter("gave up after " + attemptInBudget + " attempts");
        }
        boolean honoursRetryAfter = retryAfter != null && status != null && (status == 429 || status == 503);
        Duration delay =
            honoursRetryAfter ? min(retryAfter, maxRetryAfter) : backoff(attemptInBudget);
        yield new Retry(now.plus(delay), honoursRetryAfter ? "Retry-After " + delay.toSeconds() + "s" : "retryable failure");
      }
    };
  }

  /** The delay after the {@code failures}-th failure, with jitter. */
  public Duration backoff(int failures) {
    Duration base = schedule.get(Math.min(Math.max(failures, 1), schedule.size()) - 1);
    return withJitter(base);
  }

  /** {@code base} ±jitter, so that deliveries failing together do not retry together. */
  public Duration withJitter(Duration base) {
    double factor = 1 + jitter * (2 * ThreadLocalRandom.current().nextDouble() - 1);
    return Duration.ofNanos((long) (base.toNanos() * factor));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
