package io.zyven.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.NodeProcess;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestPostgres;
import io.zyven.app.testing.WebhookVerifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The master key of endpoint secrets, as an operator rotates it, with nodes in JVMs of their
 * own on one database: a node with key A seals; restarted with key B and A as the previous
 * key it still signs with the same whsec secret and reseals the endpoint under B; restarted
 * with B alone it still delivers. Neither the database nor any log line ever holds a secret,
 * a master key, the tenant's API key or a payload.
 */
class SecretKeyRotationTest {
  private static final Duration START = Duration.ofSeconds(90);
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static final SecureRandom RANDOM = new SecureRandom();

  private TestPostgres pg;
  private Path dataDir;
  private Path log;
  private NodeProcess node;
  private Receiver receiver;

  @BeforeEach
  void setUp() throws IOException {
    pg = TestPostgres.startPrivate(); // its own database: the sweep must meet only this test's endpoints
    dataDir = Files.createTempDirectory("zyven-secret-key");
    log = NodeProcess.logFile("secret-key-rotation");
    receiver = new Receiver();
    receiver.on("/hooks", n -> Answer.status(200));
  }

  @AfterEach
  void tearDown() throws Exception {
    if (node != null) node.close();
    receiver.close();
    pg.close();
  }

  @Test
  void rotatingTheMasterKeyKeepsEverySecretAndLeaksNothing() throws Exception {
    byte[] keyA = random(32);
    byte[] keyB = random(32);
    String a = Base64.getEncoder().encodeToString(keyA);
    String b = Base64.getEncoder().encodeToString(keyB);
    List<String> payloadMarkers = new ArrayList<>();

    // ---- key A: create, deliver ----
    node = start(Map.of("ZYVEN_SECRET_KEY", a));
    Tenant tenant = node.api.createTenant("secret-key");
    Response created = node.api.postJson("/v1/endpoints", tenant.apiKey(),
        "{\"url\":\"" + receiver.url("/hooks") + "\"}");
    assertEquals(201, created.status(), created.body());
    String endpoint = created.json().get("id").asText();
    String secret = created.json().get("secret").asText();
    assertFalse(node.api.get("/v1/endpoints/" + endpoint, tenant.apiKey()).body().contains(secret));
    assertDeliveredAndVerifies(tenant, secret, payloadMarkers);

    // A dump of the database: sealed under A, never the secret.
    assertEquals(keyId(keyA), sealedUnder(endpoint));
    assertNotInTheDatabase(endpoint, secret);
    assertEquals(1, journalRowsContaining(endpoint, "v1:" + keyId(keyA) + ":"));

    // ---- key B, A as the previous key: the same secret signs; resealed under B ----
    assertEquals(0, node.terminate());
    node = start(Map.of("ZYVEN_SECRET_KEY", b, "ZYVEN_SECRET_KEY_PREVIOUS", a));
    Await.until("the start-up sweep reseals the endpoint under B", PATIENCE,
        () -> keyId(keyB).equals(sealedUnder(endpoint)));
    assertEquals(1, journalRowsContaining(endpoint, "v1:" + keyId(keyB) + ":"), "a SecretsResealed event");
    assertDeliveredAndVerifies(tenant, secret, payloadMarkers);
    assertEquals(secret, node.api.get("/v1/endpoints/" + endpoint + "/secret", tenant.apiKey()).json().get("secret").asText());
    assertTrue(NodeProcess.read(log).contains("Resealed the secrets of endpoint " + endpoint + " under master key " + keyId(keyB)));

    // ---- B alone: A is no longer needed ----
    assertEquals(0, node.terminate());
    node = start(Map.of("ZYVEN_SECRET_KEY", b));
    assertDeliveredAndVerifies(tenant, secret, payloadMarkers);

    // A rotated endpoint secret is sealed too, and both sign while the old one overlaps.
    JsonNode rotated = node.api.postJson("/v1/endpoints/" + endpoint + "/rotate-secret", tenant.apiKey(), "").json();
    String newSecret = rotated.get("secret").asText();
    assertNotEquals(secret, newSecret);
    assertDeliveredAndVerifies(tenant, newSecret, payloadMarkers);
    assertDeliveredAndVerifies(tenant, secret, payloadMarkers);
    JsonNode both = node.api.get("/v1/endpoints/" + endpoint + "/secret", tenant.apiKey()).json();
    assertEquals(newSecret, both.get("secret").asText());
    assertEquals(secret, both.get("previous_secret").asText());
    assertNotInTheDatabase(endpoint, newSecret);
    assertEquals(0, node.terminate()); // its log is complete

    // ---- no log line of this whole test run holds a secret, a key or a payload ----
    Map<String, String> forbidden = new LinkedHashMap<>();
    forbidden.put("the endpoint secret", secret);
    forbidden.put("the endpoint secret's base64", secret.substring("whsec_".length()));
    forbidden.put("the rotated endpoint secret", newSecret);
    forbidden.put("the rotated endpoint secret's base64", newSecret.substring("whsec_".length()));
    forbidden.put("the tenant's API key", tenant.apiKey());
    forbidden.put("master key A", a);
    forbidden.put("master key B", b);
    for (int i = 0; i < payloadMarkers.size(); i++) forbidden.put("payload " + i, payloadMarkers.get(i));
    List<Path> logs = logFilesOfThisRun();
    assertTrue(logs.contains(log.toAbsolutePath().normalize()), "the scan covers the file the nodes logged to: " + logs);
    assertTrue(NodeProcess.read(log).contains("Endpoint secrets are sealed under master key " + keyId(keyA)),
        "and that file holds the nodes' log lines");
    for (Path file : logs) {
      String text = Files.readString(file, StandardCharsets.ISO_8859_1); // any bytes, never a decoding error
      forbidden.forEach((what, value) -> assertFalse(text.contains(value), what + " is in " + file));
    }
  }

