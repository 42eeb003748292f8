package io.zyven.app.alerts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Slack and PagerDuty channels, on local receivers: the documented shapes (Slack's
 * incoming-webhook {@code text} and {@code blocks}; PagerDuty Events API v2), one message per
 * state change rather than per failed attempt, a PagerDuty trigger and then a resolve with
 * the same {@code dedup_key}, and one digest when several endpoints fail within the group.
 */
class SlackPagerDutyAlertsTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static final String ROUTING_KEY = "R0123456789abcdef0123456789abcde";
  private static TestNode node;
  private static Receiver receiver;
  private static ApiClient api;

  @BeforeAll
  static void start() throws Exception {
    receiver = new Receiver();
    node = TestNode.start(TestPostgres.shared(), Map.of(
        "zyven.delivery.retry-schedule", List.of("100ms"),
        "zyven.circuit.failure-threshold", 2,
        "zyven.circuit.cooldown", "300ms",
        "zyven.circuit.max-cooldown", "600ms",
        "zyven.alerts.tick", "100ms",
        // Long enough that endpoints failing together in a test fall into one group.
        "zyven.alerts.group-wait", "1500ms",
        "zyven.alerts.group-interval", "1s",
        "zyven.http.public-url", "https://zyven.example.com"));
    api = node.api;
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    receiver.close();
  }

  private static String channel(Tenant tenant, String json) {
    Response r = api.postJson("/v1/alert-channels", tenant.apiKey(), json);
    assertEquals(201, r.status(), r.body());
    assertFalse(r.json().has("secret"), "only a webhook channel's secret is shown");
    return r.json().get("id").asText();
  }

  private static List<JsonNode> bodies(String path) {
    List<JsonNode> bodies = new ArrayList<>();
    for (Receiver.Request r : receiver.requests(path)) {
      try {
        bodies.add(ApiClient.JSON.readTree(r.body()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return bodies;
  }

  /** Every operational event of the tenant is in a batch that was sent. */
  private static boolean outboxSent(Tenant tenant) {
    return TestPostgres.shared().count(
        "SELECT count(*) FROM operational_events o LEFT JOIN alert_batches b ON b.id = o.batch_id"
            + " WHERE o.tenant_id = ?::uuid AND b.sent_at IS NULL", tenant.id()) == 0;
  }

  private static void ingest(Tenant tenant, String endpointId) {
    Response r = api.ingest(tenant.apiKey(), "k-" + UUID.randomUUID(),
        "{\"type\":\"order.created\",\"payload\":{},\"endpoint_id\":\"" + endpointId + "\"}");
    assertEquals(202, r.status(), r.body());
  }

  /** The "done when": a Slack channel hears once of a failing endpoint, and once more when it recovers. */
  @Test
  void aTenantHearsOnceWhenAnEndpointFailsAndOnceWhenItRecovers() {
    Tenant tenant = api.createTenant("slack-pagerduty");
    channel(tenant, "{\"kind\":\"slack\",\"url\":\"" + receiver.url("/done/slack") + "\"}");
    channel(tenant, "{\"kind\":\"pagerduty\",\"url\":\"" + receiver.url("/done/pagerduty")
        + "\",\"routing_key\":\"" + ROUTING_KEY + "\",\"event_types\":[\"endpoint.circuit_opened\",\"endpoint.circuit_closed\"]}");
    AtomicBoolean up = new AtomicBoolean(false);
    receiver.on("/done/flaky", n -> Answer.status(up.get() ? 200 : 503));
    String endpointId = api.createEndpoint(tenant.apiKey(),
        "{\"url\":\"" + receiver.url("/done/flaky") + "\",\"max_attempts\":100,\"timeout_ms\":500}");
    for (int i = 0; i < 3; i++) ingest(tenant, endpointId);

    Await.until("Slack hears of the failure", PATIENCE, () -> receiver.requests("/done/slack").size() == 1);
    Await.until("PagerDuty is triggered", PATIENCE, () -> receiver.requests("/done/pagerduty").size() == 1);
    // Failed attempts go on (each retry, each probe) while the circuit stays open.
    int failedBefore = receiver.requests("/done/flaky").size();
    Await.until("more failed attempts", PATIENCE, () -> receiver.requests("/done/flaky").size() >= failedBefore + 2);
    assertEquals(1, receiver.requests("/done/slack").size(), "one message for the state change, not one per failed attempt");

    JsonNode slack = bodies("/done/slack").get(0);
    assertTrue(slack.get("text").asText().contains("Circuit opened"), slack.toString());
    assertTrue(slack.get("text").asText().contains(endpointId), slack.toString());
    assertEquals("section", slack.at("/blocks/0/type").asText());
    assertEquals("mrkdwn", slack.at("/blocks/0/text/type").asText());
    assertTrue(slack.at("/blocks/0/text/text").asText().contains("<https://zyven.example.com/#/endpoints|Open in Zyven>"));

    JsonNode trigger = bodies("/done/pagerduty").get(0);
    assertEquals(ROUTING_KEY, trigger.get("routing_key").asText());
    assertEquals("trigger", trigger.get("event_action").asText());
    assertEquals("zyven:" + endpointId + ":circuit", trigger.get("dedup_key").asText());
    assertTrue(trigger.at("/payload/summary").asText().contains("Circuit opened"), trigger.toString());
    assertEquals(receiver.url("/done/flaky"), trigger.at("/payload/source").asText());
    assertEquals("error", trigger.at("/payload/severity").asText());

    up.set(true);
    Await.until("Slack hears of the recovery", PATIENCE, () -> receiver.requests("/done/slack").size() == 2);
    Await.until("PagerDuty is resolved", PATIENCE, () -> receiver.requests("/done/pagerduty").size() == 2);
    Await.until("nothing more to send", PATIENCE, () -> outboxSent(tenant));
    assertEquals(2, receiver.requests("/done/slack").size(), "once when it failed, once when it recovered");
    assertEquals(2, receiver.requests("/done/pagerduty").size());

    assertTrue(bodies("/done/slack").get(1).get("text").asText().contains("Circuit closed"));
    JsonNode resolve = bodies("/done/pagerduty").get(1);
    assertEquals("resolve", resolve.get("event_action").asText());
    assertEquals(trigger.get("dedup_key").asText(), resolve.get("dedup_key").asText());
    assertEquals(ROUTING_KEY, resolve.get("routing_key").asText());
  }

  @Test
  void endpointsFailingTogetherGoAsOneDigest() {
    Tenant tenant = api.createTenant("slack-digest");
    String channelId = channel(tenant, "{\"kind\":\"slack\",\"url\":\"" + receiver.url("/digest/slack") + "\"}");
    receiver.on("/digest/down", n -> Answer.status(503));
    receiver.on("/digest/reject", n -> Answer.status(400));
    String a = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/digest/down") + "?a\",\"max_attempts\":100}");
    String b = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/digest/down") + "?b\",\"max_attempts\":100}");
    String c = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/digest/reject") + "\"}");
    ingest(tenant, a);
    ingest(tenant, b);
    for (int i = 0; i < 3; i++) ingest(tenant, c);

    Await.until("a digest", PATIENCE, () -> receiver.requests("/digest/slack").size() == 1);
    Await.until("nothing more to send", PATIENCE, () -> outboxSent(tenant));
    assertEquals(1, receiver.requests("/digest/slack").size(), "one message for the whole group");

    JsonNode digest = bodies("/digest/slack").get(0);
    assertEquals("Zyven: 3 alerts about 3 endpoints", digest.get("text").asText());
    assertEquals("header", digest.at("/blocks/0/type").asText());
    List<String> lines = new ArrayList<>();
    digest.get("blocks").forEach(block -> {
      if (block.get("type").asText().equals("section")) lines.add(block.at("/text/text").asText());
    });
    assertEquals(3, lines.size(), digest.toString());
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("Circuit opened for") && l.contains(a)), lines.toString());
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("Circuit opened for") && l.contains(b)), lines.toString());
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("3 deliveries dead-lettered at") && l.contains(c)), lines.toString());

    JsonNode send = api.get("/v1/alert-channels/" + channelId, tenant.apiKey()).json().at("/last_sends/0");
    assertEquals("3 alerts about 3 endpoints", send.get("summary").asText());
  }
}
