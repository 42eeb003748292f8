package io.zyven.app;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per membership change, so operators see the cluster come and go without
 * Pekko's start-up internals (its own loggers are at WARN in logback.xml).
 */
final class ClusterLog {
  private ClusterLog() {}

  private static final Logger log = LoggerFactory.getLogger(ClusterLog.class);

  static void start(ActorSystem<?> system) {
    system.systemActorOf(behavior(), "cluster-log", Props.empty());
  }

  private static Behavior<ClusterEvent.ClusterDomainEvent> behavior() {
    return Behaviors.setup(
        ctx -> {
          Cluster cluster = Cluster.get(ctx.getSystem());
          ActorRef<ClusterEvent.MemberEvent> members = ctx.getSelf().narrow();
          ActorRef<ClusterEvent.ReachabilityEvent> reachability = ctx.getSelf().narrow();
          cluster.subscriptions().tell(Subscribe.create(members, ClusterEvent.MemberEvent.class));
          cluster.subscriptions().tell(Subscribe.create(reachability, ClusterEvent.ReachabilityEvent.class));
          return Behaviors.receiveMessage(
              event -> {
                if (event instanceof ClusterEvent.MemberUp up) {
                  log.info("Cluster member up: {}", up.member().address());
                } else if (event instanceof ClusterEvent.MemberLeft left) {
                  log.info("Cluster member leaving: {}", left.member().address());
                } else if (event instanceof ClusterEvent.MemberRemoved removed) {
                  log.info("Cluster member removed: {} (was {})", removed.member().address(), removed.previousStatus());
                } else if (event instanceof ClusterEvent.UnreachableMember u) {
                  log.warn("Cluster member unreachable: {}", u.member().address());
                } else if (event instanceof ClusterEvent.ReachableMember r) {
                  log.info("Cluster member reachable again: {}", r.member().address());
                }
                return Behaviors.same();
              });
        });
  }
}
