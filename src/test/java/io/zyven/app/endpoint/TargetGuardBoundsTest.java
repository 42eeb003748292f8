package io.zyven.app.endpoint;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** DNS lookups are bounded: in how many may wait, and in how long one may take. */
class TargetGuardBoundsTest {

  @Test
  void aLookupPastTheQueueFailsAtOnce() {
    ThreadPoolExecutor dns =
        new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(1));
    CountDownLatch release = new CountDownLatch(1);
    try {
      dns.execute(() -> awaitQuietly(release)); // the one thread is busy
      dns.execute(() -> {}); // the queue is full
      TargetGuard guard = new TargetGuard(false, dns, Duration.ofSeconds(5));
      CompletionException e =
          assertThrows(CompletionException.class, () -> guard.checkUrl("https://example.com/hook").toCompletableFuture().join());
      assertInstanceOf(RejectedExecutionException.class, e.getCause());
      e = assertThrows(CompletionException.class, () -> guard.resolveAsync("example.com", 443).toCompletableFuture().join());
      assertInstanceOf(RejectedExecutionException.class, e.getCause());
    } finally {
      release.countDown();
      dns.shutdown();
    }
  }

  @Test
  void aLookupNotAnsweredInTimeFails() {
    // An executor that takes the lookup and never runs it: a resolver that never answers.
    TargetGuard guard = new TargetGuard(false, task -> {}, Duration.ofMillis(100));
    CompletionException e =
        assertThrows(CompletionException.class, () -> guard.resolveAsync("example.com", 443).toCompletableFuture().join());
    assertInstanceOf(TimeoutException.class, e.getCause());
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
