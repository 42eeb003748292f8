package io.zyven.app.endpoint;

import java.time.Duration;
import java.time.Instant;

/**
 * One endpoint's circuit breaker. Closed: requests go. After {@code threshold} consecutive
 * retryable failures it opens: no request is sent until the cool-down has passed; then one
 * probe goes (half-open). A successful probe closes it; a failed one reopens it with the
 * cool-down doubled, up to {@code maxCooldown}. Plain state, owned by the endpoint actor.
 */
public final class CircuitBreaker {

  public record Settings(int threshold, Duration cooldown, Duration maxCooldown) {}

  /** What a request may do now. */
  sealed interface Admission {}

  record Allow() implements Admission {}

  /** The one request that tests a recovering endpoint. */
  record Probe() implements Admission {}

  record Reject(Instant retryAt, String reason) implements Admission {}

  /** Half-open with the probe still out: wait (in the endpoint's queue) for its verdict. */
  record Wait() implements Admission {}

  /** How a result moved the breaker. */
  enum Change {
    NONE,
    OPENED,
    CLOSED
  }

  private final Settings settings;
  private int consecutiveFailures;
  private Instant firstFailureAt;
  private Instant openUntil; // null while closed
  private Duration cooldown;
  private boolean probeInFlight;

  CircuitBreaker(Settings settings) {
    this.settings = settings;
    this.cooldown = settings.cooldown();
  }

  /** After a restart of an endpoint whose circuit was open: the next request probes. */
  void restoreOpen(Instant failingSince, Instant now) {
    firstFailureAt = failingSince;
    consecutiveFailures = settings.threshold();
    openUntil = now;
  }

  boolean isOpen() {
    return openUntil != null;
  }

  /** Where the circuit stands, as the health view shows it. */
  public enum Position {
    CLOSED,
    /** No request is sent until the cool-down ends. */
    OPEN,
    /** The cool-down has ended: the next request, or the one out now, is the probe. */
    HALF_OPEN
  }

  Position position(Instant now) {
    if (openUntil == null) return Position.CLOSED;
    return probeInFlight || !now.isBefore(openUntil) ? Position.HALF_OPEN : Position.OPEN;
  }

  /** When the endpoint started failing without a success in between, or null. */
  Instant failingSince() {
    return firstFailureAt;
  }

  Admission admit(Instant now) {
    if (openUntil == null) return new Allow();
    if (now.isBefore(openUntil)) return new Reject(openUntil, "circuit open");
    if (probeInFlight) return new Wait();
    probeInFlight = true;
    return new Probe();
  }

  /** Whether requests must wait for a probe's verdict. */
  boolean awaitingProbe() {
    return probeInFlight;
  }

  /**
   * A request admitted was not sent after all (its transformation cancelled or failed): it
   * tells nothing of the receiver; if it was the probe, the next request probes instead.
   */
  void probeNotMade(boolean wasProbe) {
    if (wasProbe) probeInFlight = false;
  }

  /** The receiver answered in a way that shows it is up (2xx, or a permanent 4xx). */
  Change onSuccess() {
    boolean wasOpen = openUntil != null;
    consecutiveFailures = 0;
    firstFailureAt = null;
    openUntil = null;
    probeInFlight = false;
    cooldown = settings.cooldown();
    return wasOpen ? Change.CLOSED : Change.NONE;
  }

  /** A retryable failure (5xx, 429, timeout, refused...). */
  Change onFailure(boolean wasProbe, Instant now) {
    if (firstFailureAt == null) firstFailureAt = now;
    consecutiveFailures++;
    if (wasProbe && probeInFlight) { // a probe whose circuit closed meanwhile is an ordinary failure
      probeInFlight = false;
      cooldown = min(cooldown.multipliedBy(2), settings.maxCooldown());
      openUntil = now.plus(cooldown);
      return Change.NONE; // it was open already
    }
    if (openUntil == null && consecutiveFailures >= settings.threshold()) {
      cooldown = settings.cooldown();
      openUntil = now.plus(cooldown);
      return Change.OPENED;
    }
    return Change.NONE;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
