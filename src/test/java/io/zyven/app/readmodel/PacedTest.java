package io.zyven.app.readmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Recover's pacing: every item is acted on once, with never more than the bound outstanding. */
class PacedTest {

  @Test
  void everyItemOnceAndNeverMoreThanTheBoundOutstanding() {
    List<Integer> items = IntStream.range(0, 50).boxed().toList();
    List<Integer> started = new ArrayList<>();
    ArrayDeque<CompletableFuture<Void>> outstanding = new ArrayDeque<>();
    CompletionStage<Void> all = Paced.forEach(items, 7, i -> {
      started.add(i);
      CompletableFuture<Void> f = new CompletableFuture<>();
      outstanding.add(f);
      return f;
    });
    int completed = 0;
    while (!outstanding.isEmpty()) {
      assertEquals(Math.min(7, items.size() - completed), outstanding.size(), "outstanding after " + completed);
      assertFalse(all.toCompletableFuture().isDone());
      CompletableFuture<Void> oldest = outstanding.poll();
      // A failed replay does not stop the others.
      if (completed % 5 == 0) oldest.completeExceptionally(new IllegalStateException("no answer"));
      else oldest.complete(null);
      completed++;
    }
    assertEquals(items, started, "each item once, in order");
    assertTrue(all.toCompletableFuture().isDone());
  }

  @Test
  void nothingToDoCompletesAtOnce() {
    assertTrue(Paced.forEach(List.of(), 3, i -> new CompletableFuture<>()).toCompletableFuture().isDone());
  }
}
