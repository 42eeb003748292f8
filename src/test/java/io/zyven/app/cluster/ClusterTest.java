package io.zyven.app.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Several nodes (ActorSystems in this JVM) on one PostgreSQL form one cluster: events sent
 * to any node are delivered; a node leaves gracefully under load, or joins under load, and
 * no request fails and no accepted event is lost.
 */
class ClusterTest {
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private final List<TestNode> nodes = new ArrayList<>();
  private Receiver receiver;
  private Tenant tenant;

  @BeforeEach
  void threeNodes() throws Exception {
    receiver = new Receiver();
    TestNode first = TestNode.start(TestPostgres.shared());
    nodes.add(first);
    nodes.add(join());
    nodes.add(join());
    awaitMembers(first.api, 3);
    tenant = first.api.createTenant("cluster-" + UUID.randomUUID());
    first.api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/hook") + "\"}");
  }

  @AfterEach
  void stopAll() throws Exception {
    // Youngest first: each hands its shards to nodes still up, and the oldest, which holds
    // the shard coordinator, goes last.
    for (int i = nodes.size() - 1; i >= 0; i--) nodes.get(i).close();
    receiver.close();
  }

  @Test
  void eventsSentToEveryNodeAreDelivered() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      Response r = nodes.get(i % 3).api.ingest(tenant.apiKey(), "k-" + i, body(i));
      assertEquals(202, r.status(), r.body());
      ids.add(r.json().get("event_id").asText());
    }
    // Any node reads any event: the entity lives on one of them.
    for (int i = 0; i < ids.size(); i++) {
      String id = ids.get(i);
      ApiClient reader = nodes.get((i + 1) % 3).api;
      Await.until(id + " delivered", PATIENCE,
          () -> reader.get("/v1/events/" + id, tenant.apiKey()).json().get("status").asText().equals("DELIVERED"));
    }
    assertEquals(60, receiver.requests("/hook").size());
    assertSharesOfTheWork(nodes.get(0).api);
  }

  @Test
  void aNodeLeavingGracefullyUnderLoadLosesNothing() throws Exception {
    Load load = new Load(List.of(nodes.get(0).api, nodes.get(1).api));
    load.start();
    Await.until("load running", PATIENCE, () -> load.accepted.size() >= 50);

    TestNode leaving = nodes.remove(2);
    leaving.close(); // CoordinatedShutdown: leave, hand shards over, stop
    load.mark(); // the node is gone: events sent from now on are accepted by the two left
    Await.until("100 events sent after the leave accepted", PATIENCE, () -> load.acceptedSinceMark().size() >= 100);
    load.stop();

    assertEquals(List.of(), load.failures, "every request was accepted (503s retried with the same key)");
    System.out.printf("graceful leave: %d 503 answers retried after their Retry-After%n", load.unavailable.get());
    List<String> afterTheLeave = load.acceptedSinceMark();
    awaitAllDelivered(nodes.get(0).api, afterTheLeave);
    awaitAllDelivered(nodes.get(0).api, load.accepted);
    awaitMembers(nodes.get(0).api, 2);
  }

  @Test
  void aNodeJoiningUnderLoadTakesShardsAndTheLoadGoesOn() throws Exception {
    Load load = new Load(List.of(nodes.get(0).api, nodes.get(1).api, nodes.get(2).api));
    load.start();
    Await.until("load running", PATIENCE, () -> load.accepted.size() >= 50);

    TestNode joined = join();
    nodes.add(joined);
    awaitMembers(nodes.get(0).api, 4);
    String joinedAddress = Cluster.get(joined.zyven().system()).selfMember().address().toString();
    Await.until("shards rebalanced onto the new node", PATIENCE,
        () -> shardsOf(nodes.get(0).api, joinedAddress) > 0);
    load.mark();
    Await.until("load goes on", PATIENCE, () -> load.acceptedSinceMark().size() >= 100);
    load.stop();

    assertEquals(List.of(), load.failures, "every request was accepted (503s retried with the same key)");
    System.out.printf("join: %d 503 answers retried%n", load.unavailable.get());
    awaitAllDelivered(nodes.get(0).api, load.accepted);
  }

  // ---- helpers ----

  private TestNode join() {
    String seed = Cluster.get(nodes.get(0).zyven().system()).selfMember().address().toString();
    return TestNode.start(TestPostgres.shared(), Map.of("pekko.cluster.seed-nodes", List.of(seed)));
  }

  private void awaitMembers(ApiClient api, int count) {
    Await.until(count + " members up", PATIENCE, () -> {
      JsonNode members = api.send(api.request("/v1/cluster", TestNode.ADMIN_KEY).GET()).json().get("members");
      int up = 0;
      for (JsonNode m : members) if (m.get("status").asText().equals("Up")) up++;
      return up == count && members.size() == count;
    });
  }

  private static int shardsOf(ApiClient api, String address) {
    for (JsonNode m : api.send(api.request("/v1/cluster", TestNode.ADMIN_KEY).GET()).json().get("members")) {
      if (m.get("address").asText().equals(address)) return m.get("sharding").get("Event").get("shards").asInt();
    }
    return 0;
  }

  private void assertSharesOfTheWork(ApiClient api) {
    int holding = 0;
    for (JsonNode m : api.send(api.request("/v1/cluster", TestNode.ADMIN_KEY).GET()).json().get("members")) {
      if (m.get("sharding").get("Event").get("shards").asInt() > 0) holding++;
    }
    assertTrue(holding >= 2, "event shards spread over the nodes: " + holding);
  }

  private void awaitAllDelivered(ApiClient api, java.util.Collection<String> accepted) {
    try {
      Await.until("every accepted event listed as delivered", PATIENCE,
          () -> api.listIds(tenant.apiKey(), "DELIVERED").containsAll(accepted));
    } catch (AssertionError e) {
      // Say which events are missing and where their entities left them.
      List<String> missing = new ArrayList<>(accepted);
      missing.removeAll(api.listIds(tenant.apiKey(), "DELIVERED"));
      for (String id : missing) {
        System.out.println("not listed as delivered: " + api.get("/v1/events/" + id, tenant.apiKey()).body());
      }
      throw e;
    }
    Map<String, Integer> seen = new HashMap<>();
    receiver.requests("/hook").forEach(r -> seen.merge(r.header("webhook-id"), 1, Integer::sum));
    assertTrue(seen.keySet().containsAll(accepted), "every accepted event reached the receiver");
    long twice = seen.values().stream().filter(n -> n > 1).count();
    System.out.printf("%d accepted, %d delivered more than once%n", accepted.size(), twice);
  }

  private static String body(int i) {
    return "{\"type\":\"order.paid\",\"payload\":{\"n\":" + i + "}}";
  }

  /**
   * Producers ingesting as fast as they can, round-robin over some nodes. A 503 is retried
   * with the same key after the time its Retry-After says, as a well-behaved producer does.
   */
  private final class Load {
    final ConcurrentLinkedQueue<String> accepted = new ConcurrentLinkedQueue<>();
    final List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    final java.util.concurrent.atomic.AtomicInteger unavailable = new java.util.concurrent.atomic.AtomicInteger();
    /** Accepted events with the time their key was first sent. */
    private final ConcurrentLinkedQueue<Sent> sent = new ConcurrentLinkedQueue<>();
    private final List<ApiClient> targets;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private volatile Instant mark = Instant.now();

    private record Sent(String eventId, Instant at) {}

    Load(List<ApiClient> targets) {
      this.targets = targets;
    }

    void start() {
      for (int t = 0; t < 4; t++) {
        int worker = t;
        Thread thread = new Thread(() -> {
          int i = 0;
          while (running.get()) {
            ApiClient api = targets.get((worker + i) % targets.size());
            String key = "load-" + worker + "-" + i++;
            Instant at = Instant.now();
            try {
              Response r = api.ingest(tenant.apiKey(), key, body(i));
              // A 503 with Retry-After is the API's way to say "again, same key, after this
              // long": a producer retries it then, and it must then be accepted, once.
              for (int tries = 0; r.status() == 503 && tries < 20; tries++) {
                Optional<String> retryAfter = r.header("Retry-After");
                if (retryAfter.isEmpty()) break;
                unavailable.incrementAndGet();
                Thread.sleep(Duration.ofSeconds(Long.parseLong(retryAfter.get().trim())).toMillis()); // as the server asked
                r = api.ingest(tenant.apiKey(), key, body(i));
              }
              if (r.status() == 202 || r.status() == 200) {
                String id = r.json().get("event_id").asText();
                accepted.add(id);
                sent.add(new Sent(id, at));
              } else {
                failures.add(key + ": " + r.status() + " " + r.header("Retry-After").map(s -> "Retry-After " + s).orElse("") + " " + r.body());
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              failures.add(key + ": interrupted");
              return;
            } catch (RuntimeException e) {
              failures.add(key + ": " + e);
            }
          }
        });
        thread.start();
        threads.add(thread);
      }
    }

    /** From now on: events whose key is first sent after this are "since the mark". */
    void mark() {
      mark = Instant.now();
    }

    /** Accepted events whose key was first sent after the mark. */
    List<String> acceptedSinceMark() {
      Instant since = mark;
      return sent.stream().filter(s -> !s.at().isBefore(since)).map(Sent::eventId).toList();
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) t.join();
    }
  }
}
