package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.zyven.app.store.Database;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.persistence.jdbc.db.SlickExtension;
import org.apache.pekko.persistence.jdbc.db.SlickExtensionImpl;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Queries are bounded in time and in number: every statement has a timeout (the read-model
 * pool, the journal's pool, the lag query of {@code /metrics}), and the read-model executor
 * queues only so many queries before answering 503 with Retry-After. A query is made to
 * wait for real, by a table lock the test holds from its own connection.
 */
class BoundedQueriesTest {
  private static final Duration STATEMENT_TIMEOUT = Duration.ofSeconds(2);

  private static TestPostgres pg;
  private static TestNode node;

  @BeforeAll
  static void start() {
    pg = TestPostgres.shared();
    node =
        TestNode.start(
            pg,
            Map.of(
                "zyven.db.pool-size", 1,
                "zyven.db.queue-limit", 1,
                "zyven.db.statement-timeout", STATEMENT_TIMEOUT.toMillis() + "ms",
                "zyven.metrics.refresh-interval", "500ms"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void aQueryRunningPastTheStatementTimeoutIsCancelled() {
    try (Database db =
        new Database(
            Database.withStatementTimeout(pg.jdbcUrl(), Duration.ofMillis(200)), pg.jdbcUrl(), "postgres", "", 1, 1,
            Duration.ofSeconds(5))) {
      long t0 = System.nanoTime();
      CompletionException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              CompletionException.class,
              () -> db.query(c -> c.createStatement().execute("SELECT pg_sleep(30)")).toCompletableFuture().join());
      long millis = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(e.getCause() instanceof Database.DatabaseUnavailable, e.toString());
      assertEquals("57014", ((SQLException) e.getCause().getCause()).getSQLState(), "cancelled by statement timeout");
      assertTrue(millis < 10_000, "cut off after " + millis + " ms");
    }
  }

  @Test
  void aListWaitingPastTheStatementTimeoutAnswersAProblemNotAHang() throws Exception {
    Tenant tenant = node.api.createTenant("timeout-" + UUID.randomUUID());
    node.api.get("/v1/endpoints", tenant.apiKey()); // the key is known (and cached) from here on
    try (Connection lock = lock("endpoints")) {
      long t0 = System.nanoTime();
      Response r = node.api.get("/v1/endpoints", tenant.apiKey());
      long millis = (System.nanoTime() - t0) / 1_000_000;
      assertProblem(r, 503);
      assertTrue(r.header("Retry-After").isPresent(), r.headers().toString());
      assertTrue(millis >= STATEMENT_TIMEOUT.toMillis() - 100, "answered after " + millis + " ms, while locked");
    }
    // Once the lock is gone it answers again; the node's background queries (gauges, alerts)
    // share this test's one connection and one queue slot, so a request may still meet a
    // full queue for a moment.
    Await.until("the list answers again", Duration.ofSeconds(30),
        () -> node.api.get("/v1/endpoints", tenant.apiKey()).status() == 200);
  }

  /**
   * A scrape never waits for PostgreSQL: it is served from the gauges' cache. The background
   * lag query, blocked by a lock, is cut off by the statement timeout, and its gauges are
   * left out (not shown stale) until it succeeds again.
   */
  @Test
  void theMetricsLagQueryIsCutOffByTheTimeoutAndTheScrapeStillAnswers() throws Exception {
    Await.until("the lag gauges are there", Duration.ofSeconds(10),
        () -> node.api.get("/metrics", null).body().contains("zyven_readmodel_lag_events"));
    try (Connection lock = lock("event_tag")) {
      long t0 = System.nanoTime();
      Response r = node.api.get("/metrics", null);
      long millis = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(200, r.status(), r.body());
      assertTrue(millis < STATEMENT_TIMEOUT.toMillis(), "a scrape waited " + millis + " ms for a locked table");
      Await.until("the lag gauges go while their query is cut off", STATEMENT_TIMEOUT.plusSeconds(10),
          () -> !node.api.get("/metrics", null).body().contains("zyven_readmodel_lag_events"));
      assertTrue(node.api.get("/metrics", null).body().contains("zyven_events_accepted_total"));
    }
    Await.until("the lag is back once the lock is gone", Duration.ofSeconds(10),
        () -> node.api.get("/metrics", null).body().contains("zyven_readmodel_lag_events"));
  }

  @Test
  void theJournalsConnectionsHaveTheStatementTimeoutToo() throws Exception {
    var journal =
        ((SlickExtensionImpl) SlickExtension.get(node.zyven().system().classicSystem()))
            .database(ConfigFactory.parseMap(Map.of("use-shared-db", "default")))
            .database();
    var session = journal.createSession();
    try (Statement st = session.conn().createStatement(); ResultSet rs = st.executeQuery("SHOW statement_timeout")) {
      rs.next();
      assertEquals(STATEMENT_TIMEOUT.toSeconds() + "s", rs.getString(1));
    } finally {
      session.close();
    }
  }

  @Test
  void pastTheQueueOfTheDatabaseExecutorTheAnswerIs503WithRetryAfter() throws Exception {
    Tenant tenant = node.api.createTenant("busy-" + UUID.randomUUID());
    node.api.get("/v1/endpoints", tenant.apiKey()); // the key is known (and cached) from here on
    CompletableFuture<Response> blocked;
    List<Response> more;
    try (Connection lock = lock("endpoints")) {
      // The node's one query thread waits for the lock...
      blocked = CompletableFuture.supplyAsync(() -> node.api.get("/v1/endpoints", tenant.apiKey()));
      Await.until("a query of the node waits for the lock", Duration.ofSeconds(5),
          () -> pg.count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
              + " AND query LIKE '%endpoints%' AND pid <> pg_backend_pid()") > 0);
      // ...its queue holds one more; of two more requests, at least one finds it full.
      List<CompletableFuture<Response>> two =
          List.of(
              CompletableFuture.supplyAsync(() -> node.api.get("/v1/endpoints", tenant.apiKey())),
              CompletableFuture.supplyAsync(() -> node.api.get("/v1/endpoints", tenant.apiKey())));
      Await.until("one of them is answered", Duration.ofSeconds(5), () -> two.stream().anyMatch(CompletableFuture::isDone));
      more = two.stream().filter(CompletableFuture::isDone).map(CompletableFuture::join).toList();
    }
    Response busy = more.get(0);
    assertProblem(busy, 503);
    assertTrue(busy.body().contains("busy"), busy.body());
    assertTrue(Integer.parseInt(busy.header("Retry-After").orElse("0")) >= 1, busy.headers().toString());
    assertEquals(200, blocked.get(10, TimeUnit.SECONDS).status(), "the waiting query finishes once the lock is gone");
  }

  /** A connection holding an exclusive lock on {@code table} until it is closed. */
  private static Connection lock(String table) throws SQLException {
    Connection c = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "");
    c.setAutoCommit(false);
    try (Statement st = c.createStatement()) {
      st.execute("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
    }
    return c; // closing it rolls back, which releases the lock
  }
}
