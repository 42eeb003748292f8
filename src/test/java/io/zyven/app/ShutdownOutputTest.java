package io.zyven.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.NodeProcess;
import io.zyven.app.testing.Receiver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What an operator sees when a node that has done real work (journal writes, read-model
 * projections, webhook deliveries) is stopped with SIGTERM: a clean exit, and no line that
 * looks like trouble. The node runs in its own JVM as {@code Main}, with the packaged
 * logback.xml, and everything it prints is captured.
 */
class ShutdownOutputTest {
  private static final int EVENTS = 5;
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private Path dataDir;
  private Path log;
  private NodeProcess node;
  private Receiver receiver;

  @BeforeEach
  void setUp() throws IOException {
    dataDir = Files.createTempDirectory("zyven-shutdown");
    log = NodeProcess.logFile("shutdown");
    receiver = new Receiver();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (node != null) node.close();
    receiver.close();
    NodeProcess.killPostgres(dataDir);
  }

  @Test
  void aCleanShutdownAfterRealWorkPrintsNoStackTraceAndNoWarning() throws Exception {
    // The read journal's sequence actor polls the journal until the actor system terminates:
    // polling often makes a storage closed too early show up every time, not now and then.
    // Dev mode lets it deliver to the loopback receiver without the start-up warning that
    // turning the SSRF guard off by hand gives.
    node = NodeProcess.start(
        dataDir, log, Map.of(), Map.of("jdbc-read-journal.journal-sequence-retrieval.query-delay", "20ms"),
        List.of("dev"));
    node.awaitReady(Duration.ofSeconds(90));
    Tenant tenant = node.api.createTenant("quiet");
    node.api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/hook") + "\"}");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < EVENTS; i++) {
      Response r = node.api.ingest(tenant.apiKey(), "quiet-" + i, "{\"type\":\"order.paid\",\"payload\":{\"n\":" + i + "}}");
      assertEquals(202, r.status(), r.body());
      ids.add(r.json().get("event_id").asText());
    }
    Await.until("every event reached the receiver", PATIENCE, () -> receiver.requests("/hook").size() >= EVENTS);
    // The projections have written the read model: they hold connections up to the end.
    Await.until("the read model lists every event as delivered", PATIENCE,
        () -> node.api.listIds(tenant.apiKey(), "DELIVERED").containsAll(ids));

    int exit = node.terminate();

    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    // Coordinated shutdown's INFO line shows only with the packaged logback.xml (the tests'
    // one keeps Pekko at WARN).
    assertTrue(lines.stream().anyMatch(l -> l.contains(" INFO ") && l.contains("Running CoordinatedShutdown")),
        "the node's output is captured, with the logging an operator gets: " + log);
    List<String> alarming = lines.stream().filter(ShutdownOutputTest::alarming).toList();
    assertTrue(alarming.isEmpty(), () -> "lines that look like trouble in " + log + ":\n"
        + String.join("\n", alarming.subList(0, Math.min(alarming.size(), 40))));
    assertEquals(0, exit, "exit code on SIGTERM; output in " + log);
    assertFalse(NodeProcess.postgresPid(dataDir).flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false),
        "the embedded PostgreSQL was stopped too");
  }

  private static boolean alarming(String line) {
    return line.contains("Exception")
        || line.contains("\tat ")
        || line.contains(" WARN ")
        || line.contains(" ERROR ")
        || line.startsWith("# stop");
  }
}
