package io.zyven.app.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.NodeProcess;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three nodes, three JVMs, one PostgreSQL. One is killed with -9 in the middle of the
 * load. Producers retry with the same Idempotency-Key on another node until accepted;
 * every event is accepted once, every accepted event is delivered, and the survivors take
 * over the dead node's shards.
 */
class ProcessClusterTest {
  private static final Duration PATIENCE = Duration.ofSeconds(120);
  private static final Map<String, String> FAST = Map.of(
      // Down the dead node after 5 s of stable unreachability instead of 20 s.
      "pekko.cluster.split-brain-resolver.stable-after", "5s",
      "zyven.waker.interval", "500ms",
      "zyven.waker.rewake-after", "10s");

  private final List<NodeProcess> nodes = new ArrayList<>();
  private TestPostgres pg;
  private Receiver receiver;

  @AfterEach
  void stopAll() throws Exception {
    for (NodeProcess n : nodes) n.close();
    if (receiver != null) receiver.close();
    if (pg != null) pg.close();
  }

  @Test
  void killDashNineOfOneNodeUnderLoadLosesNoEvent() throws Exception {
    pg = TestPostgres.startPrivate();
    receiver = new Receiver();
    int[] ports = {freePort(), freePort(), freePort()};
    String seeds = "pekko://zyven@127.0.0.1:" + ports[0] + ",pekko://zyven@127.0.0.1:" + ports[1];
    Path logs = Files.createDirectories(Path.of("target", "node-logs"));
    for (int i = 0; i < 3; i++) {
      Map<String, String> env = Map.of(
          "ZYVEN_DB_URL", pg.jdbcUrl(), "ZYVEN_DB_USER", "postgres", "ZYVEN_DB_PASSWORD", "",
          "ZYVEN_CLUSTER_PORT", Integer.toString(ports[i]), "ZYVEN_SEED_NODES", seeds);
      nodes.add(NodeProcess.start(Files.createTempDirectory("unused"), logs.resolve("cluster-" + i + "-" + System.nanoTime() + ".log"), env, FAST));
    }
    for (NodeProcess n : nodes) n.awaitReady(PATIENCE);
    ApiClient first = nodes.get(0).api;
    Await.until("three members", PATIENCE, () -> members(first).size() == 3);
    Tenant tenant = first.createTenant("kill");
    // A short timeout: attempts the dead node had out pass their deadline, and are woken, sooner.
    first.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/hook") + "\",\"timeout_ms\":3000}");

    Producers producers = new Producers(tenant, List.of(nodes.get(0).api, nodes.get(1).api, nodes.get(2).api));
    producers.start();
    Await.until("load running", PATIENCE, () -> producers.accepted.size() >= 150);
    NodeProcess victim = nodes.get(2);
    victim.kill();
    int atKill = producers.accepted.size();
    Await.until("load goes on after the kill", PATIENCE, () -> producers.accepted.size() >= atKill + 300);
    producers.stop();

    assertEquals(producers.attempted.get(), producers.accepted.size(), "every event was accepted in the end");
    Set<String> ids = new HashSet<>(producers.accepted.values());
    assertOneAcceptancePerKey(producers.accepted);
    Await.until("the dead node is removed", PATIENCE, () -> members(first).size() == 2);
    Await.until("every accepted event delivered", PATIENCE, () -> first.listIds(tenant.apiKey(), "DELIVERED").containsAll(ids));

    Map<String, Integer> seen = new HashMap<>();
    receiver.requests("/hook").forEach(r -> seen.merge(r.header("webhook-id"), 1, Integer::sum));
    assertTrue(seen.keySet().containsAll(ids), "every accepted event reached the receiver");
    long twice = seen.values().stream().filter(n -> n > 1).count();
    System.out.printf("%d events accepted (%d client retries after errors), %d delivered more than once%n",
        ids.size(), producers.retries.get(), twice);

    // The survivors hold every event shard now.
    int survivorsShards = 0;
    for (JsonNode m : members(first)) {
      assertFalse(m.get("address").asText().endsWith(":" + ports[2]));
      survivorsShards += m.get("sharding").get("Event").get("shards").asInt();
    }
    assertTrue(survivorsShards > 0);
  }

  /**
   * Each key's event was accepted once: its journal holds exactly one Received row, however
   * often the producers resent the key, to whichever node. (The event id is derived from the
   * tenant and the key, so counting distinct ids would prove nothing; a second acceptance
   * shows only as a second Received row in the same event's journal.) And no Received row
   * belongs to any other event: this database has no other tenant.
   */
  private void assertOneAcceptancePerKey(Map<String, String> eventIdsByKey) {
    Map<String, Long> received = pg.receivedRowsPerEvent();
    List<String> notOnce = new ArrayList<>();
    eventIdsByKey.forEach((key, id) -> {
      long rows = received.getOrDefault(id, 0L);
      if (rows != 1) notOnce.add(key + " (event " + id + "): " + rows + " Received rows");
    });
    assertEquals(List.of(), notOnce, "every key's event has exactly one Received journal row");
    assertEquals(eventIdsByKey.size(), received.values().stream().mapToLong(Long::longValue).sum(),
        "Received journal rows in all, one per key");
  }

  private static List<JsonNode> members(ApiClient api) {
    List<JsonNode> up = new ArrayList<>();
    try {
      for (JsonNode m : api.send(api.request("/v1/cluster", NodeProcess.ADMIN_KEY).GET()).json().get("members")) {
        if (m.get("status").asText().equals("Up")) up.add(m);
      }
    } catch (RuntimeException notReadyYet) {
      return List.of();
    }
    return up;
  }

  private static int freePort() throws Exception {
    return NodeProcess.freePort();
  }

  /**
   * Producers that, like a well-behaved client, retry a failed request (503, connection
   * refused) with the same Idempotency-Key on the next node until it is accepted.
   */
  private static final class Producers {
    final Map<String, String> accepted = new ConcurrentHashMap<>();
    final AtomicInteger attempted = new AtomicInteger();
    final AtomicInteger retries = new AtomicInteger();
    private final Tenant tenant;
    private final List<ApiClient> nodes;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    Producers(Tenant tenant, List<ApiClient> nodes) {
      this.tenant = tenant;
      this.nodes = nodes;
    }

    void start() {
      for (int w = 0; w < 4; w++) {
        int worker = w;
        Thread t = new Thread(() -> {
          for (int i = 0; running.get(); i++) {
            String key = "p-" + worker + "-" + i;
            attempted.incrementAndGet();
            send(key, worker + i);
          }
        });
        t.start();
        threads.add(t);
      }
    }

    private void send(String key, int start) {
      Instant deadline = Instant.now().plus(PATIENCE);
      for (int n = start; Instant.now().isBefore(deadline); n++) {
        ApiClient api = nodes.get(n % nodes.size());
        try {
          Response r = api.ingest(tenant.apiKey(), key, "{\"type\":\"a.b\",\"payload\":{\"key\":\"" + key + "\"}}");
          if (r.status() == 202 || r.status() == 200) {
            accepted.put(key, r.json().get("event_id").asText());
            return;
          }
        } catch (RuntimeException refusedOrReset) {
          // the node is gone: try the next one
        }
        retries.incrementAndGet();
      }
      throw new IllegalStateException(key + " never accepted");
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) t.join();
    }
  }
}
