package io.zyven.app.readmodel;

import io.zyven.app.event.EventEntity;
import io.zyven.app.metrics.Metrics;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The safety net that makes accepted events reach a terminal state whatever happens to
 * the nodes: a cluster singleton that regularly looks in the read model for deliveries
 * whose retry is overdue, or whose attempt is past its own deadline and never ended, and wakes
 * their event entities through sharding. A woken entity recovers and picks its deliveries
 * up where they were; waking a live one is harmless. With it, entities waiting for a
 * distant retry may passivate: memory is bounded by active work, not by the backlog.
 */
public final class Waker {
  private static final Logger log = LoggerFactory.getLogger(Waker.class);

  /**
   * {@code attemptMargin}: how much longer than its endpoint's timeout an attempt may take
   * before it is presumed orphaned (the queue time plus the reply margin, as the event
   * entity itself waits); {@code defaultTimeout}: the timeout of an endpoint the index does
   * not know; {@code rewakeAfter}: how long a woken event is left alone.
   */
  public record Settings(
      Duration interval,
      Duration retryGrace,
      Duration attemptMargin,
      Duration defaultTimeout,
      Duration rewakeAfter,
      int batch) {}

  private interface Message {}

  private enum Tick implements Message {
    INSTANCE
  }

  private record Found(List<String> eventIds, Throwable error) implements Message {}

  public static void init(ActorSystem<?> system, ReadModelQueries queries, Settings settings) {
    ClusterSingleton.get(system)
        .init(
            SingletonActor.of(
                Behaviors.supervise(create(queries, settings)).onFailure(SupervisorStrategy.restart()),
                "waker"));
  }

  static Behavior<Message> create(ReadModelQueries queries, Settings settings) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
                  // Recently woken events are left alone for rewake-after: a woken entity
                  // sends its orphaned attempt again without a new journal row, so its
                  // read-model row looks the same until that attempt ends.
                  Map<String, Instant> recentlyWoken = new LinkedHashMap<>();
                  timers.startSingleTimer(Tick.INSTANCE, settings.interval());
                  return Behaviors.receive(Message.class)
                      .onMessageEquals(
                          Tick.INSTANCE,
                          () -> {
                            Instant now = Instant.now();
                            ctx.pipeToSelf(
                                queries.toWake(
                                    now.minus(settings.retryGrace()),
                                    now.minus(settings.attemptMargin()),
                                    settings.defaultTimeout(),
                                    settings.batch()),
                                Found::new);
                            return Behaviors.same();
                          })
                      .onMessage(
                          Found.class,
                          found -> {
                            Instant now = Instant.now();
                            recentlyWoken.values().removeIf(at -> at.isBefore(now.minus(settings.rewakeAfter())));
                            if (found.error() != null) {
                              log.warn("Waker could not read the read model: {}", found.error().toString());
                            } else {
                              int woken = 0;
                              for (String eventId : found.eventIds()) {
                                if (recentlyWoken.putIfAbsent(eventId, now) != null) continue;
                                sharding.entityRefFor(EventEntity.TYPE_KEY, eventId).tell(EventEntity.Wake.INSTANCE);
                                woken++;
                              }
                              Metrics.wakes(woken);
                              if (woken > 0) log.info("Woke {} events with overdue deliveries", woken);
                            }
                            timers.startSingleTimer(Tick.INSTANCE, settings.interval());
                            return Behaviors.same();
                          })
                      .build();
                }));
  }
}
