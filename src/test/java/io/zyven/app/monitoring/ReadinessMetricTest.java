package io.zyven.app.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Readiness follows PostgreSQL, stopped for real and started again: GET /health/ready
 * answers 503 and {@code zyven_ready} is 0 while it is down, and both come back by
 * themselves. {@code /metrics} answers all along (it is served from memory), without the
 * gauges it cannot read, so Prometheus sees a node that is up but not ready.
 */
class ReadinessMetricTest {
  private static TestPostgres pg;
  private static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    pg = TestPostgres.startPrivate();
    node = TestNode.start(pg, Map.of("zyven.metrics.refresh-interval", "200ms"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) node.close();
    if (pg != null) pg.close();
  }

  @Test
  void readinessAndItsGaugeGoFalseWhilePostgresIsStoppedAndComeBack() throws Exception {
    Await.until("ready, and the gauge says so", Duration.ofSeconds(20),
        () -> node.api.get("/health/ready", null).status() == 200 && ready() == 1);
    Response up = node.api.get("/health/ready", null);
    assertTrue(up.json().get("sharding").asBoolean(), "ready only once its shard regions have registered: " + up.body());

    pg.stop();
    try {
      Await.until("not ready while PostgreSQL is stopped", Duration.ofSeconds(20),
          () -> node.api.get("/health/ready", null).status() == 503);
      Await.until("zyven_ready is 0 while PostgreSQL is stopped", Duration.ofSeconds(20), () -> ready() == 0);
      Response ready = node.api.get("/health/ready", null);
      assertEquals(503, ready.status());
      assertFalse(ready.json().get("database").asBoolean(), ready.body());
      assertTrue(ready.json().get("sharding").asBoolean(), "sharding, once registered, is not what is missing: " + ready.body());
      String text = node.api.get("/metrics", null).body();
      assertFalse(text.contains("zyven_readmodel_lag_events "), "no lag figure without the database:\n" + text);
      assertTrue(text.contains("zyven_events_accepted_total "), text);
    } finally {
      pg.start();
    }

    Await.until("ready again once PostgreSQL is back", Duration.ofSeconds(60),
        () -> node.api.get("/health/ready", null).status() == 200);
    Await.until("zyven_ready is 1 again", Duration.ofSeconds(20), () -> ready() == 1);
    Await.until("the read-model gauges are back", Duration.ofSeconds(20),
        () -> new Scrape(node.api.get("/metrics", null).body()).find("zyven_readmodel_lag_events").isPresent());
  }

  private static double ready() {
    Response r = node.api.get("/metrics", null);
    assertEquals(200, r.status(), r.body());
    return new Scrape(r.body()).find("zyven_ready").orElseThrow(() -> new AssertionError("no zyven_ready:\n" + r.body()));
  }
}
