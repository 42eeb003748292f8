package io.zyven.app.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** zyven.alerts.global: what a node accepts at start-up, and what it refuses. */
class GlobalChannelTest {
  private static final String PD = "https://events.pagerduty.com/v2/enqueue";

  private static Config global(Map<String, String> settings) {
    return ConfigFactory.parseMap(settings)
        .withFallback(ConfigFactory.load().getConfig("zyven.alerts.global"));
  }

  @Test
  void noKindIsNoChannel() {
    assertNull(GlobalChannel.fromConfig(global(Map.of()), PD));
  }

  @Test
  void aChannelTakesTheFieldsOfItsKind() {
    GlobalChannel pagerDuty = GlobalChannel.fromConfig(
        global(Map.of("kind", "pagerduty", "routing-key", "abc123", "event-types", "endpoint.disabled, delivery.dead_lettered")), PD);
    assertEquals(PD, pagerDuty.channel().url());
    assertEquals(List.of("endpoint.disabled", "delivery.dead_lettered"), pagerDuty.channel().eventTypes());
    GlobalChannel email = GlobalChannel.fromConfig(global(Map.of("kind", "email", "to", "a@example.com,b@example.com")), PD);
    assertEquals(List.of("a@example.com", "b@example.com"), email.channel().to());
    GlobalChannel webhook = GlobalChannel.fromConfig(global(Map.of("kind", "webhook", "url", "https://ops.example.com/hooks",
        "secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")), PD);
    assertEquals("webhook", webhook.channel().kind());
  }

  @Test
  void aBadSettingStopsTheNode() {
    for (Map<String, String> bad : List.of(
        Map.of("kind", "sms"),
        Map.of("kind", "slack"),
        Map.of("kind", "slack", "url", "ftp://example.com/x"),
        Map.of("kind", "pagerduty"),
        Map.of("kind", "email"),
        Map.of("kind", "webhook", "url", "https://ops.example.com/hooks"),
        Map.of("kind", "webhook", "url", "https://ops.example.com/hooks", "secret", "whsec_not base64!"),
        Map.of("kind", "slack", "url", "https://hooks.example.com/x", "event-types", "endpoint.exploded"))) {
      assertThrows(IllegalArgumentException.class, () -> GlobalChannel.fromConfig(global(bad), PD), bad.toString());
    }
  }
}
