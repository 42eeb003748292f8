package io.zyven.app.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assertions;

/** Waits for a condition observed through the API (there is nothing to subscribe to). */
public final class Await {
  private Await() {}

  public static void until(String what, Duration timeout, Supplier<Boolean> condition) {
    Instant deadline = Instant.now().plus(timeout);
    while (!condition.get()) {
      if (Instant.now().isAfter(deadline)) Assertions.fail("timed out after " + timeout + " waiting for: " + what);
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }
}
