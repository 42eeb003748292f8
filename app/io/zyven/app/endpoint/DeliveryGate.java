package io.zyven.app.endpoint;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * One endpoint's admission of requests: at most {@code maxInFlight} at once, at most
 * {@code ratePerSecond} started per second (token bucket), the rest waiting in a bounded
 * queue for at most {@code queueTimeout}. Plain state, owned by the endpoint actor.
 */
final class DeliveryGate<T> {

  record Limits(int maxInFlight, Integer ratePerSecond, int queueLimit, Duration queueTimeout) {}

  private record Waiting<T>(T item, Instant since) {}

  /** What to do with the items {@link #drain} released. */
  record Released<T>(List<T> toSend, List<T> expired) {}

  private final Deque<Waiting<T>> queue = new ArrayDeque<>();
  private int inFlight;
  private double tokens = -1; // -1: the bucket starts full
  private Instant refilledAt;

  int inFlight() {
    return inFlight;
  }

  int waiting() {
    return queue.size();
  }

  boolean hasWaiting() {
    return !queue.isEmpty();
  }

  /** True: send it now (counted in flight). False: it waits. Null: the queue is full. */
  Boolean offer(T item, Instant now, Limits limits) {
    if (queue.isEmpty() && inFlight < limits.maxInFlight() && takeToken(now, limits)) {
      inFlight++;
      return true;
    }
    if (queue.size() >= limits.queueLimit()) return null;
    queue.addLast(new Waiting<>(item, now));
    return false;
  }

  /** Queues an item whatever the limits allow now; false when the queue is full. */
  boolean hold(T item, Instant now, Limits limits) {
    if (queue.size() >= limits.queueLimit()) return false;
    queue.addLast(new Waiting<>(item, now));
    return true;
  }

  /** Empties the queue, returning what waited in it. */
  List<T> takeAll() {
    List<T> all = new ArrayList<>();
    while (!queue.isEmpty()) all.add(queue.pollFirst().item());
    return all;
  }

  /** Takes out the waiting items {@code which} selects; they will not be released. */
  int remove(java.util.function.Predicate<T> which) {
    int before = queue.size();
    queue.removeIf(w -> which.test(w.item()));
    return before - queue.size();
  }

  /** A request sent past the gate anyway (a circuit probe) still counts as in flight. */
  void forceStart() {
    inFlight++;
  }

  void finished() {
    inFlight--;
  }

  /**
   * Waiting items that may go now (none when {@code mayRelease} is false), and those that
   * waited too long.
   */
  Released<T> drain(Instant now, Limits limits, boolean mayRelease) {
    List<T> toSend = new ArrayList<>();
    List<T> expired = new ArrayList<>();
    while (!queue.isEmpty()) {
      Waiting<T> head = queue.peekFirst();
      if (Duration.between(head.since(), now).compareTo(limits.queueTimeout()) > 0) {
        expired.add(queue.pollFirst().item());
        continue;
      }
      if (!mayRelease) {
        // Keep checking the rest for expiry.
        List<Waiting<T>> kept = new ArrayList<>();
        while (!queue.isEmpty()) {
          Waiting<T> w = queue.pollFirst();
          if (Duration.between(w.since(), now).compareTo(limits.queueTimeout()) > 0) expired.add(w.item());
          else kept.add(w);
        }
        queue.addAll(kept);
        break;
      }
      if (inFlight >= limits.maxInFlight() || !takeToken(now, limits)) break;
      inFlight++;
      toSend.add(queue.pollFirst().item());
    }
    return new Released<>(toSend, expired);
  }

  private boolean takeToken(Instant now, Limits limits) {
    Integer rate = limits.ratePerSecond();
    if (rate == null) return true;
    if (tokens < 0 || refilledAt == null) {
      tokens = rate;
    } else {
      double elapsed = Duration.between(refilledAt, now).toNanos() / 1e9;
      tokens = Math.min(rate, tokens + elapsed * rate);
    }
    refilledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }
}
