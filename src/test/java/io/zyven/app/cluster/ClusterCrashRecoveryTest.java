package io.zyven.app.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.NodeProcess;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A cluster of two nodes, two JVMs, one PostgreSQL. Events are pending on both nodes, with
 * attempts out from both to a receiver that holds every request, when one node is killed
 * with -9: every one of them is delivered within a minute of the dead node being downed (the
 * time of the split brain resolver's decision in the survivor's log). The survivor takes
 * over the dead node's event and endpoint entities; attempts whose outcome died with it are
 * sent again (the waker finds them past their deadline in the read model; with the waker off
 * this test fails). Observed through the receiver and the read model only (no GET
 * /v1/events/{id}, which would start the entities itself).
 *
 * <p>The killed node is the oldest (it holds the shard coordinator and the waker, which
 * must move) and has the higher address: with two members, keep-majority keeps the side with
 * the lowest address, so killing the other one would down the survivor too.
 */
class ClusterCrashRecoveryTest {
  private static final int EVENTS = 150;
  private static final Duration START = Duration.ofSeconds(90);
  private static final Duration AFTER_DOWNING = Duration.ofSeconds(60);
  private static final Map<String, String> CONFIG = Map.of(
      // Down the dead node after 5 s of stable unreachability instead of 20 s.
      "pekko.cluster.split-brain-resolver.stable-after", "5s",
      // Millisecond-scale retries and circuit, as in CrashRecoveryTest: the survivor's own
      // attempts time out while the receiver holds them; recovery is what is under test.
      // The deadline of an orphaned attempt (queue-timeout + timeout_ms + reply-margin) is
      // the production one.
      "zyven.delivery.retry-schedule.0", "300ms",
      "zyven.delivery.retry-schedule.1", "1s",
      "zyven.circuit.cooldown", "1s",
      "zyven.circuit.max-cooldown", "2s",
      "zyven.waker.interval", "500ms",
      "zyven.waker.retry-grace", "1s",
      "zyven.waker.rewake-after", "5s");

  private final List<NodeProcess> nodes = new ArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private final List<String> paths = new ArrayList<>();
  private TestPostgres pg;
  private Receiver receiver;

  @AfterEach
  void stopAll() throws Exception {
    release.countDown();
    for (NodeProcess n : nodes) n.close();
    if (receiver != null) receiver.close();
    if (pg != null) pg.close();
  }

