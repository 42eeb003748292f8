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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM while attempts hang at a receiver that never answers in time: the node still
 * exits 0 within its configured {@code zyven.shutdown.timeout}, and after a restart every
 * accepted event is delivered.
 */
class GracefulShutdownTest {
  private static final int EVENTS = 6;
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(8);
  // The JVM's own exit and process reaping, on a busy 2-core machine.
  private static final Duration SLACK = Duration.ofSeconds(4);

  private Path dataDir;
  private Path log;
  private NodeProcess node;
  private Receiver receiver;

  @BeforeEach
  void setUp() throws Exception {
    dataDir = Files.createTempDirectory("zyven-graceful");
    log = NodeProcess.logFile("graceful-shutdown");
    // Room for the hung requests and for the deliveries after the restart.
    receiver = new Receiver(2 * EVENTS + 4);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (node != null) node.close();
    receiver.close();
    NodeProcess.killPostgres(dataDir);
  }

  @Test
  void sigtermWithAttemptsHangingExitsZeroWithinTheConfiguredTimeAndLosesNothing() throws Exception {
    Map<String, String> config = Map.of("zyven.shutdown.timeout", SHUTDOWN_TIMEOUT.toSeconds() + "s");
    node = NodeProcess.start(dataDir, log, Map.of(), config, List.of("dev"));
    node.awaitReady(Duration.ofSeconds(90));
    Tenant tenant = node.api.createTenant("graceful");
    // The receiver holds every request far longer than the shutdown may take; the
    // endpoint's own timeout is longer still, so the attempts are in flight at SIGTERM.
    receiver.on("/hook", n -> Answer.status(200).after(120_000));
    node.api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/hook") + "\",\"timeout_ms\":20000}");
    Set<String> accepted = new HashSet<>();
    for (int i = 0; i < EVENTS; i++) {
      Response r = node.api.ingest(tenant.apiKey(), "graceful-" + i, "{\"type\":\"order.paid\",\"payload\":{\"n\":" + i + "}}");
      assertEquals(202, r.status(), r.body());
      accepted.add(r.json().get("event_id").asText());
    }
    Await.until("every event's first attempt hangs at the receiver", Duration.ofSeconds(60),
        () -> receiver.arrivals("/hook").size() >= EVENTS);

    long start = System.nanoTime();
    node.signalTerm();
    int exit = node.awaitExit(SHUTDOWN_TIMEOUT.plus(SLACK).plus(SLACK));
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertEquals(0, exit, "exit code on SIGTERM; output in " + log);
    assertTrue(took.compareTo(SHUTDOWN_TIMEOUT.plus(SLACK)) <= 0,
        "stopped in " + took.toMillis() + " ms, configured " + SHUTDOWN_TIMEOUT.toMillis() + " ms; output in " + log);

    // Nothing accepted is lost: the hung attempts count as lost replies and are tried again.
    int hung = receiver.requests("/hook").size();
    receiver.on("/hook", n -> Answer.status(200));
    node = NodeProcess.start(dataDir, log, Map.of(), config, List.of("dev"));
    node.awaitReady(Duration.ofSeconds(90));
    Await.until("every accepted event is delivered after the restart", Duration.ofSeconds(120),
        () -> deliveredAfter(hung).containsAll(accepted));
  }

  /** The events of the requests after the first {@code skip}, all answered 200 at once. */
  private Set<String> deliveredAfter(int skip) {
    List<Receiver.Request> all = receiver.requests("/hook");
    Set<String> ids = new HashSet<>();
    for (Receiver.Request r : all.subList(skip, all.size())) ids.add(r.header("webhook-id"));
    return ids;
  }
}
