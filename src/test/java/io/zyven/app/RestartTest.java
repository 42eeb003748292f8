package io.zyven.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.NodeProcess;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A node run as an operator runs it (its own JVM, embedded PostgreSQL in a data dir):
 * what it accepted is still there after a graceful restart and after kill -9, and a node
 * killed with -9 starts again at the first try although its PostgreSQL survived it.
 */
class RestartTest {
  private static final Duration START = Duration.ofSeconds(90);

  private Path dataDir;
  private Path log;
  private NodeProcess node;

  @BeforeEach
  void dataDir() throws IOException {
    dataDir = Files.createTempDirectory("zyven-restart");
    log = NodeProcess.logFile("restart");
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (node != null) node.close();
    // Whatever happened, leave no PostgreSQL behind.
    NodeProcess.killPostgres(dataDir);
  }

  @Test
  void acceptedEventsSurviveKillDashNineAndTheNodeStartsAgainAtOnce() throws Exception {
    node = start();
    Tenant tenant = node.api.createTenant("restart");
    node.api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/hook\"}");
    List<String> ids = ingest(node.api, tenant, 20);

    node.kill();
    Optional<Long> survivor = NodeProcess.postgresPid(dataDir);
    assertTrue(survivor.flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false),
        "the killed node's PostgreSQL is still running (the case under test)");

    node = start(); // must not need a second try
    assertFalse(ProcessHandle.of(survivor.get()).map(ProcessHandle::isAlive).orElse(false));
    assertAllThere(node.api, tenant, ids);
  }

  @Test
  void acceptedEventsSurviveAGracefulRestart() throws Exception {
    node = start();
    Tenant tenant = node.api.createTenant("restart");
    node.api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/hook\"}");
    List<String> ids = ingest(node.api, tenant, 20);

    node.terminate();
    assertFalse(NodeProcess.postgresPid(dataDir).flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false),
        "SIGTERM stops the embedded PostgreSQL too");

    node = start();
    assertAllThere(node.api, tenant, ids);
  }

  @Test
  void anAttemptInFlightWhenTheNodeStopsFinishesAndIsNotSentAgain() throws Exception {
    java.util.concurrent.CountDownLatch arrived = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    try (Receiver receiver = new Receiver()) {
      // The receiver holds its answer until the node has begun to stop.
      receiver.on("/held", n -> {
        arrived.countDown();
        try {
          release.await(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return Answer.status(200);
      });
      node = start();
      Tenant tenant = node.api.createTenant("in-flight");
      node.api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/held") + "\"}");
      String id = ingest(node.api, tenant, 1).get(0);
      assertTrue(arrived.await(15, java.util.concurrent.TimeUnit.SECONDS), "the attempt reached the receiver");

      NodeProcess stopping = node;
      Thread stop = new Thread(() -> {
        try {
          stopping.terminate();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      stop.start();
      Await.until("the node is stopping", Duration.ofSeconds(15),
          () -> NodeProcess.read(log).contains("Running CoordinatedShutdown"));
      release.countDown();
      stop.join(60_000);

      node = start();
      Await.until("delivered", Duration.ofSeconds(30),
          () -> node.api.listIds(tenant.apiKey(), "DELIVERED").contains(id));
      assertEquals(1, receiver.requests("/held").size(), "its outcome came back before the node stopped");
    }
  }


  private NodeProcess start() throws Exception {
    NodeProcess n = NodeProcess.start(dataDir, log, Map.of());
    n.awaitReady(START);
    return n;
  }

  private static List<String> ingest(ApiClient api, Tenant tenant, int count) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Response r = api.ingest(tenant.apiKey(), "key-" + i, body(i));
      assertEquals(202, r.status(), r.body());
      ids.add(r.json().get("event_id").asText());
    }
    return ids;
  }

  private static void assertAllThere(ApiClient api, Tenant tenant, List<String> ids) {
    for (int i = 0; i < ids.size(); i++) {
      Response event = api.get("/v1/events/" + ids.get(i), tenant.apiKey());
      assertEquals(200, event.status(), event.body());
      assertEquals(i, event.json().get("payload").get("n").asInt());
      // The key is still known: a retried request is a replay, not a second event.
      Response again = api.ingest(tenant.apiKey(), "key-" + i, body(i));
      assertEquals(200, again.status());
      assertEquals(ids.get(i), again.json().get("event_id").asText());
    }
  }

  private static String body(int n) {
    return "{\"type\":\"invoice.paid\",\"payload\":{\"n\":" + n + "}}";
  }
}
