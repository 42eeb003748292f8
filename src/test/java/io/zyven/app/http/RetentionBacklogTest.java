package io.zyven.app.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A backlog larger than one run's batch goes in back-to-back runs, not a batch per
 * interval: otherwise a node whose events finish faster than batch ÷ interval would fall
 * behind for good, and its disk would grow.
 */
class RetentionBacklogTest {
  private static final Duration INTERVAL = Duration.ofSeconds(10);
  private static final int BATCH = 4;
  private static final int EVENTS = 10; // three runs' worth: 4, 4, 2
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  @Test
  void aBacklogLargerThanABatchGoesInBackToBackRuns() throws Exception {
    TestPostgres pg = TestPostgres.startPrivate();
    try (Receiver receiver = new Receiver();
        TestNode node = TestNode.start(pg, Map.of(
            "zyven.retention.period", "1s",
            "zyven.retention.interval", INTERVAL.toMillis() + "ms",
            "zyven.retention.batch", BATCH))) {
      ApiClient api = node.api;
      Tenant tenant = api.createTenant("backlog-" + UUID.randomUUID());
      // Held by its own period while the events are delivered, so that all of them become
      // due at once when it is lifted.
      assertEquals(200, api.patchJson("/v1/tenants/" + tenant.id(), TestNode.ADMIN_KEY,
          "{\"retention_period_days\":3650}").status());
      api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < EVENTS; i++) {
        Response r = api.ingest(tenant.apiKey(), "k-" + i, "{\"type\":\"user.created\",\"payload\":{\"n\":" + i + "}}");
        assertEquals(202, r.status(), r.body());
        ids.add(r.json().get("event_id").asText());
      }
      Await.until("all delivered", PATIENCE, () -> api.listIds(tenant.apiKey(), "DELIVERED").containsAll(ids));

      Response lifted = api.patchJson("/v1/tenants/" + tenant.id(), TestNode.ADMIN_KEY, "{\"retention_period_days\":null}");
      assertEquals(200, lifted.status(), lifted.body());

      Await.until("the first removal", PATIENCE, () -> remaining(pg, ids) < EVENTS);
      Instant first = Instant.now();
      Await.until("all removed", PATIENCE, () -> remaining(pg, ids) == 0);
      Duration spread = Duration.between(first, Instant.now());
      assertTrue(spread.compareTo(INTERVAL) < 0,
          "three batches' worth removed within one interval, took " + spread);
    } finally {
      pg.stop();
    }
  }

  private static long remaining(TestPostgres pg, List<String> ids) {
    return pg.count("SELECT count(*) FROM events WHERE event_id = ANY(?::uuid[])", "{" + String.join(",", ids) + "}");
  }
}
