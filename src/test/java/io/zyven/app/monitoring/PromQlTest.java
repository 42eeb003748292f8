package io.zyven.app.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** The metric-name extraction the dashboard and alert checks rely on. */
class PromQlTest {
  @Test
  void findsSelectedMetricsAndSkipsFunctionsKeywordsLabelsAndDurations() {
    assertEquals(
        Set.of("zyven_delivery_attempts_total"),
        PromQl.metricNames("sum by (outcome) (rate(zyven_delivery_attempts_total{outcome!=\"success\"}[$__rate_interval]))"));
    assertEquals(Set.of("up", "zyven_readmodel_lag_events"), PromQl.metricNames("up{job=\"zyven\"} == 1 unless on(instance) zyven_readmodel_lag_events"));
    assertEquals(
        Set.of("zyven_events_accepted_total", "zyven_delivery_attempts_total"),
        PromQl.metricNames(
            "sum(increase(zyven_events_accepted_total[15m])) > 0 and on()\n"
                + "(sum(increase(zyven_delivery_attempts_total{outcome=\"success\"}[15m])) or vector(0)) == 0"));
    assertEquals(Set.of("zyven_retention_oldest_event_age_seconds"), PromQl.metricNames("max(zyven_retention_oldest_event_age_seconds) > 35 * 86400"));
    assertEquals(Set.of("jvm_memory_bytes", "foo"), PromQl.metricNames("time() - jvm_memory_bytes offset 5m + foo"));
  }
}
