package io.zyven.app.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What callers outside Zyven's fixed sets can put in a label, and the names that must exist. */
class MetricsTest {

  private static String scrape() {
    return new String(Metrics.scrape(), StandardCharsets.UTF_8);
  }

  @Test
  void aLabelValueThatIsNotAPlainNameIsCountedAsOther() {
    Metrics.operationalEvent("endpoint.verified");
    Metrics.operationalEvent("Robert'); DROP TABLE --");
    Metrics.alertSent("slack", "sent");
    Metrics.alertSent("x".repeat(200), "sent");
    String text = scrape();
    assertTrue(text.contains("zyven_operational_events_total{type=\"endpoint.verified\"}"), text);
    assertTrue(text.contains("zyven_operational_events_total{type=\"other\"}"), text);
    assertTrue(text.contains("zyven_alerts_sent_total{kind=\"other\",outcome=\"sent\"}"), text);
    assertFalse(text.contains("DROP"), text);
  }

  @Test
  void statusClassesAreBounded() {
    assertEquals("none", Metrics.statusClass(null));
    assertEquals("2xx", Metrics.statusClass(204));
    assertEquals("5xx", Metrics.statusClass(599));
    assertEquals("other", Metrics.statusClass(600));
    assertEquals("other", Metrics.statusClass(42));
  }

  @Test
  void incrementByNameKnowsOnlyTheUnlabelledCounters() {
    Metrics.increment("zyven_events_accepted_total");
    assertThrows(IllegalArgumentException.class, () -> Metrics.increment("zyven_no_such_total"));
    assertThrows(IllegalArgumentException.class, () -> Metrics.increment("zyven_dead_letters_total"));
  }

  @Test
  void countersAreExposedWithTotalAndTheirTypeInTheTextFormat() {
    String text = scrape();
    assertTrue(text.contains("# TYPE zyven_events_accepted_total counter\n"), text);
    assertTrue(text.contains("# TYPE zyven_delivery_accept_to_delivered_seconds histogram\n"), text);
    assertTrue(text.contains("zyven_delivery_accept_to_delivered_seconds_bucket{le=\"+Inf\"}"), text);
  }
}
