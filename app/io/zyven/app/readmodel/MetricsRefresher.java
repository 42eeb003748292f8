package io.zyven.app.readmodel;

import io.zyven.app.metrics.Metrics;
import io.zyven.app.store.Database;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gauges of {@code /metrics} that come from the read model (deliveries by state, the
 * oldest unfinished delivery, queue depth per endpoint, open circuits, the projection's
 * lag, the last retention sweep) and this node's readiness, read every {@code interval}
 * by one actor per node and handed to {@link Metrics}, which serves them to every scrape.
 * So a scrape never queries PostgreSQL, and however often Prometheus (or anyone) scrapes,
 * each node runs one set of queries per interval, the next only after the last one ended:
 * they cannot pile up. A query that fails leaves its gauges out until one succeeds, rather
 * than show a stale figure.
 */
public final class MetricsRefresher {
  private static final Logger log = LoggerFactory.getLogger(MetricsRefresher.class);

  private MetricsRefresher() {}

  /** {@code topEndpoints}: endpoints labelled by id in the queue-depth gauge. */
  public record Settings(Duration interval, int topEndpoints) {}

  sealed interface Message {}

  private enum Tick implements Message {
    INSTANCE
  }

  private record Refreshed(Metrics.ReadModel view) implements Message {}

  public static void start(ActorSystem<?> system, Database db, Settings settings) {
    system.systemActorOf(
        Behaviors.supervise(create(db, new ReadModelQueries(db), settings)).onFailure(SupervisorStrategy.restart()),
        "metrics-refresher",
        Props.empty());
  }

  static Behavior<Message> create(Database db, ReadModelQueries queries, Settings settings) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  Object owner = ctx.getSelf();
                  ctx.getSelf().tell(Tick.INSTANCE);
                  return Behaviors.receive(Message.class)
                      .onMessageEquals(
                          Tick.INSTANCE,
                          () -> {
                            boolean member =
                                Cluster.get(ctx.getSystem()).selfMember().status() == MemberStatus.up();
                            ctx.pipeToSelf(
                                refresh(owner, member, db, queries, settings),
                                (view, error) -> new Refreshed(view != null ? view : notReady(owner, error)));
                            return Behaviors.same();
                          })
                      .onMessage(
                          Refreshed.class,
                          refreshed -> {
                            Metrics.readModel(refreshed.view());
                            timers.startSingleTimer(Tick.INSTANCE, settings.interval());
                            return Behaviors.same();
                          })
                      .onSignal(PostStop.class, stop -> {
                        Metrics.forgetReadModel(owner);
                        return Behaviors.same();
                      })
                      .build();
                }));
  }

  private static Metrics.ReadModel notReady(Object owner, Throwable error) {
    log.warn("Could not refresh the metrics' gauges: {}", String.valueOf(error));
    return new Metrics.ReadModel(owner, false, null, null, null, null);
  }

  /** One query after the other on one connection at a time; none at all while PostgreSQL does not answer. */
  private static CompletionStage<Metrics.ReadModel> refresh(
      Object owner, boolean member, Database db, ReadModelQueries queries, Settings settings) {
    return db.ping()
        .thenCompose(
            dbUp -> {
              if (!dbUp) return CompletableFuture.completedStage(new Metrics.ReadModel(owner, false, null, null, null, null));
              return orNull(() -> queries.backlog(settings.topEndpoints()))
                  .thenCompose(backlog -> orNull(queries::openCircuits)
                      .thenCompose(circuits -> orNull(queries::lag)
                          .thenCompose(lag -> orNull(queries::retentionStatus)
                              .thenApply(retention -> new Metrics.ReadModel(
                                  owner,
                                  member,
                                  backlog == null ? null : new Metrics.Backlog(
                                      backlog.byState(), backlog.oldestPendingSince(), backlog.topEndpoints(),
                                      backlog.otherEndpoints()),
                                  circuits,
                                  lag == null ? null : new Metrics.Lag(lag.events(), lag.seconds()),
                                  retention == null || retention.isEmpty() ? null : new Metrics.Retention(
                                      retention.get().lastRunAt(), retention.get().lastRunRemoved(),
                                      retention.get().oldestEventAt()))))));
            });
  }

  /** A query's answer, or null when it failed (its gauges are then left out). */
  private static <T> CompletionStage<T> orNull(Supplier<CompletionStage<T>> query) {
    return query.get().handle((value, error) -> {
      if (error != null) log.debug("A metrics query failed: {}", error.toString());
      return error == null ? value : null;
    });
  }
}
