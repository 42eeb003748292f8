package io.zyven.app.http;

import io.zyven.app.endpoint.EndpointEntity;
import io.zyven.app.event.EventEntity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.ShardRegion.ClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/** {@code GET /v1/cluster} (admin): members, and the shards and live entities each holds. */
final class ClusterRoutes {
  private final ActorSystem<?> system;
  private final Executor ec;
  private final Duration timeout;

  ClusterRoutes(ActorSystem<?> system, Duration timeout) {
    this.system = system;
    this.ec = system.executionContext();
    this.timeout = timeout;
  }

  record MemberView(String address, String status, boolean reachable, boolean self, Map<String, ShardsView> sharding) {}

  record ShardsView(int shards, int entities) {}

  record ClusterView(String self, String leader, List<MemberView> members) {}

  CompletionStage<HttpResponse> status() {
    return stats(EventEntity.TYPE_KEY)
        .thenCombineAsync(stats(EndpointEntity.TYPE_KEY), (events, endpoints) -> view(events, endpoints), ec);
  }

  private CompletionStage<ClusterShardingStats> stats(EntityTypeKey<?> key) {
    return AskPattern.<ClusterShardingQuery, ClusterShardingStats>ask(
        ClusterSharding.get(system).shardState(),
        replyTo -> new GetClusterShardingStats(key, timeout, replyTo),
        timeout.plusSeconds(1),
        system.scheduler());
  }

  private HttpResponse view(ClusterShardingStats events, ClusterShardingStats endpoints) {
    Cluster cluster = Cluster.get(system);
    var state = cluster.state();
    List<MemberView> members = new ArrayList<>();
    for (Member m : state.getMembers()) {
      Map<String, ShardsView> sharding = new TreeMap<>();
      sharding.put("Event", shards(events, m));
      sharding.put("Endpoint", shards(endpoints, m));
      members.add(new MemberView(
          m.address().toString(), m.status().toString(), !state.getUnreachable().contains(m),
          m.equals(cluster.selfMember()), sharding));
    }
    String leader = state.getLeader() == null ? null : state.getLeader().toString();
    return Responses.json(200, new ClusterView(cluster.selfMember().address().toString(), leader, members));
  }

  private static ShardsView shards(ClusterShardingStats stats, Member member) {
    var region = stats.getRegions().get(member.address());
    if (region == null) return new ShardsView(0, 0);
    Map<String, Object> perShard = region.getStats();
    int entities = perShard.values().stream().mapToInt(n -> ((Number) n).intValue()).sum();
    return new ShardsView(perShard.size(), entities);
  }
}