  private NodeProcess start(Map<String, String> keys) throws Exception {
    Map<String, String> env = new LinkedHashMap<>(keys);
    env.put("ZYVEN_DB_URL", pg.jdbcUrl());
    env.put("ZYVEN_DB_USER", "postgres");
    env.put("ZYVEN_DB_PASSWORD", "");
    NodeProcess n = NodeProcess.start(dataDir, log, env);
    n.awaitReady(START);
    return n;
  }

  /** Sends an event and checks the webhook that arrives verifies with {@code secret}. */
  private void assertDeliveredAndVerifies(Tenant tenant, String secret, List<String> markers) {
    String marker = "payload-" + UUID.randomUUID();
    markers.add(marker);
    int before = receiver.requests("/hooks").size();
    Response accepted = node.api.ingest(tenant.apiKey(), UUID.randomUUID().toString(),
        "{\"type\":\"user.created\",\"payload\":{\"marker\":\"" + marker + "\"}}");
    assertEquals(202, accepted.status(), accepted.body());
    Await.until("delivered", PATIENCE, () -> receiver.requests("/hooks").size() > before);
    Receiver.Request r = receiver.requests("/hooks").get(before);
    assertTrue(r.bodyText().contains(marker), r.bodyText());
    assertTrue(WebhookVerifier.verify(secret, r.header("webhook-id"), r.header("webhook-timestamp"), r.body(),
        r.header("webhook-signature"), Instant.now().getEpochSecond()), "the signature verifies with the secret");
  }

  /** Neither endpoints.config nor the endpoint's journal holds the secret, its base64 or its key bytes. */
  private void assertNotInTheDatabase(String endpoint, String secret) throws Exception {
    String base64 = secret.substring("whsec_".length());
    byte[] keyBytes = Base64.getDecoder().decode(base64);
    List<byte[]> rows = new ArrayList<>(query("SELECT event_payload FROM event_journal WHERE persistence_id = ?",
        "Endpoint|" + endpoint));
    rows.addAll(query("SELECT convert_to(config::text, 'UTF8') FROM endpoints WHERE id = ?::uuid", endpoint));
    assertTrue(rows.size() >= 2, "the journal and the index hold the endpoint");
    for (byte[] row : rows) {
      String text = new String(row, StandardCharsets.ISO_8859_1);
      assertFalse(text.contains(secret) || text.contains(base64), "a secret in the database");
      assertFalse(text.contains(new String(keyBytes, StandardCharsets.ISO_8859_1)), "a secret's key bytes in the database");
    }
  }

  private long journalRowsContaining(String endpoint, String text) {
    return query("SELECT event_payload FROM event_journal WHERE persistence_id = ?", "Endpoint|" + endpoint).stream()
        .filter(row -> new String(row, StandardCharsets.ISO_8859_1).contains(text))
        .count();
  }

  private String sealedUnder(String endpoint) {
    List<byte[]> rows = query("SELECT convert_to(secret_key_id, 'UTF8') FROM endpoints WHERE id = ?::uuid", endpoint);
    return rows.isEmpty() || rows.get(0) == null ? null : new String(rows.get(0), StandardCharsets.UTF_8);
  }

  private List<byte[]> query(String sql, String param) {
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "");
        PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, param);
      List<byte[]> rows = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) rows.add(rs.getBytes(1));
      }
      return rows;
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Every log of this test run: the nodes run in JVMs of their own (target/node-logs), and
   * the in-JVM nodes of the other test classes log to surefire's output files.
   */
  private static List<Path> logFilesOfThisRun() throws IOException {
    List<Path> files = new ArrayList<>();
    for (Path dir : List.of(Path.of("target", "node-logs"), Path.of("target", "surefire-reports"))) {
      if (!Files.isDirectory(dir)) continue;
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.filter(Files::isRegularFile)
            .filter(p -> p.toString().endsWith(".log") || p.toString().endsWith("-output.txt"))
            .map(p -> p.toAbsolutePath().normalize())
            .forEach(files::add);
      }
    }
    return files;
  }

  /** As the node names a key: 8 hex digits of its SHA-256. */
  private static String keyId(byte[] key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key), 0, 4);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] random(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }
}
