package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.alert.AlertChannelService.ChannelPatch;
import io.zyven.app.alert.AlertChannelService.NewChannel;
import io.zyven.app.store.OperationalEvents;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The bodies of {@code POST} and {@code PATCH /v1/alert-channels}, checked field by field:
 * 400 for anything amiss, before anything is read or written. Which fields a kind takes:
 * webhook and slack a {@code url}; pagerduty a {@code routing_key} (and a {@code url},
 * PagerDuty's by default); email {@code to}. A field of another kind is refused.
 */
final class AlertChannelRequest {
  private AlertChannelRequest() {}

  static final List<String> KINDS = List.of("webhook", "slack", "pagerduty", "email");
  private static final Set<String> CREATE_FIELDS = Set.of("kind", "url", "routing_key", "to", "event_types");
  private static final Set<String> PATCH_FIELDS = Set.of("url", "routing_key", "to", "event_types");
  private static final Pattern ROUTING_KEY = Pattern.compile("[A-Za-z0-9_-]{1,128}");
  // Deliberately plain: one @, no spaces or angle brackets; the SMTP server has the last word.
  private static final Pattern EMAIL = Pattern.compile("[^@\\s<>(),;:\"\\[\\]]{1,64}@[A-Za-z0-9.-]{1,253}");

  static NewChannel create(byte[] body, String pagerDutyUrl) {
    JsonNode root = RequestBodies.object(body, CREATE_FIELDS);
    JsonNode kindNode = root.get("kind");
    if (kindNode == null || !kindNode.isTextual() || !KINDS.contains(kindNode.asText())) {
      throw Problems.badRequest("kind must be one of " + String.join(", ", KINDS));
    }
    String kind = kindNode.asText();
    String url = url(root.get("url"));
    String routingKey = routingKey(root.get("routing_key"));
    List<String> to = to(root.get("to"));
    allowedFor(kind, url, routingKey, to);
    switch (kind) {
      case "webhook", "slack" -> {
        if (url == null) throw Problems.badRequest("a " + kind + " channel needs a url");
      }
      case "pagerduty" -> {
        if (routingKey == null) throw Problems.badRequest("a pagerduty channel needs a routing_key");
        if (url == null) url = pagerDutyUrl;
      }
      default -> {
        if (to == null) throw Problems.badRequest("an email channel needs to: a list of addresses");
      }
    }
    List<String> types = eventTypes(root.get("event_types"));
    return new NewChannel(kind, url, routingKey, to, types == null ? List.of() : types);
  }

  /**
   * A PATCH: the kind cannot change ({@code kind} is refused as unknown); whether the
   * fields are the channel's kind's is checked once the channel is read ({@link #allowedFor}).
   */
  static ChannelPatch patch(byte[] body) {
    JsonNode root = RequestBodies.object(body, PATCH_FIELDS);
    return new ChannelPatch(
        url(root.get("url")), routingKey(root.get("routing_key")), to(root.get("to")), eventTypes(root.get("event_types")));
  }

  static void allowedFor(ChannelPatch p, String kind) {
    allowedFor(kind, p.url(), p.routingKey(), p.to());
  }

  private static void allowedFor(String kind, String url, String routingKey, List<String> to) {
    if (url != null && kind.equals("email")) throw Problems.badRequest("url does not apply to an email channel");
    if (routingKey != null && !kind.equals("pagerduty")) {
      throw Problems.badRequest("routing_key applies to pagerduty channels only");
    }
    if (to != null && !kind.equals("email")) throw Problems.badRequest("to applies to email channels only");
  }

  private static String url(JsonNode node) {
    if (node == null || node.isNull()) return null;
    if (!node.isTextual() || node.asText().length() > 2048) {
      throw Problems.badRequest("url must be a string of at most 2048 characters");
    }
    try {
      URI uri = new URI(node.asText());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) throw Problems.badRequest("url must be http or https");
      if (uri.getHost() == null) throw Problems.badRequest("url must have a host");
      if (uri.getPort() > 65535) throw Problems.badRequest("url has an invalid port");
      return uri.toString();
    } catch (URISyntaxException e) {
      throw Problems.badRequest("url is not a valid URL: " + e.getReason());
    }
  }

  private static String routingKey(JsonNode node) {
    if (node == null || node.isNull()) return null;
    if (!node.isTextual() || !ROUTING_KEY.matcher(node.asText()).matches()) {
      throw Problems.badRequest("routing_key must be 1-128 letters, digits, _ or -");
    }
    return node.asText();
  }

  private static List<String> to(JsonNode node) {
    if (node == null || node.isNull()) return null;
    if (!node.isArray() || node.isEmpty() || node.size() > 20) {
      throw Problems.badRequest("to must be an array of 1-20 email addresses");
    }
    Set<String> addresses = new LinkedHashSet<>();
    for (JsonNode a : node) {
      if (!a.isTextual() || !EMAIL.matcher(a.asText()).matches()) {
        throw Problems.badRequest("each to entry must be an email address such as ops@example.com");
      }
      addresses.add(a.asText());
    }
    return List.copyOf(addresses);
  }

  private static List<String> eventTypes(JsonNode node) {
    if (node == null || node.isNull()) return null;
    String known = "event_types must be an array of " + String.join(", ", OperationalEvents.TYPES)
        + " (empty: all of them)";
    if (!node.isArray()) throw Problems.badRequest(known);
    List<String> types = new ArrayList<>();
    for (JsonNode t : node) {
      if (!t.isTextual() || !OperationalEvents.TYPES.contains(t.asText())) {
        throw Problems.badRequest("unknown event type " + (t.isTextual() ? Problems.quote(t.asText()) : "of JSON type " + t.getNodeType().name().toLowerCase(Locale.ROOT)) + "; " + known);
      }
      if (!types.contains(t.asText())) types.add(t.asText());
    }
    return types;
  }
}
