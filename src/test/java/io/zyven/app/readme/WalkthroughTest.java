package io.zyven.app.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.Await;
import io.zyven.app.testing.NodeProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Runs the README's walkthrough as a newcomer would: its first block in one shell (the
 * node, terminal 1), and every other block, in order, in a second shell (terminal 2). The
 * blocks are taken from the README as they are; only the ports are swapped for free ones,
 * and {@code mvn -q exec:java -Dexec.args="…"} runs the same main class with the same
 * arguments from the test's classpath instead of a nested Maven build.
 */
class WalkthroughTest {

  /** Lines the demo receiver prints: time, webhook-id, type, verdict, status, body. */
  private static final Pattern RECEIVED =
      Pattern.compile("(?m)^\\d\\d:\\d\\d:\\d\\d (\\S+) (\\S+) (verified|NOT verified \\(.*?\\)) -> (\\d+) (.*)$");

  private static final String MVN_SHIM =
      """
      # The README's `mvn -q [compile] exec:java -Dexec.args="..."`: the same main class and
      # arguments, from the test's classpath. `exec`, so that $! is the program itself.
      mvn() {
        local main_args=""
        for a in "$@"; do
          case "$a" in
            -q|compile|exec:java) ;;
            -Dexec.args=*) main_args="${a#-Dexec.args=}" ;;
            *) echo "walkthrough: unexpected mvn argument '$a'" >&2; return 2 ;;
          esac
        done
        # A terminal delivers Ctrl-C; a test run started in the background (nohup … &)
        # hands every child SIGINT ignored, which no shell can undo: reset it, as a terminal has it.
        exec env --default-signal=INT "$WALKTHROUGH_JAVA" -Xmx512m -cp "$WALKTHROUGH_CLASSPATH" io.zyven.app.Main $main_args
      }
      """;

  private final List<Process> processes = new ArrayList<>();
  private Path dataDir;

