package io.zyven.app.alert;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.zyven.app.json.Json;
import io.zyven.app.store.OperationalEvents;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What each kind of channel is sent, built from operational events. Pure: no I/O, so the
 * shapes are easy to read in one place.
 *
 * <ul>
 *   <li>webhook: one message per operational event, {@code {type, timestamp, data}};
 *   <li>slack and email: one message per batch, a digest when it holds several lines;
 *       dead letters of one endpoint collapse into one line with a count;
 *   <li>pagerduty: Events API v2, one trigger or resolve per (endpoint, condition)
 *       {@code dedup_key}.
 * </ul>
 */
final class AlertMessages {
  private AlertMessages() {}

  /** The type of a channel's test message. */
  static final String TEST_TYPE = "alert.test";

  /** One operational event, with what the dispatcher knows of its endpoint. */
  record OpEvent(
      long id, UUID tenantId, String type, UUID endpointId, String endpointUrl, UUID eventId, String reason,
      Instant occurredAt) {}

  /** One line of a digest: events of one type about one endpoint. */
  record Line(OpEvent last, int count) {}

  /** The most lines a digest shows; the rest are counted. */
  static final int MAX_LINES = 20;

  // ---- console links ----

  /** Where the console shows what the event is about; null without a public URL. */
  static String consoleUrl(String base, OpEvent e) {
    if (base == null || base.isEmpty()) return null;
    String root = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    return e.eventId() != null ? root + "/#/events/" + e.eventId() : root + "/#/endpoints";
  }

  // ---- webhook ----

  static String webhook(OpEvent e, String consoleBase) {
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("type", e.type());
    root.put("timestamp", e.occurredAt().toString());
    ObjectNode data = root.putObject("data");
    data.put("tenant_id", e.tenantId().toString());
    data.put("endpoint_id", e.endpointId() == null ? null : e.endpointId().toString());
    data.put("endpoint_url", e.endpointUrl());
    data.put("event_id", e.eventId() == null ? null : e.eventId().toString());
    data.put("reason", e.reason());
    data.put("console_url", consoleUrl(consoleBase, e));
    return root.toString();
  }

  /** A webhook channel's test message. */
  static String webhookTest(OpEvent e, UUID channelId) {
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("type", TEST_TYPE);
    root.put("timestamp", e.occurredAt().toString());
    ObjectNode data = root.putObject("data");
    data.put("tenant_id", e.tenantId().toString());
    data.put("channel_id", channelId.toString());
    data.put("reason", e.reason());
    return root.toString();
  }

  // ---- digests (slack, email) ----

  /** Events grouped into lines, in order of first appearance: one per (endpoint, type). */
  static List<Line> lines(List<OpEvent> events) {
    Map<String, Line> lines = new LinkedHashMap<>();
    for (OpEvent e : events) {
      lines.merge(e.endpointId() + " " + e.type(), new Line(e, 1), (a, b) -> new Line(b.last(), a.count() + b.count()));
    }
    return new ArrayList<>(lines.values());
  }

  /** A line in words, for people. */
  static String describe(Line line) {
    OpEvent e = line.last();
    String endpoint = e.endpointUrl() != null ? e.endpointUrl() + " (" + e.endpointId() + ")" : "endpoint " + e.endpointId();
    String reason = e.reason() == null || e.reason().isBlank() ? "" : ": " + e.reason();
    return switch (e.type()) {
      case OperationalEvents.ENDPOINT_DISABLED -> "Endpoint " + endpoint + " was disabled" + reason;
      case OperationalEvents.ENDPOINT_ENABLED -> "Endpoint " + endpoint + " is enabled again";
      case OperationalEvents.CIRCUIT_OPENED -> "Circuit opened for " + endpoint + reason;
      case OperationalEvents.CIRCUIT_CLOSED -> "Circuit closed for " + endpoint + ": it is receiving again";
      case OperationalEvents.DEAD_LETTERED -> line.count() == 1
          ? "Event " + e.eventId() + " dead-lettered at " + endpoint + reason
          : line.count() + " deliveries dead-lettered at " + endpoint + " (last" + reason + ")";
      case TEST_TYPE -> "Test alert from Zyven: this channel works";
      default -> e.type() + " at " + endpoint + reason;
    };
  }

  /** One line for a whole batch: the line itself, or how many there are. */
  static String summary(List<Line> lines) {
    if (lines.size() == 1) return describe(lines.get(0));
    long endpoints = lines.stream().map(l -> l.last().endpointId()).distinct().count();
    return lines.size() + " alerts about " + endpoints + (endpoints == 1 ? " endpoint" : " endpoints");
  }

  /** A Slack incoming-webhook body: {@code text} (the fallback) and {@code blocks}. */
  static String slack(List<Line> lines, String consoleBase) {
    return slack(lines, consoleBase, "Zyven: " + summary(lines));
  }

