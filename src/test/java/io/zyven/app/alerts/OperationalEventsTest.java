package io.zyven.app.alerts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.Receiver.Request;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import io.zyven.app.testing.WebhookVerifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Operational events reach a tenant's webhook alert channel, through Zyven's own delivery
 * path, signed with the channel's secret (checked with an independent Standard Webhooks
 * verifier): an endpoint's circuit opening and closing, a dead letter, an endpoint disabled
 * and enabled again. An alert channel whose own deliveries fail raises no alert about itself.
 */
class OperationalEventsTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static final String CONSOLE = "https://zyven.example.com";
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
        "zyven.alerts.group-wait", "100ms",
        "zyven.alerts.group-interval", "200ms",
        "zyven.http.public-url", CONSOLE));
    api = node.api;
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    receiver.close();
  }

  /** A webhook channel of the tenant at {@code path}; answers its id and secret. */
  private static JsonNode webhookChannel(Tenant tenant, String path, String eventTypes) {
    Response r = api.postJson("/v1/alert-channels", tenant.apiKey(),
        "{\"kind\":\"webhook\",\"url\":\"" + receiver.url(path) + "\"" + (eventTypes == null ? "" : ",\"event_types\":" + eventTypes) + "}");
    assertEquals(201, r.status(), r.body());
    assertTrue(r.json().get("secret").asText().startsWith("whsec_"));
    return r.json();
  }

  /** The alerts of a type that reached {@code path}, each checked as a Standard Webhooks request. */
  private static List<JsonNode> alerts(String path, String secret, String type) {
    return receiver.requests(path).stream()
        .filter(r -> r.answered() == 200)
        .map(r -> verified(r, secret))
        .filter(body -> body.get("type").asText().equals(type))
        .toList();
  }

  private static JsonNode verified(Request r, String secret) {
    assertTrue(WebhookVerifier.verify(secret, r.header("webhook-id"), r.header("webhook-timestamp"), r.body(),
        r.header("webhook-signature"), System.currentTimeMillis() / 1000), "signed with the channel's secret");
    try {
      JsonNode body = ApiClient.JSON.readTree(r.body());
      assertEquals(body.get("type").asText(), r.header("x-event-type"));
      return body;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode awaitAlert(String path, String secret, String type) {
    Await.until(type + " at " + path, PATIENCE, () -> !alerts(path, secret, type).isEmpty());
    return alerts(path, secret, type).get(0);
  }

  private static String ingest(Tenant tenant, String endpointId) {
    Response r = api.ingest(tenant.apiKey(), "k-" + UUID.randomUUID(),
        "{\"type\":\"order.created\",\"payload\":{\"n\":1},\"endpoint_id\":\"" + endpointId + "\"}");
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  @Test
  void aCircuitOpeningAndClosingReachTheChannelSigned() {
    Tenant tenant = api.createTenant("ops-circuit");
    JsonNode channel = webhookChannel(tenant, "/circuit/alerts", null);
    String secret = channel.get("secret").asText();
    AtomicBoolean up = new AtomicBoolean(false);
    receiver.on("/circuit/flaky", n -> Answer.status(up.get() ? 200 : 503));
    String endpointId = api.createEndpoint(tenant.apiKey(),
        "{\"url\":\"" + receiver.url("/circuit/flaky") + "\",\"max_attempts\":100,\"timeout_ms\":500}");
    ingest(tenant, endpointId);

    JsonNode opened = awaitAlert("/circuit/alerts", secret, "endpoint.circuit_opened");
    assertEquals(endpointId, opened.at("/data/endpoint_id").asText());
    assertEquals(tenant.id(), opened.at("/data/tenant_id").asText());
    assertEquals(receiver.url("/circuit/flaky"), opened.at("/data/endpoint_url").asText());
    assertFalse(opened.at("/data/reason").asText().isBlank(), "says why");
    assertEquals(CONSOLE + "/#/endpoints", opened.at("/data/console_url").asText());
    assertNotNull(java.time.Instant.parse(opened.get("timestamp").asText()));

    up.set(true);
    JsonNode closed = awaitAlert("/circuit/alerts", secret, "endpoint.circuit_closed");
    assertEquals(endpointId, closed.at("/data/endpoint_id").asText());
    assertEquals(1, alerts("/circuit/alerts", secret, "endpoint.circuit_opened").size(), "one alert per state change");
  }

  @Test
  void aDeadLetterReachesTheChannelAndItsSendShowsTheEventCarryingIt() {
    Tenant tenant = api.createTenant("ops-dead-letter");
    JsonNode channel = webhookChannel(tenant, "/dead/alerts", null);
    String secret = channel.get("secret").asText();
    receiver.on("/dead/reject", n -> Answer.status(400));
    String endpointId = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/dead/reject") + "\"}");
    String eventId = ingest(tenant, endpointId);

    JsonNode alert = awaitAlert("/dead/alerts", secret, "delivery.dead_lettered");
    assertEquals(eventId, alert.at("/data/event_id").asText());
    assertEquals(endpointId, alert.at("/data/endpoint_id").asText());
    assertTrue(alert.at("/data/reason").asText().contains("400"), alert.toString());
    assertEquals(CONSOLE + "/#/events/" + eventId, alert.at("/data/console_url").asText());

    // The channel's sends name the Zyven event that carried the alert; its attempts are there.
    String channelId = channel.get("id").asText();
    Await.until("the send shows its delivery as delivered", PATIENCE, () -> {
      JsonNode sends = api.get("/v1/alert-channels/" + channelId, tenant.apiKey()).json().get("last_sends");
      return sends.size() == 1 && sends.get(0).get("delivery_status").asText().equals("DELIVERED");
    });
    JsonNode send = api.get("/v1/alert-channels/" + channelId, tenant.apiKey()).json().get("last_sends").get(0);
    assertEquals(List.of("delivery.dead_lettered"), List.of(send.get("types").get(0).asText()));
    assertEquals("accepted", send.get("outcome").asText());
    JsonNode carrier = api.get("/v1/events/" + send.get("event_id").asText(), tenant.apiKey()).json();
    assertEquals("DELIVERED", carrier.get("status").asText());
    assertEquals(200, carrier.at("/deliveries/0/attempts/0/status_code").asInt());

    // Counted in /metrics (the registry is the JVM's: other tests count there too).
    assertTrue(metric("zyven_operational_events_total{type=\"delivery.dead_lettered\"}") >= 1);
    assertTrue(metric("zyven_alerts_sent_total{kind=\"webhook\",outcome=\"sent\"}") >= 1);
  }

  private static double metric(String series) {
    return api.get("/metrics", null).body().lines()
        .filter(l -> l.startsWith(series + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1).trim()))
        .findFirst().orElse(0);
  }

  @Test
  void anEndpointDisabledAndEnabledAgainReachesAChannelSubscribedToThose() {
    Tenant tenant = api.createTenant("ops-disabled");
    JsonNode channel = webhookChannel(tenant, "/disabled/alerts", "[\"endpoint.disabled\",\"endpoint.enabled\"]");
    String secret = channel.get("secret").asText();
    receiver.on("/disabled/gone", n -> Answer.status(410));
    String endpointId = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/disabled/gone") + "\"}");
    ingest(tenant, endpointId);

    JsonNode disabled = awaitAlert("/disabled/alerts", secret, "endpoint.disabled");
    assertEquals(endpointId, disabled.at("/data/endpoint_id").asText());
    assertTrue(disabled.at("/data/reason").asText().contains("410"), disabled.toString());

    assertEquals(200, api.postJson("/v1/endpoints/" + endpointId + "/enable", tenant.apiKey(), "").status());
    JsonNode enabled = awaitAlert("/disabled/alerts", secret, "endpoint.enabled");
    assertEquals(endpointId, enabled.at("/data/endpoint_id").asText());
    // The dead letter the 410 made was not among the channel's types: it never came.
    assertEquals(Set.of("endpoint.disabled", "endpoint.enabled"),
        receiver.requests("/disabled/alerts").stream().map(r -> verified(r, secret).get("type").asText())
            .collect(Collectors.toSet()));
  }

  @Test
  void aFailingAlertChannelRaisesNoAlertAboutItself() {
    Tenant tenant = api.createTenant("ops-no-loop");
    // The channel's receiver refuses everything: each alert is dead-lettered at once.
    receiver.on("/loop/alerts", n -> Answer.status(400));
    JsonNode channel = webhookChannel(tenant, "/loop/alerts", null);
    receiver.on("/loop/reject", n -> Answer.status(400));
    String endpointId = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/loop/reject") + "\"}");

    String first = ingest(tenant, endpointId);
    Await.until("the first alert was tried", PATIENCE, () -> receiver.requests("/loop/alerts").size() == 1);
    String channelEndpoint = channelEndpoint(tenant, channel.get("id").asText());
    Await.until("the alert's own delivery is dead-lettered", PATIENCE,
        () -> TestPostgres.shared().count("SELECT count(*) FROM deliveries WHERE endpoint_id = ?::uuid AND status = 'DEAD_LETTERED'",
            channelEndpoint) == 1);

    // A second dead letter of the tenant's endpoint: its alert comes after anything the first
    // alert's failure could have raised, so by the time it has been tried, a loop would show.
    String second = ingest(tenant, endpointId);
    Await.until("the second alert was tried", PATIENCE, () -> receiver.requests("/loop/alerts").size() >= 2);
    Await.until("the outbox is sent", PATIENCE, () -> TestPostgres.shared().count(
        "SELECT count(*) FROM operational_events o LEFT JOIN alert_batches b ON b.id = o.batch_id"
            + " WHERE o.tenant_id = ?::uuid AND b.sent_at IS NULL", tenant.id()) == 0);

    List<String> about = receiver.requests("/loop/alerts").stream().map(r -> json(r).at("/data/event_id").asText()).toList();
    assertEquals(List.of(first, second), about, "one alert per dead letter of the tenant's endpoint, none about the channel");
    assertEquals(0, TestPostgres.shared().count(
        "SELECT count(*) FROM operational_events WHERE endpoint_id = ?::uuid", channelEndpoint));
  }

  @Test
  void aTestAlertGoesThroughTheSamePath() {
    Tenant tenant = api.createTenant("ops-test");
    JsonNode channel = webhookChannel(tenant, "/test/alerts", null);
    Response r = api.postJson("/v1/alert-channels/" + channel.get("id").asText() + "/test", tenant.apiKey(), "");
    assertEquals(202, r.status(), r.body());
    assertEquals("accepted", r.json().get("outcome").asText());
    JsonNode alert = awaitAlert("/test/alerts", channel.get("secret").asText(), "alert.test");
    assertEquals(channel.get("id").asText(), alert.at("/data/channel_id").asText());
    String eventId = r.json().get("event_id").asText();
    Await.until("the test event is delivered", PATIENCE,
        () -> api.get("/v1/events/" + eventId, tenant.apiKey()).json().get("status").asText().equals("DELIVERED"));
  }

  /**
   * A node that dies after claiming a batch and before marking it sent: the batch is sent
   * afterwards; and a batch sent again delivers nothing twice (same Idempotency-Keys).
   */
  @Test
  void aBatchClaimedButNotMarkedSentIsSentOnceAfterwards() {
    Tenant tenant = api.createTenant("ops-resend");
    JsonNode channel = webhookChannel(tenant, "/resend/alerts", null);
    String secret = channel.get("secret").asText();
    String endpointId = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/resend/ok") + "\"}");
    String batch = UUID.randomUUID().toString();
    // What a node leaves behind when it dies between the claim and the send.
    assertEquals(1, TestPostgres.shared().count(
        "WITH b AS (INSERT INTO alert_batches (id, tenant_id, claimed_at) VALUES (?::uuid, ?::uuid, now()) RETURNING id),"
            + " o AS (INSERT INTO operational_events (source_key, tenant_id, type, endpoint_id, reason, occurred_at, batch_id)"
            + " SELECT 'test:' || id, ?::uuid, 'endpoint.disabled', ?::uuid, 'left behind', now(), id FROM b RETURNING 1)"
            + " SELECT count(*) FROM o", batch, tenant.id(), tenant.id(), endpointId));

    JsonNode alert = awaitAlert("/resend/alerts", secret, "endpoint.disabled");
    assertEquals("left behind", alert.at("/data/reason").asText());
    Await.until("the batch is marked sent", PATIENCE, () -> TestPostgres.shared().count(
        "SELECT count(*) FROM alert_batches WHERE id = ?::uuid AND sent_at IS NOT NULL", batch) == 1);

    // Sent again (as if the mark had been lost too): the same event, not a second alert.
    assertEquals(1, TestPostgres.shared().count(
        "WITH u AS (UPDATE alert_batches SET sent_at = NULL WHERE id = ?::uuid RETURNING 1) SELECT count(*) FROM u", batch));
    Await.until("the batch is marked sent again", PATIENCE, () -> TestPostgres.shared().count(
        "SELECT count(*) FROM alert_batches WHERE id = ?::uuid AND sent_at IS NOT NULL", batch) == 1);
    String channelId = channel.get("id").asText();
    JsonNode sends = api.get("/v1/alert-channels/" + channelId, tenant.apiKey()).json().get("last_sends");
    assertEquals(1, sends.size(), sends.toString());
    String eventId = sends.get(0).get("event_id").asText();
    Await.until("its delivery is done", PATIENCE,
        () -> api.get("/v1/events/" + eventId, tenant.apiKey()).json().get("status").asText().equals("DELIVERED"));
    assertEquals(1, receiver.requests("/resend/alerts").size(), "delivered once");
  }

  /** The channel's own endpoint, as the event carrying its first send names it. */
  private static String channelEndpoint(Tenant tenant, String channelId) {
    Await.until("a send is recorded", PATIENCE,
        () -> api.get("/v1/alert-channels/" + channelId, tenant.apiKey()).json().get("last_sends").size() > 0);
    String eventId = api.get("/v1/alert-channels/" + channelId, tenant.apiKey()).json().at("/last_sends/0/event_id").asText();
    return api.get("/v1/events/" + eventId, tenant.apiKey()).json().at("/deliveries/0/endpoint_id").asText();
  }

  private static JsonNode json(Request r) {
    try {
      return ApiClient.JSON.readTree(r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
