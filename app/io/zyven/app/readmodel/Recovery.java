package io.zyven.app.readmodel;

import io.zyven.app.event.EventEntity;
import io.zyven.app.readmodel.ReadModelQueries.DeadLetter;
import io.zyven.app.telemetry.LogContext;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An endpoint's recover: replays every delivery to it dead-lettered in a window, whatever
 * their number, with bounded work. The dead letters are read from the read model in
 * batches of {@code batchSize} (a keyset page each), and at most {@code maxInFlight}
 * replays are asked of their event entities at a time; the next batch is read once the
 * previous one is replayed.
 */
public final class Recovery {
  private static final Logger log = LoggerFactory.getLogger(Recovery.class);

  public record Settings(int batchSize, int maxInFlight, Duration askTimeout) {}

  private final ActorSystem<?> system;
  private final ReadModelQueries queries;
  private final Settings settings;

  public Recovery(ActorSystem<?> system, ReadModelQueries queries, Settings settings) {
    this.system = system;
    this.queries = queries;
    this.settings = settings;
  }

  /** How many dead letters a recover of this window would replay now. */
  public CompletionStage<Long> count(String tenantId, String endpointId, Instant since, Instant until) {
    return queries.countDeadLetters(tenantId, endpointId, since, until);
  }

  /**
   * Replays them; completes with how many replays were asked once the last batch is done.
   * {@code by} is who asked, as the journal records it.
   */
  public CompletionStage<Integer> run(String tenantId, String endpointId, Instant since, Instant until, String by) {
    ClusterSharding sharding = ClusterSharding.get(system);
    Function<String, CompletionStage<?>> replay =
        eventId ->
            sharding
                .entityRefFor(EventEntity.TYPE_KEY, eventId)
                .<EventEntity.StartReply>ask(
                    replyTo -> new EventEntity.Replay(tenantId, endpointId, true, by, replyTo), settings.askTimeout());
    AtomicInteger replayed = new AtomicInteger();
    return batchesFrom(tenantId, endpointId, since, until, null, replay, replayed)
        .whenComplete(
            (n, error) -> {
              LogContext.log(tenantId, null, endpointId, () -> {
                if (error != null) {
                  log.warn("Recover of endpoint {} stopped after {} replays: {}", endpointId, replayed.get(), error.toString());
                } else {
                  log.info("Recover of endpoint {} replayed {} dead letters", endpointId, n);
                }
              });
            });
  }

  private CompletionStage<Integer> batchesFrom(
      String tenantId,
      String endpointId,
      Instant since,
      Instant until,
      DeadLetter after,
      Function<String, CompletionStage<?>> replay,
      AtomicInteger replayed) {
    return queries
        .deadLetters(tenantId, endpointId, since, until, after, settings.batchSize())
        .thenCompose(
            batch -> {
              if (batch.isEmpty()) return CompletableFuture.completedFuture(replayed.get());
              List<String> ids = batch.stream().map(DeadLetter::eventId).toList();
              // On the system's dispatcher: the ask's stage would otherwise run this on the
              // common pool, which on two cores starts a thread per replay.
              return Paced.forEach(ids, settings.maxInFlight(), id -> replay.apply(id).whenCompleteAsync((r, e) -> {
                    if (e != null) {
                      LogContext.log(tenantId, id, endpointId,
                          () -> log.warn("Recover: replay of event {} not confirmed: {}", id, e.toString()));
                    }
                    replayed.incrementAndGet();
                  }, system.executionContext()))
                  .thenCompose(
                      done ->
                          batch.size() < settings.batchSize()
                              ? CompletableFuture.completedFuture(replayed.get())
                              : batchesFrom(tenantId, endpointId, since, until, batch.get(batch.size() - 1), replay, replayed));
            });
  }
}
