package io.zyven.app.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The trace context crosses from the ingest request to the receiver's requests, attempt
 * after attempt, as the receiver sees it. Tracing export is off here: the context flows
 * all the same.
 */
class TracePropagationTest {
  static final Pattern TRACEPARENT = Pattern.compile("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String SPAN_ID = "00f067aa0ba902b7";
  private static final Duration PATIENCE = Duration.ofSeconds(15);

  private static TestNode node;
  private static ApiClient api;
  private Receiver receiver;
  private Tenant tenant;

  @BeforeAll
  static void startNode() {
    node = TestNode.start(TestPostgres.shared(), Map.of("zyven.delivery.retry-schedule", List.of("150ms")));
    api = node.api;
  }

  @AfterAll
  static void stopNode() throws Exception {
    node.close();
  }

  @BeforeEach
  void receiverAndTenant() throws Exception {
    receiver = new Receiver();
    // The first attempt fails, the retry succeeds: two requests per event.
    receiver.on("/hook", n -> Answer.status(n == 1 ? 503 : 200));
    tenant = api.createTenant("trace-" + UUID.randomUUID());
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/hook") + "\"}");
  }

  @AfterEach
  void stopReceiver() {
    receiver.close();
  }

  @Test
  void theIngestTraceparentReachesTheReceiverOnEveryAttemptWithANewSpan() {
    String incoming = "00-" + TRACE_ID + "-" + SPAN_ID + "-01";
    assertEquals(202, ingest("traced", incoming).status());

    List<TraceParent> seen = twoAttempts();
    for (TraceParent p : seen) {
      assertEquals(TRACE_ID, p.traceId(), "the producer's trace continues: " + p);
      assertNotEquals(SPAN_ID, p.spanId(), "each attempt is a span of its own: " + p);
      assertTrue(p.sampled(), "the producer's sampled flag is kept: " + p);
    }
    assertNotEquals(seen.get(0).spanId(), seen.get(1).spanId(), "the retry is a new span");
  }

  @Test
  void withoutATraceparentZyvenStartsATraceThatTheRetryContinues() {
    assertEquals(202, ingest("untraced", null).status());

    List<TraceParent> seen = twoAttempts();
    assertEquals(seen.get(0).traceId(), seen.get(1).traceId(), "one trace for the event's attempts");
    assertNotEquals(seen.get(0).spanId(), seen.get(1).spanId());
  }

  @Test
  void anInvalidTraceparentIsIgnoredAndANewTraceStarted() {
    String invalid = "00-" + "0".repeat(32) + "-" + SPAN_ID + "-01";
    assertEquals(202, ingest("badly-traced", invalid).status());

    List<TraceParent> seen = twoAttempts();
    assertNotEquals("0".repeat(32), seen.get(0).traceId());
    assertNotEquals(SPAN_ID, seen.get(0).spanId());
  }

  @Test
  void withoutAnOtlpEndpointNoSdkIsStarted() {
    assertTrue(!Tracing.get(node.zyven().system()).exporting(), "nothing is recorded or exported");
  }

  @Test
  void anEndpointCannotSetItsOwnTraceHeaders() {
    for (String header : List.of("traceparent", "Tracestate")) {
      Response r = api.postJson("/v1/endpoints", tenant.apiKey(),
          "{\"url\":\"" + receiver.url("/other") + "\",\"headers\":{\"" + header + "\":\"x\"}}");
      assertEquals(400, r.status(), r.body());
    }
  }

  private Response ingest(String key, String traceparent) {
    HttpRequest.Builder request = api.request("/v1/events", tenant.apiKey())
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", key)
        .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"order.paid\",\"payload\":{\"n\":1}}"));
    if (traceparent != null) request.header("traceparent", traceparent);
    return api.send(request);
  }

  /** The traceparent of the failed first attempt and of the retry, each checked for format. */
  private List<TraceParent> twoAttempts() {
    Await.until("the first attempt and its retry", PATIENCE, () -> receiver.requests("/hook").size() >= 2);
    return receiver.requests("/hook").stream()
        .limit(2)
        .map(r -> {
          String header = r.header("traceparent");
          assertNotNull(header, "the receiver gets a traceparent");
          assertTrue(TRACEPARENT.matcher(header).matches(), "valid W3C traceparent: " + header);
          return TraceParent.parse(header).orElseThrow(() -> new AssertionError("not a valid traceparent: " + header));
        })
        .toList();
  }
}
