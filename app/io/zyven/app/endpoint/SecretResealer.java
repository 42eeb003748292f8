package io.zyven.app.endpoint;

import io.zyven.app.store.EndpointIndex;
import io.zyven.app.store.SecretBox;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start-up sweep that reseals, under the current master key, the secrets of every
 * endpoint the index says are sealed under another key (or not sealed: journaled before
 * sealing existed). An endpoint that runs reseals itself after recovery; this reaches the
 * ones that do not run. It pages through the index a batch at a time, one batch in flight,
 * and says in the log how far it got; every node runs it, and a second asking is a no-op.
 */
public final class SecretResealer {
  private static final Logger log = LoggerFactory.getLogger(SecretResealer.class);

  private final ClusterSharding sharding;
  private final EndpointIndex index;
  private final SecretBox box;
  private final int batch;
  private final Duration askTimeout;
  private int resealed;
  private int failed;

  private SecretResealer(ActorSystem<?> system, EndpointIndex index, SecretBox box, int batch, Duration askTimeout) {
    this.sharding = ClusterSharding.get(system);
    this.index = index;
    this.box = box;
    this.batch = batch;
    this.askTimeout = askTimeout;
  }

  /** Starts the sweep in the background; the returned stage completes when it has finished. */
  public static CompletionStage<Void> start(
      ActorSystem<?> system, EndpointIndex index, SecretBox box, int batch, Duration askTimeout) {
    return new SecretResealer(system, index, box, batch, askTimeout).page(null);
  }

  private CompletionStage<Void> page(String afterId) {
    return index
        .notSealedUnder(box.currentKeyId(), afterId, batch)
        .thenCompose(
            ids -> {
              if (ids.isEmpty()) {
                finish();
                return CompletableFuture.completedFuture(null);
              }
              List<CompletableFuture<Void>> asks = new ArrayList<>();
              for (String id : ids) asks.add(reseal(id));
              return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
                  .thenCompose(
                      done -> {
                        log.info(
                            "Resealing endpoint secrets under master key {}: {} endpoint(s) done so far, {} not",
                            box.currentKeyId(), resealed, failed);
                        return page(ids.get(ids.size() - 1));
                      });
            })
        .exceptionally(
            e -> {
              log.warn("The reseal sweep stopped ({}); it starts again with the next start of a node", e.toString());
              return null;
            });
  }

  private CompletableFuture<Void> reseal(String id) {
    return sharding
        .entityRefFor(EndpointEntity.TYPE_KEY, id)
        .<EndpointEntity.Reply>ask(EndpointEntity.Reseal::new, askTimeout)
        .handle(
            (reply, error) -> {
              synchronized (this) {
                if (error != null) failed++;
                else if (reply instanceof EndpointEntity.Resealed r && r.done()) resealed++;
                else failed++; // its secret would not open: the entity logged why
              }
              return (Void) null;
            })
        .toCompletableFuture();
  }

  private void finish() {
    if (resealed == 0 && failed == 0) return;
    if (failed == 0) {
      log.info(
          "Reseal sweep done: {} endpoint(s) sealed under master key {}.{}", resealed, box.currentKeyId(),
          box.hasPreviousKeys() ? " Once every node runs with it, ZYVEN_SECRET_KEY_PREVIOUS can be dropped." : "");
    } else {
      log.warn(
          "Reseal sweep done: {} endpoint(s) sealed under master key {}, {} not (see the errors above);"
              + " keep ZYVEN_SECRET_KEY_PREVIOUS until a later start reseals them.", resealed, box.currentKeyId(), failed);
    }
  }
}
