package io.zyven.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.NodeProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A node started without ZYVEN_ADMIN_KEY, as an operator starts it: the key it generates is
 * printed once, kept only as a hash, still valid after a restart, and replaced by
 * {@code admin reset-key} while the node runs.
 */
class AdminKeyTest {
  private static final Duration START = Duration.ofSeconds(90);
  private static final Pattern PRINTED = Pattern.compile("admin key:\\s+(zya_[A-Za-z0-9_-]+)");
  private static final Map<String, String> NO_ADMIN_KEY = Map.of("ZYVEN_ADMIN_KEY", "");

  private Path dataDir;
  private NodeProcess node;

  @BeforeEach
  void dataDir() throws IOException {
    dataDir = Files.createTempDirectory("zyven-admin-key");
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (node != null) node.close();
    NodeProcess.killPostgres(dataDir);
  }

  @Test
  void aGeneratedKeyIsPrintedOnceStoredOnlyAsAHashAndSurvivesARestart() throws Exception {
    Path firstLog = log();
    node = start(firstLog);
    String key = printedKey(firstLog);
    assertEquals(200, status(key));
    assertEquals(401, status(key + "x"));

    node.terminate();
    assertFalse(anyFileContains(dataDir, key), "the key in clear is nowhere in the database's files");
    assertTrue(anyFileContains(dataDir, sha256Hex(key)), "its hash is: the search does see the stored values");

    Path secondLog = log();
    node = start(secondLog);
    String second = Files.readString(secondLog);
    assertFalse(PRINTED.matcher(second).find(), "not printed again:\n" + second);
    assertFalse(second.contains(key));
    assertTrue(second.contains("printed once"), second);
    assertTrue(second.contains("admin reset-key"), "says how to replace it:\n" + second);
    assertEquals(200, status(key), "the same key after the restart");
  }

  @Test
  void resetKeyReplacesTheKeyOfARunningNode() throws Exception {
    Path log = log();
    node = start(log);
    String old = printedKey(log);

    String out = NodeProcess.run(
        List.of("admin", "reset-key"),
        Map.of("ZYVEN_DATA_DIR", dataDir.toString(), "ZYVEN_ADMIN_KEY", ""),
        Duration.ofSeconds(60));

    Matcher m = Pattern.compile("New admin key: (zya_[A-Za-z0-9_-]+)").matcher(out);
    assertTrue(m.find(), out);
    String fresh = m.group(1);
    assertFalse(fresh.equals(old));
    Await.until("the node accepts the new key", Duration.ofSeconds(20), () -> status(fresh) == 200);
    Await.until("the node refuses the old key", Duration.ofSeconds(20), () -> status(old) == 401);
    assertEquals(200, node.api.get("/health/ready", null).status(), "the node's database was left running");
  }

  private NodeProcess start(Path log) throws Exception {
    NodeProcess n = NodeProcess.start(dataDir, log, NO_ADMIN_KEY);
    n.awaitReady(START);
    Await.until("the ready block", Duration.ofSeconds(30), () -> NodeProcess.read(log).contains("Zyven ready at"));
    return n;
  }

  private int status(String adminKey) {
    return new ApiClient(node.url(), adminKey).get("/v1/tenants", adminKey).status();
  }

  private static String printedKey(Path log) {
    Matcher m = PRINTED.matcher(NodeProcess.read(log));
    assertTrue(m.find(), "the first start prints the key:\n" + NodeProcess.read(log));
    return m.group(1);
  }

  private static String sha256Hex(String text) throws Exception {
    return java.util.HexFormat.of().formatHex(
        java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  private static boolean anyFileContains(Path dir, String text) throws IOException {
    byte[] needle = text.getBytes(StandardCharsets.US_ASCII);
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).anyMatch(f -> contains(f, needle));
    }
  }

  private static boolean contains(Path file, byte[] needle) {
    try {
      String haystack = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
      return haystack.contains(new String(needle, StandardCharsets.ISO_8859_1));
    } catch (IOException e) {
      return false; // a file PostgreSQL removed meanwhile
    }
  }

  private static Path log() throws IOException {
    return NodeProcess.logFile("admin-key");
  }

}