  /** The same, with {@code title} as its text (and a digest's header). */
  static String slack(List<Line> lines, String consoleBase, String title) {
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("text", title);
    ArrayNode blocks = root.putArray("blocks");
    if (lines.size() > 1) {
      ObjectNode header = blocks.addObject();
      header.put("type", "header");
      header.putObject("text").put("type", "plain_text").put("text", truncate(title, 150));
    }
    for (Line line : lines.subList(0, Math.min(lines.size(), MAX_LINES))) {
      String url = consoleUrl(consoleBase, line.last());
      String text = escapeSlack(describe(line)) + (url == null ? "" : " <" + escapeSlack(url) + "|Open in Zyven>");
      ObjectNode section = blocks.addObject();
      section.put("type", "section");
      section.putObject("text").put("type", "mrkdwn").put("text", truncate(text, 3000));
    }
    if (lines.size() > MAX_LINES) {
      ObjectNode context = blocks.addObject();
      context.put("type", "context");
      context.putArray("elements").addObject().put("type", "mrkdwn").put("text", "…and " + (lines.size() - MAX_LINES) + " more");
    }
    return root.toString();
  }

  /** Slack's mrkdwn treats these three as control characters. */
  static String escapeSlack(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  /** A plain-text mail body. */
  static String emailBody(List<Line> lines, String consoleBase) {
    StringBuilder body = new StringBuilder();
    for (Line line : lines.subList(0, Math.min(lines.size(), MAX_LINES))) {
      body.append("- ").append(describe(line)).append('\n');
      String url = consoleUrl(consoleBase, line.last());
      if (url != null) body.append("  ").append(url).append('\n');
    }
    if (lines.size() > MAX_LINES) body.append("…and ").append(lines.size() - MAX_LINES).append(" more\n");
    return body.toString();
  }

  // ---- pagerduty ----

  /** One Events API v2 message and the key its send is recorded under. */
  record PagerDutyEvent(String dedupKey, String action, String body, OpEvent about) {}

  /**
   * Events API v2 messages for a batch: per (endpoint, condition) {@code dedup_key}, the
   * state changes in order, repeats dropped. Opened circuits and disables trigger; closed
   * circuits resolve the circuit's key, and an enable resolves both the disable's and the
   * circuit's (enabling resets the circuit). Dead letters trigger one incident per endpoint
   * with the count, which the operator resolves in PagerDuty.
   */
  static List<PagerDutyEvent> pagerDuty(List<OpEvent> events, String routingKey, String consoleBase) {
    Map<String, List<PagerDutyEvent>> byKey = new LinkedHashMap<>();
    Map<String, Integer> deadLetters = new LinkedHashMap<>();
    for (OpEvent e : events) {
      if (e.type().equals(OperationalEvents.DEAD_LETTERED)) deadLetters.merge(String.valueOf(e.endpointId()), 1, Integer::sum);
    }
    for (OpEvent e : events) {
      String endpoint = String.valueOf(e.endpointId());
      switch (e.type()) {
        case OperationalEvents.CIRCUIT_OPENED -> add(byKey, e, "circuit", "trigger", "error", 1, routingKey, consoleBase);
        case OperationalEvents.CIRCUIT_CLOSED -> add(byKey, e, "circuit", "resolve", "info", 1, routingKey, consoleBase);
        case OperationalEvents.ENDPOINT_DISABLED -> add(byKey, e, "disabled", "trigger", "critical", 1, routingKey, consoleBase);
        case OperationalEvents.ENDPOINT_ENABLED -> {
          add(byKey, e, "disabled", "resolve", "info", 1, routingKey, consoleBase);
          add(byKey, e, "circuit", "resolve", "info", 1, routingKey, consoleBase);
        }
        case OperationalEvents.DEAD_LETTERED -> {
          Integer n = deadLetters.remove(endpoint);
          if (n != null) add(byKey, e, "dead_letters", "trigger", "warning", n, routingKey, consoleBase);
        }
        case TEST_TYPE -> add(byKey, e, "test", "trigger", "info", 1, routingKey, consoleBase);
        default -> { }
      }
    }
    List<PagerDutyEvent> all = new ArrayList<>();
    byKey.values().forEach(all::addAll);
    return all;
  }

  private static void add(
      Map<String, List<PagerDutyEvent>> byKey, OpEvent e, String condition, String action, String severity, int count,
      String routingKey, String consoleBase) {
    String dedupKey = "zyven:" + e.endpointId() + ":" + condition;
    List<PagerDutyEvent> events = byKey.computeIfAbsent(dedupKey, k -> new ArrayList<>());
    if (!events.isEmpty() && events.get(events.size() - 1).action().equals(action)) return; // a repeat
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("routing_key", routingKey);
    root.put("event_action", action);
    root.put("dedup_key", dedupKey);
    ObjectNode payload = root.putObject("payload");
    payload.put("summary", truncate("Zyven: " + describe(new Line(e, count)), 1024));
    payload.put("source", e.endpointUrl() != null ? e.endpointUrl() : "zyven endpoint " + e.endpointId());
    payload.put("severity", severity);
    payload.put("timestamp", e.occurredAt().toString());
    payload.put("component", "endpoint " + e.endpointId());
    payload.put("class", e.type());
    ObjectNode details = payload.putObject("custom_details");
    details.put("type", e.type());
    details.put("tenant_id", e.tenantId().toString());
    details.put("endpoint_id", String.valueOf(e.endpointId()));
    details.put("event_id", e.eventId() == null ? null : e.eventId().toString());
    details.put("reason", e.reason());
    details.put("count", count);
    String url = consoleUrl(consoleBase, e);
    if (url != null) root.putArray("links").addObject().put("href", url).put("text", "Open in Zyven");
    events.add(new PagerDutyEvent(dedupKey, action, root.toString(), e));
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }
}
