package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.ingest.IngestService;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL goes away for real (its server stopped) while a node runs: ingest answers 503
 * with Retry-After and writes nothing; once PostgreSQL is back, the client's retry with the
 * same Idempotency-Key is accepted exactly once.
 */
class StorageOutageTest {
  private static final String EVENT = "{\"type\":\"order.paid\",\"payload\":{\"order\":7}}";

  private static TestPostgres pg;
  private static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    pg = TestPostgres.startPrivate();
    node = TestNode.start(pg, Map.of("zyven.ingest.ask-timeout", "3s"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    pg.close();
  }

  @Test
  void ingestAnswers503WhileDatabaseIsDownAndTheRetryIsAcceptedOnce() throws Exception {
    ApiClient api = node.api;
    Tenant tenant = api.createTenant("outage");
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"http://127.0.0.1:9/hook\"}");
    String eventId = IngestService.eventId(tenant.id(), "order-7");

    pg.stop();
    Response down = api.ingest(tenant.apiKey(), "order-7", EVENT);
    Response ready = api.get("/health/ready", null);
    pg.start();

    assertProblem(down, 503);
    assertTrue(Integer.parseInt(down.header("Retry-After").orElse("0")) >= 1, "Retry-After: " + down.headers());
    assertEquals(503, ready.status(), "not ready without the database");
    assertEquals(0, pg.journalRows(eventId), "nothing written while down");

    Response retried = retryUntilAccepted(api, tenant.apiKey(), Duration.ofSeconds(60));
    assertEquals(202, retried.status(), retried.body());
    assertEquals(eventId, retried.json().get("event_id").asText());
    assertEquals(1, pg.acceptances(eventId));
    assertEquals(200, api.ingest(tenant.apiKey(), "order-7", EVENT).status());
    assertEquals(1, pg.acceptances(eventId), "nothing duplicated");
  }

  /** What a producer does on 503: retry with the same key until it is not 503. */
  private static Response retryUntilAccepted(ApiClient api, String apiKey, Duration patience)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(patience);
    Response r = api.ingest(apiKey, "order-7", EVENT);
    while (r.status() == 503 && Instant.now().isBefore(deadline)) {
      Thread.sleep(Long.parseLong(r.header("Retry-After").orElse("1")) * 1000);
      r = api.ingest(apiKey, "order-7", EVENT);
    }
    return r;
  }
}