  @Test
  void killDashNineOfAMemberWithDeliveriesInFlightDeliversEveryEventWithinAMinuteOfItsDowning() throws Exception {
    pg = TestPostgres.startPrivate();
    // Until the kill, the receiver holds every request (past its 3 s timeout, so attempts
    // time out, are retried, and open circuits meanwhile, as with any slow receiver).
    receiver = new Receiver(1000);

    int low = NodeProcess.freePort();
    int high = NodeProcess.freePort();
    if (low > high) {
      int t = low;
      low = high;
      high = t;
    }
    String victimAddress = "pekko://zyven@127.0.0.1:" + high;
    String survivorAddress = "pekko://zyven@127.0.0.1:" + low;
    // The victim is the first seed: it forms the cluster, so it is the oldest member.
    String seeds = victimAddress + "," + survivorAddress;
    Path survivorLog = NodeProcess.logFile("cluster-crash-survivor");
    NodeProcess victim = start(high, seeds, NodeProcess.logFile("cluster-crash-victim"));
    NodeProcess survivor = start(low, seeds, survivorLog);
    victim.awaitReady(START);
    survivor.awaitReady(START);
    ApiClient api = survivor.api;
    Await.until("two members up", START, () -> upMembers(api) == 2);

    // Endpoints, each on a path of its own, until each node holds two: where an endpoint's
    // entity lives is where its attempts go out from, so the receiver knows which node sent what.
    Tenant tenant = api.createTenant("cluster-crash");
    Map<String, List<String>> pathsOn = Map.of(victimAddress, new ArrayList<>(), survivorAddress, new ArrayList<>());
    List<String> endpoints = new ArrayList<>();
    while (pathsOn.get(victimAddress).size() < 2 || pathsOn.get(survivorAddress).size() < 2) {
      assertTrue(endpoints.size() < 16, "16 endpoints and still not two on each node: " + pathsOn);
      String path = "/hook/" + endpoints.size();
      paths.add(path);
      receiver.on(path, n -> {
        try {
          release.await(90, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return Answer.status(200);
      });
      Map<String, Integer> before = endpointEntities(api);
      endpoints.add(api.createEndpoint(tenant.apiKey(),
          "{\"url\":\"" + receiver.url(path) + "\",\"timeout_ms\":3000,\"max_in_flight\":" + EVENTS + "}"));
      Map<String, Integer> after = endpointEntities(api);
      String home = after.keySet().stream().filter(a -> after.get(a) == before.get(a) + 1).findFirst()
          .orElseThrow(() -> new AssertionError("no node started the endpoint: " + before + " -> " + after));
      pathsOn.get(home).add(path);
    }

    Instant ingestStarted = Instant.now();
    List<String> ids = ingest(tenant, List.of(victim.api, survivor.api), endpoints);
    Duration ingestTook = Duration.between(ingestStarted, Instant.now());
    int victimEvents = entities(api, victimAddress, "Event");
    int survivorEvents = entities(api, survivorAddress, "Event");
    assertTrue(victimEvents > 0 && survivorEvents > 0, "events live on both nodes: " + victimEvents + ", " + survivorEvents);
    // Kill while both nodes have an attempt out: one that reached the receiver less than 2 s
    // ago (the client gives up after 3 s), held, from an endpoint on each node.
    // Nothing can have been delivered: the receiver has answered no request yet.
    Await.until("attempts in flight from both nodes", Duration.ofSeconds(30),
        () -> inFlight(pathsOn.get(victimAddress)) > 0 && inFlight(pathsOn.get(survivorAddress)) > 0);
    int inFlightOnVictim = inFlight(pathsOn.get(victimAddress));
    int inFlightOnSurvivor = inFlight(pathsOn.get(survivorAddress));
    victim.kill();
    Instant killed = Instant.now();
    // The held requests are answered 200 now, those of the dead node to closed connections:
    // the receiver's 200 alone does not make an event delivered; the read model says so.
    release.countDown();

    Await.until("the survivor downs and removes the dead node", START,
        () -> NodeProcess.read(survivorLog).contains("Cluster member removed: " + victimAddress));
    Instant removed = Instant.now();
    Instant downed = downedAt(NodeProcess.read(survivorLog), victimAddress);
    try {
      Await.until("every event delivered, at the receiver and in the read model",
          AFTER_DOWNING.minus(Duration.between(downed, Instant.now())),
          () -> answered200().containsAll(ids) && deliveredInTheReadModel(tenant).containsAll(ids));
    } catch (AssertionError e) {
      describeUndelivered(tenant, ids);
      throw e;
    }
    Instant allDelivered = Instant.now();

    System.out.printf(
        "%d events pending (ingest took %d ms; %d live on the victim, %d on the survivor; endpoints %s on the victim,"
            + " %s on the survivor); at the kill %d attempts in flight from the victim, %d from the survivor;"
            + " downed %d ms after the kill (removed %d ms after); all delivered %d ms after the downing%n",
        ids.size(), ingestTook.toMillis(), victimEvents, survivorEvents, pathsOn.get(victimAddress),
        pathsOn.get(survivorAddress), inFlightOnVictim, inFlightOnSurvivor,
        Duration.between(killed, downed).toMillis(), Duration.between(downed, removed).toMillis(),
        Duration.between(downed, allDelivered).toMillis());
    assertTrue(Duration.between(downed, allDelivered).compareTo(AFTER_DOWNING) < 0);
    assertEquals(1, upMembers(api), "the survivor alone is up");
  }

  /**
   * When the survivor's split brain resolver downed the dead node: the time of its decision
   * in the survivor's log (logback's HH:mm:ss.SSS, this machine's time zone).
   */
  private static Instant downedAt(String log, String address) {
    String decision = "SBR took decision DownUnreachable and is downing [" + address + "]";
    String line = log.lines().filter(l -> l.contains(decision)).findFirst()
        .orElseThrow(() -> new AssertionError("the survivor's log has no line with: " + decision));
    java.time.ZonedDateTime now = java.time.ZonedDateTime.now();
    java.time.ZonedDateTime at = now.with(java.time.LocalTime.parse(line.substring(0, 12)));
    return (at.isAfter(now.plusMinutes(1)) ? at.minusDays(1) : at).toInstant(); // the log line may be from before midnight
  }

  /** Where each event not yet delivered stands: the receiver's view and the read model's. */
  private void describeUndelivered(Tenant tenant, List<String> ids) {
    Set<String> answered = answered200();
    Set<String> delivered = deliveredInTheReadModel(tenant);
    for (String id : ids) {
      if (answered.contains(id) && delivered.contains(id)) continue;
      StringBuilder seen = new StringBuilder();
      for (String path : paths) {
        for (Receiver.Request r : receiver.arrivals(path)) {
          if (id.equals(r.header("webhook-id"))) seen.append(path).append(" at ").append(r.at()).append("; ");
        }
      }
      System.out.println("not delivered: " + id + " (answered 200: " + answered.contains(id) + ") arrived: [" + seen
          + "] read model: " + pg.queryString(
              "SELECT string_agg(status || ', attempts ' || attempt_count || ', next ' || coalesce(next_attempt_at::text, '-')"
                  + " || ', changed ' || status_changed_at || ', error ' || coalesce(last_error, '-'), '; ')"
                  + " FROM deliveries WHERE event_id = ?::uuid", id));
    }
  }

  /** Requests to these paths that arrived less than 2 s ago and are still held. */
  private int inFlight(List<String> paths) {
    Instant recent = Instant.now().minusSeconds(2);
    int n = 0;
    for (String path : paths) {
      for (Receiver.Request r : receiver.arrivals(path)) if (r.at().isAfter(recent) && release.getCount() > 0) n++;
    }
    return n;
  }

  private NodeProcess start(int clusterPort, String seeds, Path log) throws Exception {
    Map<String, String> env = Map.of(
        "ZYVEN_DB_URL", pg.jdbcUrl(), "ZYVEN_DB_USER", "postgres", "ZYVEN_DB_PASSWORD", "",
        "ZYVEN_CLUSTER_PORT", Integer.toString(clusterPort), "ZYVEN_SEED_NODES", seeds);
    NodeProcess node = NodeProcess.start(Files.createTempDirectory("unused"), log, env, CONFIG);
    nodes.add(node);
    return node;
  }

  /** Accepts the events, spread over the endpoints, through both nodes at once. */
  private static List<String> ingest(Tenant tenant, List<ApiClient> apis, List<String> endpoints) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<String>> accepted = new ArrayList<>();
      for (int i = 0; i < EVENTS; i++) {
        int n = i;
        accepted.add(pool.submit(() -> {
          String body = "{\"type\":\"order.paid\",\"payload\":{\"n\":" + n + "},\"endpoint_id\":\""
              + endpoints.get(n % endpoints.size()) + "\"}";
          // A 503 says "retry with the same key" (the node was busy): a producer does that.
          Response r = apis.get(n % apis.size()).ingest(tenant.apiKey(), "crash-" + n, body);
          for (int tries = 1; r.status() == 503 && tries < 5; tries++) {
            r = apis.get(n % apis.size()).ingest(tenant.apiKey(), "crash-" + n, body);
          }
          // 200: a retry found the first try's write (the same event, replayed).
          assertTrue(r.status() == 202 || r.status() == 200, r.status() + " " + r.body());
          return r.json().get("event_id").asText();
        }));
      }
      List<String> ids = new ArrayList<>();
      for (Future<String> f : accepted) ids.add(f.get(60, TimeUnit.SECONDS));
      return ids;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Events the receiver answered 200 (webhook-id is the event id). */
  private Set<String> answered200() {
    Set<String> ids = new HashSet<>();
    for (String path : paths) {
      for (Receiver.Request r : receiver.requests(path)) if (r.answered() == 200) ids.add(r.header("webhook-id"));
    }
    return ids;
  }

  /** Events of the tenant whose row in the read model says DELIVERED. */
  private Set<String> deliveredInTheReadModel(Tenant tenant) {
    Set<String> ids = new HashSet<>();
    try (var c = java.sql.DriverManager.getConnection(pg.jdbcUrl(), "postgres", "");
        var st = c.prepareStatement("SELECT event_id FROM events WHERE tenant_id = ?::uuid AND status = 'DELIVERED'")) {
      st.setString(1, tenant.id());
      try (var rs = st.executeQuery()) {
        while (rs.next()) ids.add(rs.getString(1));
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
    return ids;
  }

  private static JsonNode cluster(ApiClient api) {
    return api.send(api.request("/v1/cluster", NodeProcess.ADMIN_KEY).GET()).json();
  }

  private static int upMembers(ApiClient api) {
    try {
      int up = 0;
      for (JsonNode m : cluster(api).get("members")) if (m.get("status").asText().equals("Up")) up++;
      return up;
    } catch (RuntimeException notReadyYet) {
      return 0;
    }
  }

  /** Live endpoint entities per member address. */
  private static Map<String, Integer> endpointEntities(ApiClient api) {
    Map<String, Integer> counts = new java.util.HashMap<>();
    for (JsonNode m : cluster(api).get("members")) {
      counts.put(m.get("address").asText(), m.get("sharding").get("Endpoint").get("entities").asInt());
    }
    return counts;
  }

  /** Live entities of this type on the member with this address. */
  private static int entities(ApiClient api, String address, String type) {
    for (JsonNode m : cluster(api).get("members")) {
      if (m.get("address").asText().equals(address)) return m.get("sharding").get(type).get("entities").asInt();
    }
    throw new AssertionError("no member " + address);
  }
}
