package io.zyven.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.NodeProcess;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attempts that were out when their node died (kill -9) are sent again within a minute of
 * the restart: the waker judges each by its own deadline (its endpoint's timeout, plus the
 * queue time and the reply margin), not by a fixed wait of minutes. Observed through the
 * receiver and the read model only, so nothing but the waker can have woken the events.
 */
class InFlightRecoveryTest {
  private static final int EVENTS = 20;

  private Path dataDir;
  private NodeProcess node;
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void cleanUp() throws Exception {
    release.countDown();
    if (node != null) node.close();
    NodeProcess.killPostgres(dataDir);
  }

  @Test
  void attemptsInFlightAtAKillAreSentAgainWithinAMinuteOfTheRestart() throws Exception {
    dataDir = Files.createTempDirectory("zyven-in-flight");
    Path log = NodeProcess.logFile("in-flight");
    try (Receiver receiver = new Receiver()) {
      // Until the node is dead, the receiver holds every request: all of them are in flight.
      receiver.on("/held", n -> {
        try {
          release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return Answer.status(200);
      });
      node = NodeProcess.start(dataDir, log, Map.of());
      node.awaitReady(Duration.ofSeconds(90));
      Tenant tenant = node.api.createTenant("in-flight");
      node.api.createEndpoint(tenant.apiKey(),
          "{\"url\":\"" + receiver.url("/held") + "\",\"max_in_flight\":" + EVENTS + ",\"timeout_ms\":5000}");
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < EVENTS; i++) {
        Response r = node.api.ingest(tenant.apiKey(), "held-" + i, "{\"type\":\"a.b\",\"payload\":{\"n\":" + i + "}}");
        assertEquals(202, r.status(), r.body());
        ids.add(r.json().get("event_id").asText());
      }
      Await.until("every attempt in flight", Duration.ofSeconds(30), () -> receiver.inProgress() == EVENTS);

      node.kill();
      release.countDown(); // the held answers go to a dead client
      node = NodeProcess.start(dataDir, log, Map.of());
      node.awaitReady(Duration.ofSeconds(90));
      Instant restarted = Instant.now();

      Await.until("every event delivered in the read model", Duration.ofSeconds(60),
          () -> node.api.listIds(tenant.apiKey(), "DELIVERED").containsAll(ids));
      assertTrue(Duration.between(restarted, Instant.now()).compareTo(Duration.ofSeconds(60)) < 0);
      for (String id : ids) {
        long sends = receiver.requests("/held").stream().filter(r -> id.equals(r.header("webhook-id"))).count();
        assertEquals(2, sends, "sent once before the kill and once after: " + id);
      }
    }
  }
}