  @AfterEach
  void stopEverything() throws Exception {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroy();
      if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly();
    }
    NodeProcess.killPostgres(dataDir);
  }

  @Test
  void theWalkthroughDeliversAVerifiedWebhookThenRetriesDeadLettersAndReplays() throws Exception {
    httpPort = NodeProcess.freePort();
    int receiverPort = NodeProcess.freePort();
    List<String> blocks = new ArrayList<>();
    for (String block : Readme.blocks(Readme.section("walkthrough"), "sh")) {
      blocks.add(block.replaceAll("\\b8080\\b", Integer.toString(httpPort))
          .replaceAll("\\b9000\\b", Integer.toString(receiverPort)));
    }
    assertTrue(blocks.size() >= 5, "the walkthrough has its blocks: " + blocks.size());
    dataDir = Files.createTempDirectory("zyven-walkthrough");
    Path logs = Files.createDirectories(Path.of("target", "node-logs"));
    Path terminal1 = logs.resolve("walkthrough-node-" + System.nanoTime() + ".log");
    Path terminal2 = logs.resolve("walkthrough-shell-" + System.nanoTime() + ".log");

    // Terminal 1: the node.
    Process node = bash(MVN_SHIM + blocks.get(0), terminal1);  // on its default port, 8080 in the README
    Await.until("the node's ready line", Duration.ofSeconds(120),
        () -> NodeProcess.read(terminal1).contains("Zyven ready at http://127.0.0.1:" + httpPort) || !node.isAlive());
    String startup = NodeProcess.read(terminal1);
    assertTrue(node.isAlive(), "the node runs:\n" + startup);
    assertTrue(startup.contains("SSRF guard: OFF"), startup);
    assertTrue(startup.contains("development"), startup);

    // Terminal 2: everything else, in order, in one shell.
    Process shell = bash("set -u\n" + MVN_SHIM + String.join("\n", blocks.subList(1, blocks.size())), terminal2);
    assertTrue(shell.waitFor(180, TimeUnit.SECONDS), "the walkthrough finishes:\n" + NodeProcess.read(terminal2));
    String out = NodeProcess.read(terminal2);

    assertTrue(out.contains("tenant key: zyv_"), out);
    assertFalse(out.contains("still not"), "every wait_for saw its status:\n" + out);
    assertEquals(List.of("DELIVERED", "RETRY_SCHEDULED", "DEAD_LETTERED", "DELIVERED"), statusLines(out), out);

    List<String[]> received = received(out);
    assertEquals(4, received.size(), "four webhooks reached the receiver:\n" + out);
    for (String[] r : received) assertEquals("verified", r[2], "every webhook verifies:\n" + out);
    String first = received.get(0)[0];
    String second = received.get(1)[0];
    assertEquals("200", received.get(0)[3]);
    assertEquals("{\"id\":42,\"name\":\"Ada\"}", received.get(0)[4]);
    assertFalse(first.equals(second));
    assertEquals(List.of(second, "503"), List.of(received.get(1)[0], received.get(1)[3]), "the retry's first attempt");
    assertEquals(List.of(second, "503"), List.of(received.get(2)[0], received.get(2)[3]), "its retry");
    assertEquals(List.of(second, "200"), List.of(received.get(3)[0], received.get(3)[3]), "the replay");

    // What the reader is shown: the kept response bodies, and the audit trail.
    assertTrue(out.contains("\"response_body\":\"{\\\"status\\\":503}\""), out);
    for (String step : List.of("Received", "DispatchStarted", "RetryScheduled", "DeadLettered", "Replayed", "Delivered")) {
      assertTrue(out.contains("\"type\":\"" + step + "\""), step + " in the audit:\n" + out);
    }

    // Terminal 1 told the operator about the failure and the dead letter, without the payload.
    String nodeLog = NodeProcess.read(terminal1);
    assertTrue(nodeLog.contains("Delivery failed: event " + second), nodeLog);
    assertTrue(nodeLog.contains("Delivery dead-lettered: event " + second), nodeLog);
    assertFalse(nodeLog.contains("Grace"), "no payload in the log");

    // Ctrl-C in terminal 1 (bash exec'd the node, so the process is the node): a clean stop.
    new ProcessBuilder("kill", "-INT", Long.toString(node.pid())).start().waitFor();
    assertTrue(node.waitFor(60, TimeUnit.SECONDS), "the node stops on Ctrl-C");
    assertEquals(0, node.exitValue());
    List<String> alarming = NodeProcess.read(terminal1).lines()
        .filter(l -> l.contains("Exception") || l.contains("\tat ") || l.contains(" ERROR ") || l.startsWith("# stop"))
        .toList();
    assertTrue(alarming.isEmpty(), "no stack trace on screen:\n" + String.join("\n", alarming));
  }

  private int httpPort;

  private Process bash(String script, Path output) throws IOException {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", script);
    pb.environment().put("WALKTHROUGH_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // Without the test classes: the node logs with the packaged logback.xml, as a reader's does.
    pb.environment().put("WALKTHROUGH_CLASSPATH", NodeProcess.nodeClassPath());
    pb.environment().put("ZYVEN_DATA_DIR", dataDir.toString());
    pb.environment().put("ZYVEN_CLUSTER_PORT", Integer.toString(NodeProcess.freePort()));
    pb.environment().put("ZYVEN_HTTP_PORT", Integer.toString(httpPort));
    pb.environment().remove("ZYVEN_ADMIN_KEY");
    pb.redirectErrorStream(true).redirectOutput(output.toFile());
    Process p = pb.start();
    processes.add(p);
    return p;
  }

  private static List<String> statusLines(String out) {
    return out.lines()
        .filter(l -> l.matches("DELIVERED|RETRY_SCHEDULED|DEAD_LETTERED|DISPATCHING|RECEIVED"))
        .toList();
  }

  /** Each receiver line as {id, type, verdict, status, body}. */
  private static List<String[]> received(String out) {
    List<String[]> lines = new ArrayList<>();
    Matcher m = RECEIVED.matcher(out);
    while (m.find()) lines.add(new String[] {m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)});
    return lines;
  }


}
