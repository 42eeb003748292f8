package io.zyven.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.NodeProcess;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code ZYVEN_LOG_FORMAT=json}, on a node run as an operator runs it (its own JVM, the
 * packaged logback.xml, everything it prints captured): every line is one JSON object, a
 * delivery failure carries its tenant, event and endpoint as MDC fields, and nothing
 * secret or private is printed: no payload, no API key, no endpoint secret, no admin key.
 */
class JsonLogsTest {
  private static final Duration START = Duration.ofSeconds(90);
  private static final String PAYLOAD_MARKER = "private-payload-7f3a9c";

  private Path dataDir;
  private Path log;
  private NodeProcess node;
  private Receiver receiver;

  @BeforeEach
  void setUp() throws IOException {
    dataDir = Files.createTempDirectory("zyven-json-logs");
    log = NodeProcess.logFile("json-logs");
    receiver = new Receiver();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (node != null) node.close();
    receiver.close();
    NodeProcess.killPostgres(dataDir);
  }

  @Test
  void everyLineIsAJsonObjectFailuresCarryTheirIdsAndNothingSecretIsPrinted() throws Exception {
    receiver.on("/hook", n -> Answer.status(503));
    // No ZYVEN_ADMIN_KEY: the node generates one, which JSON logs must not show. Spans are
    // exported to a port where nothing listens: the OpenTelemetry SDK's complaints (through
    // java.util.logging) must be JSON lines too.
    node = NodeProcess.start(dataDir, log, Map.of(
        "ZYVEN_LOG_FORMAT", "json", "ZYVEN_ADMIN_KEY", "",
        "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + NodeProcess.freePort(), "OTEL_BSP_SCHEDULE_DELAY", "200"),
        Map.of());
    node.awaitReady(START);
    String adminKey = resetAdminKey();
    ApiClient api = new ApiClient(node.url(), adminKey);
    Await.until("the node accepts the new admin key", Duration.ofSeconds(30),
        () -> api.get("/v1/tenants", adminKey).status() == 200);
    ApiClient.Tenant tenant = api.createTenant("json-logs");
    Response endpoint = api.postJson("/v1/endpoints", tenant.apiKey(), "{\"url\":\"" + receiver.url("/hook") + "\"}");
    assertEquals(201, endpoint.status(), endpoint.body());
    String endpointId = endpoint.json().get("id").asText();
    String secret = endpoint.json().get("secret").asText();
    Response accepted = api.ingest(tenant.apiKey(), "json-logs-1",
        "{\"type\":\"order.paid\",\"payload\":{\"note\":\"" + PAYLOAD_MARKER + "\"}}");
    assertEquals(202, accepted.status(), accepted.body());
    String eventId = accepted.json().get("event_id").asText();
    Await.until("the failed attempt is logged", Duration.ofSeconds(30),
        () -> NodeProcess.read(log).contains("Delivery failed"));
    Await.until("the failed span export is logged", Duration.ofSeconds(30),
        () -> NodeProcess.read(log).contains("\"loggerName\":\"io.opentelemetry"));

    assertEquals(0, node.terminate(), "exit code on SIGTERM; output in " + log);

    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    List<JsonNode> entries = new ArrayList<>();
    for (String line : lines) {
      JsonNode entry = parse(line).orElse(null);
      assertTrue(entry != null && entry.isObject(), "not a JSON object: [" + line + "] in " + log);
      entries.add(entry);
    }
    JsonNode failure = entries.stream()
        .filter(e -> e.path("formattedMessage").asText().startsWith("Delivery failed"))
        .findFirst().orElseThrow(() -> new AssertionError("no delivery failure logged in " + log));
    assertEquals(tenant.id(), failure.path("mdc").path("tenant_id").asText(), failure.toString());
    assertEquals(eventId, failure.path("mdc").path("event_id").asText(), failure.toString());
    assertEquals(endpointId, failure.path("mdc").path("endpoint_id").asText(), failure.toString());
    JsonNode ready = entries.stream()
        .filter(e -> e.path("formattedMessage").asText().startsWith("Zyven ready at " ))
        .findFirst().orElseThrow(() -> new AssertionError("no ready line in " + log));
    assertTrue(ready.path("formattedMessage").asText().contains("admin reset-key"),
        "says how to get an admin key: " + ready);

    for (String line : lines) {
      assertFalse(line.contains(PAYLOAD_MARKER), "the payload is printed: " + line);
      assertFalse(line.contains(tenant.apiKey()), "the API key is printed: " + line);
      assertFalse(line.contains(secret), "the endpoint secret is printed: " + line);
      assertFalse(line.contains(secret.substring("whsec_".length())), "the endpoint secret is printed: " + line);
      assertFalse(line.contains(adminKey), "the admin key is printed: " + line);
      assertFalse(line.contains("zya_"), "an admin key is printed: " + line);
    }
  }

  @Test
  void anUnknownLogFormatRefusesToStart() throws Exception {
    node = NodeProcess.start(dataDir, log, Map.of("ZYVEN_LOG_FORMAT", "xml"), Map.of());

    int exit = node.awaitExit(START);

    String out = NodeProcess.read(log);
    assertTrue(exit != 0, "a failed exit: " + out);
    assertTrue(out.contains("ZYVEN_LOG_FORMAT must be text or json, not 'xml'"), out);
    assertTrue(NodeProcess.postgresPid(dataDir).isEmpty(), "nothing was started: " + out);
  }

  /** A new admin key from {@code admin reset-key}, which the running node takes within seconds. */
  private String resetAdminKey() throws Exception {
    String out = NodeProcess.run(List.of("admin", "reset-key"), Map.of("ZYVEN_DATA_DIR", dataDir.toString()),
        Duration.ofSeconds(90));
    Matcher m = Pattern.compile("New admin key: (\\S+)").matcher(out);
    assertTrue(m.find(), out);
    return m.group(1);
  }

  private static Optional<JsonNode> parse(String line) {
    try {
      return Optional.of(ApiClient.JSON.readTree(line));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
