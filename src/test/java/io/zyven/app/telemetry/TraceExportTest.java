package io.zyven.app.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * With an OTLP endpoint configured (OTEL_EXPORTER_OTLP_ENDPOINT), the spans of an event's
 * ingest, journal write and delivery attempt reach a collector over OTLP/HTTP. The
 * collector here is a plain HTTP server on loopback that keeps what is POSTed to
 * /v1/traces; the protobuf is checked for the span names (as encoded name fields) and the
 * producer's trace id.
 */
class TraceExportTest {
  private static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";

  private HttpServer collector;
  private final List<byte[]> exports = new CopyOnWriteArrayList<>();
  private final List<String> contentTypes = new CopyOnWriteArrayList<>();
  private Receiver receiver;
  private TestNode node;

  @BeforeEach
  void collectorAndReceiver() throws IOException {
    collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    collector.createContext("/v1/traces", exchange -> {
      try (exchange; InputStream in = exchange.getRequestBody()) {
        exports.add(in.readAllBytes());
        contentTypes.add(exchange.getRequestHeaders().getFirst("Content-Type"));
        exchange.sendResponseHeaders(200, -1);
      }
    });
    collector.start();
    receiver = new Receiver();
  }

  @AfterEach
  void stop() throws Exception {
    if (node != null) node.close();
    receiver.close();
    collector.stop(0);
  }

  @Test
  void ingestPersistAndAttemptSpansAreExportedInTheProducersTrace() {
    node = TestNode.start(TestPostgres.shared(), Map.of(
        "zyven.tracing.otlp-endpoint", "http://127.0.0.1:" + collector.getAddress().getPort(),
        "zyven.tracing.schedule-delay", "100ms"));
    assertTrue(Tracing.get(node.zyven().system()).exporting());
    Tenant tenant = node.api.createTenant("export");
    node.api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/hook") + "\"}");

    int status = node.api.send(node.api.request("/v1/events", tenant.apiKey())
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", "exported")
        .header("traceparent", "00-" + TRACE_ID + "-b7ad6b7169203331-01")
        .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"order.paid\",\"payload\":{\"n\":1}}"))).status();
    assertEquals(202, status);
    Await.until("the receiver got the event", Duration.ofSeconds(15), () -> receiver.requests("/hook").size() == 1);

    Await.until("ingest, persist and attempt spans of the trace reached the collector", Duration.ofSeconds(30), () -> {
      byte[] all = concat(exports);
      return contains(all, spanName("ingest")) && contains(all, spanName("persist")) && contains(all, spanName("attempt"))
          && contains(all, HexFormat.of().parseHex(TRACE_ID));
    });
    assertTrue(contentTypes.stream().allMatch("application/x-protobuf"::equals), "OTLP/HTTP protobuf: " + contentTypes);
  }

  private static byte[] concat(List<byte[]> parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    parts.forEach(out::writeBytes);
    return out.toByteArray();
  }

  /** A span's name as OTLP's protobuf encodes it: Span field 5 (tag 0x2A), length, UTF-8. */
  private static byte[] spanName(String name) {
    byte[] text = name.getBytes(StandardCharsets.UTF_8);
    byte[] field = new byte[text.length + 2];
    field[0] = 0x2A;
    field[1] = (byte) text.length;
    System.arraycopy(text, 0, field, 2, text.length);
    return field;
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
      return true;
    }
    return false;
  }
}
