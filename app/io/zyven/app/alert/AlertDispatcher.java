package io.zyven.app.alert;

import io.zyven.app.alert.AlertOutbox.Batch;
import io.zyven.app.metrics.Metrics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends operational events to the tenants' alert channels: a cluster singleton that every
 * {@code tick} first sends again any batch claimed but never marked sent (a node died
 * mid-send), then claims each tenant's due group as a batch, sends it, and marks it sent.
 * Grouping is Alertmanager's: a new group waits {@code groupWait} so that a burst goes as
 * one message; after a batch, the tenant's next waits until {@code groupInterval} has
 * passed, and everything that arrived meanwhile goes as one digest. One cycle at a time.
 */
public final class AlertDispatcher {
  private static final Logger log = LoggerFactory.getLogger(AlertDispatcher.class);

  public record Settings(Duration tick, Duration groupWait, Duration groupInterval, Duration keep) {}

  private interface Message {}

  private enum Tick implements Message {
    INSTANCE
  }

  private record CycleDone(Throwable error) implements Message {}

  /** Tenants claimed per cycle, at most; the rest wait for the next tick. */
  private static final int BATCHES_PER_CYCLE = 100;

  static void init(ActorSystem<?> system, AlertOutbox outbox, AlertSender sender, Settings settings) {
    ClusterSingleton.get(system)
        .init(
            SingletonActor.of(
                Behaviors.supervise(create(outbox, sender, settings)).onFailure(SupervisorStrategy.restart()),
                "alert-dispatcher"));
  }

  static Behavior<Message> create(AlertOutbox outbox, AlertSender sender, Settings settings) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      Executor ec = ctx.getExecutionContext();
      Instant[] lastForget = {Instant.EPOCH};
      timers.startSingleTimer(Tick.INSTANCE, settings.tick());
      return Behaviors.receive(Message.class)
          .onMessageEquals(Tick.INSTANCE, () -> {
            boolean forget = lastForget[0].isBefore(Instant.now().minus(Duration.ofHours(1)));
            if (forget) lastForget[0] = Instant.now();
            CompletionStage<Void> cycle = outbox.unsent(BATCHES_PER_CYCLE)
                .thenComposeAsync(batches -> sendAll(outbox, sender, batches, false, ec), ec)
                .thenComposeAsync(v -> outbox.claimDue(settings.groupWait(), settings.groupInterval(), BATCHES_PER_CYCLE), ec)
                .thenComposeAsync(batches -> sendAll(outbox, sender, batches, true, ec), ec)
                .thenComposeAsync(v -> forget ? forget(outbox, settings.keep()) : CompletableFuture.<Void>completedFuture(null), ec);
            ctx.pipeToSelf(cycle, (v, error) -> new CycleDone(error));
            return Behaviors.same();
          })
          .onMessage(CycleDone.class, done -> {
            if (done.error() != null) log.warn("Alert dispatcher: {}", done.error().toString());
            timers.startSingleTimer(Tick.INSTANCE, settings.tick());
            return Behaviors.same();
          })
          .build();
    }));
  }

  private static CompletionStage<Void> forget(AlertOutbox outbox, Duration keep) {
    return outbox.forget(keep).thenAccept(n -> {
      if (n > 0) log.info("Forgot {} operational events sent more than {} ago", n, keep);
    });
  }

  /**
   * One batch after another; a batch that fails stays unsent and is sent again next tick.
   * The events of a batch just claimed ({@code fresh}) are counted once, as raised.
   */
  private static CompletionStage<Void> sendAll(
      AlertOutbox outbox, AlertSender sender, List<Batch> batches, boolean fresh, Executor ec) {
    CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
    for (Batch b : batches) {
      chain = chain.thenComposeAsync(v -> outbox.events(b.id())
          .thenApply(events -> {
            if (fresh) events.forEach(e -> Metrics.operationalEvent(e.type()));
            return events;
          })
          .thenComposeAsync(events -> sender.send(b.id(), b.tenantId(), events)
              .thenComposeAsync(v1 -> sender.sendGlobal(b.id(), b.claimedAt(), events), ec), ec)
          .thenComposeAsync(v2 -> outbox.markSent(b.id()), ec)
          .exceptionally(error -> {
            log.warn("Alert batch {} of tenant {} not sent yet: {}", b.id(), b.tenantId(), error.toString());
            return null;
          }), ec);
    }
    return chain;
  }
}
