package io.zyven.app.readmodel;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * How fast the retention sweep asks entities to retire: removal is background work, so it
 * takes the CPU that ingest and delivery leave. Once a second the pace looks at the
 * machine's CPU load; above {@code busyCpu} it halves its rate, down to its floor; at or
 * below it climbs back by a tenth of {@code max}, up to {@code max} a second. So a backlog
 * goes at full speed on an idle node and at the floor while ingest keeps the machine busy,
 * as PostgreSQL's own autovacuum yields through its cost delay.
 *
 * <p>The floor is {@code min} a second, or a tenth more than the rate at which events are
 * passing their retention period ({@link #keepUpWith}), whichever is higher: yielding
 * may delay a backlog, but never lets the steady flow outrun removal, or the disk would
 * grow for as long as the node stays busy.
 *
 * <p>The rate is expressed as a cost per element for Pekko's {@code throttle}: the throttle
 * refills {@link #tokensPerSecond()} tokens a second, and each element costs
 * {@link #cost()} of them.
 */
final class RetentionPace {
  /** Tokens per element at the full rate: fine enough steps between min and max. */
  static final int SCALE = 16;

  private final int min;
  private final int max;
  private final double busyCpu;
  private final DoubleSupplier cpuLoad;
  private final LongSupplier nanoTime;
  private double rate;
  private double keepUp;
  private long lastLook;

  RetentionPace(int min, int max, double busyCpu, DoubleSupplier cpuLoad, LongSupplier nanoTime) {
    if (min < 1 || max < min) throw new IllegalArgumentException("need 1 <= min-per-second <= max-per-second");
    this.min = min;
    this.max = max;
    this.busyCpu = busyCpu;
    this.cpuLoad = cpuLoad;
    this.nanoTime = nanoTime;
    // Start low: the first look says whether the machine has room.
    this.rate = min;
    this.lastLook = nanoTime.getAsLong();
  }

  /** A pace on this machine's CPU load, as the JVM sees it (the whole machine or container). */
  static RetentionPace ofMachine(int min, int max, double busyCpu) {
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    return new RetentionPace(min, max, busyCpu, os::getCpuLoad, System::nanoTime);
  }

  int tokensPerSecond() {
    return max * SCALE;
  }

  /** The throttle's tokens for the next element; called once per element, on one thread. */
  int cost() {
    long now = nanoTime.getAsLong();
    if (now - lastLook >= Duration.ofSeconds(1).toNanos()) {
      lastLook = now;
      double load = cpuLoad.getAsDouble();
      // A negative load means the platform cannot tell: keep the current rate.
      if (load > busyCpu) rate = Math.max(floor(), rate / 2);
      else if (load >= 0) rate = Math.min(max, rate + max / 10.0);
    }
    rate = Math.max(rate, floor());
    return (int) Math.round(SCALE * max / rate);
  }

  /**
   * Events are passing their retention period at this rate (a second): never go slower
   * than a tenth more, up to {@code max}. Called by the sweep before each run.
   */
  void keepUpWith(double perSecond) {
    keepUp = Math.min(max, perSecond * 1.1);
  }

  private double floor() {
    return Math.max(min, keepUp);
  }

  int min() {
    return min;
  }

  /** Events a second at the current pace. */
  double rate() {
    return rate;
  }
}
