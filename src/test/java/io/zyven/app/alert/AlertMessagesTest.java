package io.zyven.app.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.alert.AlertMessages.OpEvent;
import io.zyven.app.alert.AlertMessages.PagerDutyEvent;
import io.zyven.app.json.Json;
import io.zyven.app.store.OperationalEvents;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The shapes of alert messages, and how a batch collapses into them. */
class AlertMessagesTest {
  private static final UUID TENANT = UUID.randomUUID();
  private static final UUID A = UUID.randomUUID();
  private static final UUID B = UUID.randomUUID();
  private static long ids;

  private static OpEvent event(String type, UUID endpoint, String reason) {
    return new OpEvent(++ids, TENANT, type, endpoint, "https://a.example/" + endpoint, UUID.randomUUID(), reason,
        Instant.parse("2026-01-01T00:00:00Z"));
  }

  @Test
  void deadLettersOfOneEndpointAreOneLineWithACount() {
    List<OpEvent> batch = List.of(
        event(OperationalEvents.DEAD_LETTERED, A, "400"),
        event(OperationalEvents.CIRCUIT_OPENED, B, "503"),
        event(OperationalEvents.DEAD_LETTERED, A, "400"),
        event(OperationalEvents.DEAD_LETTERED, A, "404"));
    List<AlertMessages.Line> lines = AlertMessages.lines(batch);
    assertEquals(2, lines.size());
    assertEquals(3, lines.get(0).count());
    assertTrue(AlertMessages.describe(lines.get(0)).startsWith("3 deliveries dead-lettered at https://a.example/" + A));
    assertTrue(AlertMessages.describe(lines.get(0)).endsWith("(last: 404)"), AlertMessages.describe(lines.get(0)));
    assertEquals("2 alerts about 2 endpoints", AlertMessages.summary(lines));
  }

  @Test
  void pagerDutyTriggersAndResolvesPerEndpointAndCondition() throws Exception {
    List<OpEvent> batch = List.of(
        event(OperationalEvents.CIRCUIT_OPENED, A, "503"),
        event(OperationalEvents.CIRCUIT_CLOSED, A, null),
        event(OperationalEvents.CIRCUIT_OPENED, A, "503"),
        event(OperationalEvents.ENDPOINT_DISABLED, B, "410 Gone"),
        event(OperationalEvents.ENDPOINT_ENABLED, B, null),
        event(OperationalEvents.DEAD_LETTERED, B, "410"),
        event(OperationalEvents.DEAD_LETTERED, B, "410"));
    List<PagerDutyEvent> events = AlertMessages.pagerDuty(batch, "rk", null);
    List<String> seen = events.stream().map(e -> e.action() + " " + e.dedupKey()).toList();
    assertEquals(List.of(
        "trigger zyven:" + A + ":circuit", "resolve zyven:" + A + ":circuit", "trigger zyven:" + A + ":circuit",
        "trigger zyven:" + B + ":disabled", "resolve zyven:" + B + ":disabled",
        "resolve zyven:" + B + ":circuit",
        "trigger zyven:" + B + ":dead_letters"), seen);
    JsonNode deadLetters = Json.MAPPER.readTree(events.get(events.size() - 1).body());
    assertEquals("rk", deadLetters.get("routing_key").asText());
    assertEquals("warning", deadLetters.at("/payload/severity").asText());
    assertEquals(2, deadLetters.at("/payload/custom_details/count").asInt());
    assertTrue(deadLetters.at("/payload/summary").asText().startsWith("Zyven: 2 deliveries dead-lettered"));
  }

  @Test
  void slackTextIsEscapedAndLinksToTheConsole() throws Exception {
    OpEvent e = new OpEvent(1, TENANT, OperationalEvents.CIRCUIT_OPENED, A, "https://a.example/<x>&y", null,
        "HTTP 503 <b>", Instant.now());
    JsonNode slack = Json.MAPPER.readTree(AlertMessages.slack(AlertMessages.lines(List.of(e)), "https://zyven.example.com/"));
    String text = slack.at("/blocks/0/text/text").asText();
    assertTrue(text.contains("https://a.example/&lt;x&gt;&amp;y"), text);
    assertTrue(text.contains("HTTP 503 &lt;b&gt;"), text);
    assertTrue(text.endsWith("<https://zyven.example.com/#/endpoints|Open in Zyven>"), text);
    assertTrue(slack.get("text").asText().startsWith("Zyven: Circuit opened for"));
  }
}
