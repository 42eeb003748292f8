package io.zyven.app.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The trace context is journaled with the event: a retry made by a node started after the
 * restart, from the journal alone, is still in the producer's trace.
 */
class TraceRestartTest {
  private static final String TRACE_ID = "5d8e3a0fb2c14e7f9a6b1c2d3e4f5a6b";
  private static final Map<String, Object> SETTINGS = Map.of("zyven.delivery.retry-schedule", List.of("5s"));

  private TestPostgres pg;
  private Receiver receiver;
  private TestNode node;

  @BeforeEach
  void start() throws Exception {
    pg = TestPostgres.startPrivate(); // its own database: the restarted node wakes only this test's event
    receiver = new Receiver();
    receiver.on("/hook", n -> Answer.status(n == 1 ? 503 : 200));
  }

  @AfterEach
  void stop() throws Exception {
    if (node != null) node.close();
    receiver.close();
    pg.close();
  }

  @Test
  void aRetryAfterARestartContinuesTheJournaledTrace() throws Exception {
    node = TestNode.start(pg, SETTINGS);
    Tenant tenant = node.api.createTenant("restart-trace");
    node.api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/hook") + "\"}");
    int status = node.api.send(node.api.request("/v1/events", tenant.apiKey())
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", "across-restart")
        .header("traceparent", "00-" + TRACE_ID + "-1111111111111111-01")
        .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"order.paid\",\"payload\":{\"n\":1}}"))).status();
    assertEquals(202, status);
    Await.until("the first attempt", Duration.ofSeconds(15), () -> receiver.requests("/hook").size() == 1);
    node.close(); // before the retry is due
    node = null;
    assertEquals(1, receiver.requests("/hook").size(), "the retry was not made before the restart");

    node = TestNode.start(pg, SETTINGS);
    Await.until("the retry, from the new node", Duration.ofSeconds(30), () -> receiver.requests("/hook").size() == 2);
    TraceParent first = TraceParent.parse(receiver.requests("/hook").get(0).header("traceparent")).orElseThrow();
    TraceParent retry = TraceParent.parse(receiver.requests("/hook").get(1).header("traceparent")).orElseThrow();
    assertEquals(TRACE_ID, first.traceId());
    assertEquals(TRACE_ID, retry.traceId(), "the trace outlived the node that accepted the event");
    assertNotEquals(first.spanId(), retry.spanId());
  }
}
