package io.zyven.app.ingest;

import io.zyven.app.metrics.Metrics;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ingest rate limit: a token bucket per API key, on this node. A bucket holds one
 * second of its rate, so a key may burst that many events, then sends at its rate. The
 * buckets are not shared between nodes: behind a balancer spreading a key's requests over N
 * nodes, the key may send up to N times its rate. Exact limits would cost a database or
 * cluster round trip on every ingest.
 */
public final class IngestRateLimiter {
  // Buckets of keys idle this long are full again, so dropping them changes nothing.
  private static final long IDLE_NANOS = Duration.ofMinutes(1).toNanos();
  private static final int SWEEP_ABOVE = 10_000;

  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private volatile long sweptAt = System.nanoTime();

  /**
   * Takes one token from the key's bucket. Zero when the request may go on; otherwise how
   * long until a token is there (never zero), and the refusal is counted in
   * {@code zyven_ingest_rate_limited_total}.
   *
   * @param perSecond the key's rate; 0 or less: no limit
   */
  public Duration acquire(String key, int perSecond) {
    if (perSecond <= 0) return Duration.ZERO;
    long now = System.nanoTime();
    if (buckets.size() > SWEEP_ABOVE && now - sweptAt > IDLE_NANOS) { // revoked and idle keys
      sweptAt = now;
      buckets.values().removeIf(b -> b.idleSince(now) > IDLE_NANOS);
    }
    Bucket bucket = buckets.compute(key, (k, b) -> b != null && b.perSecond == perSecond ? b : new Bucket(perSecond, now));
    Duration wait = bucket.take(now);
    if (!wait.isZero()) Metrics.increment("zyven_ingest_rate_limited_total");
    return wait;
  }

  private static final class Bucket {
    final int perSecond;
    private double tokens;
    private long refilledAt;

    Bucket(int perSecond, long now) {
      this.perSecond = perSecond;
      this.tokens = perSecond;
      this.refilledAt = now;
    }

    synchronized Duration take(long now) {
      tokens = Math.min(perSecond, tokens + (now - refilledAt) / 1e9 * perSecond);
      refilledAt = now;
      if (tokens >= 1) {
        tokens -= 1;
        return Duration.ZERO;
      }
      return Duration.ofNanos(Math.max(1, (long) Math.ceil((1 - tokens) / perSecond * 1e9)));
    }

    synchronized long idleSince(long now) {
      return now - refilledAt;
    }
  }
}
