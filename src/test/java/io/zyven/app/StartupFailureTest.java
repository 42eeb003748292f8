package io.zyven.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.NodeProcess;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A node whose HTTP port is taken says so in one line, stops what it started (its
 * PostgreSQL included) and exits with a failure, instead of hanging with a stack trace.
 */
class StartupFailureTest {
  private Path dataDir;

  @AfterEach
  void cleanUp() {
    NodeProcess.killPostgres(dataDir);
  }

  @Test
  void aTakenPortIsOneClearLineAndAFailedExit() throws Exception {
    dataDir = Files.createTempDirectory("zyven-taken-port");
    Path log = NodeProcess.logFile("taken-port");
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0));
      NodeProcess node = NodeProcess.start(
          dataDir, log, Map.of("ZYVEN_HTTP_PORT", Integer.toString(taken.getLocalPort())), Map.of());

      int exit = node.awaitExit(Duration.ofSeconds(90));

      String out = Files.readString(log);
      assertEquals(1, exit, out);
      assertTrue(out.contains("Zyven could not start: an address it listens on is already in use"), out);
      assertTrue(out.contains(":" + taken.getLocalPort() + "]"), "names the address: " + out);
      assertFalse(out.contains("\tat "), "no stack trace: " + out);
      assertFalse(NodeProcess.postgresPid(dataDir).flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false),
          "its PostgreSQL was stopped");
    }
  }

  @Test
  void aMalformedSecretKeyIsOneClearLineAndAFailedExitWithoutTheKey() throws Exception {
    dataDir = Files.createTempDirectory("zyven-bad-secret-key");
    Path log = NodeProcess.logFile("bad-secret-key");
    String sixteenBytes = "c2l4dGVlbi1ieXRlLWtleQ==";
    NodeProcess node = NodeProcess.start(dataDir, log, Map.of("ZYVEN_SECRET_KEY", sixteenBytes), Map.of());

    int exit = node.awaitExit(Duration.ofSeconds(90));

    String out = Files.readString(log);
    assertEquals(1, exit, out);
    assertTrue(out.contains("Zyven could not start: ZYVEN_SECRET_KEY must be base64 of exactly 32 bytes"
        + " (openssl rand -base64 32); it is 16 bytes."), out);
    assertFalse(out.contains("\tat "), "no stack trace: " + out);
    assertFalse(out.contains(sixteenBytes), "the key is not printed: " + out);
    assertFalse(NodeProcess.postgresPid(dataDir).flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false),
        "its PostgreSQL was stopped");
  }

  @Test
  void aBadGlobalAlertChannelIsOneClearLineAndAFailedExit() throws Exception {
    dataDir = Files.createTempDirectory("zyven-bad-global-alerts");
    Path log = NodeProcess.logFile("bad-global-alerts");
    NodeProcess node = NodeProcess.start(dataDir, log, Map.of("ZYVEN_ALERTS_GLOBAL_KIND", "slack"), Map.of());

    int exit = node.awaitExit(Duration.ofSeconds(90));

    String out = Files.readString(log);
    assertEquals(1, exit, out);
    assertTrue(out.contains("Zyven could not start: a slack global channel needs zyven.alerts.global.url."), out);
    assertFalse(out.contains("\tat "), "no stack trace: " + out);
    assertFalse(NodeProcess.postgresPid(dataDir).flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false),
        "its PostgreSQL was stopped");
  }
}
