package io.zyven.app.alert;

import com.typesafe.config.Config;
import io.zyven.app.alert.AlertChannels.Channel;
import io.zyven.app.store.OperationalEvents;
import io.zyven.protocol.Signature;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * The operator's own channel, from {@code zyven.alerts.global}: every tenant's operational
 * events (of its {@code event-types}). It belongs to no tenant, so it is sent directly by
 * the dispatcher rather than through a tenant's delivery path; a batch whose global message
 * failed stays unsent and is tried again every tick for {@code retry-for}.
 */
record GlobalChannel(Channel channel, String secret, Duration retryFor) {

  static final UUID ID = UUID.nameUUIDFromBytes("zyven global alert channel".getBytes(java.nio.charset.StandardCharsets.UTF_8));

  /** The configured channel, or null when {@code kind} is empty; a bad setting stops the node. */
  static GlobalChannel fromConfig(Config global, String pagerDutyUrl) {
    String kind = global.getString("kind").trim();
    if (kind.isEmpty()) return null;
    String url = global.getString("url").trim();
    String routingKey = global.getString("routing-key").trim();
    List<String> to = split(global.getString("to"));
    List<String> types = split(global.getString("event-types"));
    String secret = global.getString("secret").trim();
    switch (kind) {
      case "webhook" -> {
        require(!url.isEmpty(), "a webhook global channel needs zyven.alerts.global.url");
        require(validSecret(secret), "a webhook global channel needs zyven.alerts.global.secret: whsec_ and base64");
      }
      case "slack" -> require(!url.isEmpty(), "a slack global channel needs zyven.alerts.global.url");
      case "pagerduty" -> {
        require(!routingKey.isEmpty(), "a pagerduty global channel needs zyven.alerts.global.routing-key");
        if (url.isEmpty()) url = pagerDutyUrl;
      }
      case "email" -> require(!to.isEmpty(), "an email global channel needs zyven.alerts.global.to");
      default -> throw new Alerts.BadSetting(
          "zyven.alerts.global.kind must be webhook, slack, pagerduty or email, not " + kind);
    }
    if (!url.isEmpty()) {
      String scheme;
      try {
        scheme = URI.create(url).getScheme();
      } catch (IllegalArgumentException e) {
        scheme = null;
      }
      require("http".equals(scheme) || "https".equals(scheme), "zyven.alerts.global.url must be an http or https URL");
    }
    for (String type : types) {
      require(OperationalEvents.TYPES.contains(type), "zyven.alerts.global.event-types: unknown type " + type);
    }
    Channel channel = new Channel(ID, null, kind, url.isEmpty() ? null : url, routingKey.isEmpty() ? null : routingKey,
        to, types, null, Instant.EPOCH, Instant.EPOCH);
    return new GlobalChannel(channel, secret, global.getDuration("retry-for"));
  }

  private static boolean validSecret(String secret) {
    if (!secret.startsWith(Signature.SECRET_PREFIX)) return false;
    try {
      return Signature.key(secret).length >= 16;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static List<String> split(String commaSeparated) {
    return Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  private static void require(boolean ok, String problem) {
    if (!ok) throw new Alerts.BadSetting(problem);
  }
}
