package io.zyven.app.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.event.EventEntity;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion.CurrentShardRegionState;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An event waiting for a distant retry leaves memory (passivation), and the waker brings
 * it back when the retry is due: memory is bounded by active work, not by the backlog.
 */
class PassivatedRetryTest {
  private static TestPostgres pg;
  private static TestNode node;
  private static Receiver receiver;

  @BeforeAll
  static void start() throws Exception {
    receiver = new Receiver();
    pg = TestPostgres.shared();
    node = TestNode.start(pg, Map.of(
        "pekko.cluster.sharding.passivation.default-idle-strategy.idle-entity.timeout", "1s",
        "zyven.delivery.retry-schedule", List.of("5s"),
        "zyven.delivery.jitter", 0,
        "zyven.waker.interval", "200ms",
        "zyven.waker.retry-grace", "300ms"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    receiver.close();
  }

  @Test
  void aRetryDueWhileTheEntityIsPassivatedIsStillMade() {
    ApiClient api = node.api;
    receiver.on("/later", n -> Answer.status(n == 1 ? 503 : 200));
    Tenant tenant = api.createTenant("passivated");
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/later") + "\"}");
    String id = api.ingest(tenant.apiKey(), "p-1", "{\"type\":\"a.b\",\"payload\":{}}").json().get("event_id").asText();

    Await.until("the entity passivated while its retry waits", Duration.ofSeconds(4), () -> !alive(id));
    Instant passivatedAt = Instant.now();
    // Observed through the receiver and the read model only: a GET /v1/events/{id} would
    // start the entity itself, and its recovery would make the retry without the waker.
    Await.until("the retry reached the receiver", Duration.ofSeconds(15), () -> receiver.requests("/later").size() >= 2);
    Await.until("delivered in the read model", Duration.ofSeconds(15),
        () -> "DELIVERED".equals(pg.queryString("SELECT status FROM events WHERE event_id = ?::uuid", id)));

    List<Receiver.Request> requests = receiver.requests("/later");
    assertEquals(2, requests.size());
    assertEquals(200, requests.get(1).answered());
    assertTrue(requests.get(1).at().isAfter(passivatedAt), "the retry was made after the entity had left memory");
    assertTrue(Duration.between(requests.get(0).at(), requests.get(1).at()).toMillis() >= 4900, "not before it was due");
    assertEquals(2, pg.count("SELECT count(*) FROM attempts WHERE event_id = ?::uuid", id), "two attempts in the read model");
    assertEquals("DELIVERED", pg.queryString("SELECT status FROM deliveries WHERE event_id = ?::uuid", id));
  }

  /** Whether the event's entity is in memory on this node (the only node). */
  private static boolean alive(String eventId) {
    ActorSystem<?> system = node.zyven().system();
    try {
      CurrentShardRegionState state = AskPattern.<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery, CurrentShardRegionState>ask(
              ClusterSharding.get(system).shardState(),
              replyTo -> new GetShardRegionState(EventEntity.TYPE_KEY, replyTo),
              Duration.ofSeconds(3),
              system.scheduler())
          .toCompletableFuture()
          .get(5, TimeUnit.SECONDS);
      return state.getShards().stream().anyMatch(s -> s.getEntityIds().contains(eventId));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
