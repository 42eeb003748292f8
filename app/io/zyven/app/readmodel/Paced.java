package io.zyven.app.readmodel;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/** Runs an asynchronous action on each item, with at most a given number outstanding. */
final class Paced {
  private Paced() {}

  /**
   * Starts {@code action} on the items in order, a new one each time one completes, never
   * more than {@code maxInFlight} at once; completes when every one has, failed or not (the
   * action reports its own failures).
   */
  static <T> CompletionStage<Void> forEach(List<T> items, int maxInFlight, Function<T, CompletionStage<?>> action) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (items.isEmpty()) {
      done.complete(null);
      return done;
    }
    AtomicInteger next = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    Runnable launch =
        new Runnable() {
          @Override
          public void run() {
            int i = next.getAndIncrement();
            if (i >= items.size()) return;
            CompletionStage<?> stage;
            try {
              stage = action.apply(items.get(i));
            } catch (RuntimeException e) {
              stage = CompletableFuture.failedFuture(e);
            }
            stage.whenComplete(
                (result, error) -> {
                  if (finished.incrementAndGet() == items.size()) done.complete(null);
                  else run();
                });
          }
        };
    for (int k = 0; k < Math.min(maxInFlight, items.size()); k++) launch.run();
    return done;
  }
}
