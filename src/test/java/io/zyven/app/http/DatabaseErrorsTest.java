package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.store.Database;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.TestPostgres;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a failed statement becomes in the API, from real PostgreSQL errors: a data error is
 * the caller's 400, any other refused statement a 500 carrying an error id, and only a lost
 * database is the 503 "storage unavailable" with Retry-After that tells a client to retry.
 */
class DatabaseErrorsTest {
  private static final Duration RETRY_AFTER = Duration.ofSeconds(2);

  private static Database db;

  @BeforeAll
  static void open() {
    db = new Database(TestPostgres.shared().jdbcUrl(), "postgres", "", 2);
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @Test
  void aDataExceptionIsTheCallersBadRequest() {
    Response r = answer(db.query(c -> c.createStatement().executeQuery("SELECT '+999999999-01-01'::timestamptz")));
    assertProblem(r, 400, "invalid-request");
    Response division = answer(db.query(c -> c.createStatement().executeQuery("SELECT 1/0")));
    assertProblem(division, 400, "invalid-request");
  }

  @Test
  void anyOtherRefusedStatementIsA500WithAnErrorIdNotA503() {
    Response r = answer(db.query(c -> {
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TEMP TABLE once (x int PRIMARY KEY)");
        s.execute("INSERT INTO once VALUES (1)");
        s.execute("INSERT INTO once VALUES (1)"); // 23505 unique violation
      }
      return null;
    }));
    assertProblem(r, 500, "internal");
    String errorId = r.json().get("error_id").asText();
    assertEquals(36, errorId.length(), r.body());
    assertTrue(r.json().get("detail").asText().contains(errorId), r.body());
    assertTrue(r.header("Retry-After").isEmpty());

    assertProblem(answer(db.query(c -> c.createStatement().executeQuery("SELECT * FROM no_such_table"))), 500, "internal");
  }

  @Test
  void aLostConnectionIsStorageUnavailable() {
    // The server ends this very session (SQLState 57P01, then a broken connection).
    Response r = answer(db.query(c -> c.createStatement().executeQuery("SELECT pg_terminate_backend(pg_backend_pid())")));
    assertProblem(r, 503, "unavailable");
    assertEquals("2", r.header("Retry-After").orElseThrow());
  }

  @Test
  void aStatementThatTimesOutIsStorageUnavailableToo() {
    Response r = answer(db.query(c -> {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute("SET LOCAL statement_timeout = 50");
        s.execute("SELECT pg_sleep(5)"); // 57014, cancelled by the timeout
      } finally {
        c.rollback();
        c.setAutoCommit(true);
      }
      return null;
    }));
    assertProblem(r, 503, "unavailable");
  }

  /** The API's answer for a request whose query ended as this one did. */
  private static Response answer(CompletionStage<?> query) {
    CompletionException failed = assertThrows(CompletionException.class, () -> query.toCompletableFuture().join());
    HttpResponse h = Problems.fromThrowable(failed, RETRY_AFTER);
    String body = ((HttpEntity.Strict) h.entity()).getData().utf8String();
    Map<String, List<String>> headers = new java.util.HashMap<>();
    headers.put("Content-Type", List.of(h.entity().getContentType().toString()));
    h.getHeaders().forEach(x -> headers.put(x.name(), List.of(x.value())));
    return new Response(h.status().intValue(), headers, body);
  }
}
