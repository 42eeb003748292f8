package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.ingest.IngestService;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL stopped for real for 30 s while producers send events as fast as they get
 * answers. Requests in flight at that moment fail at the journal (the entity cannot recover
 * or write), later ones already at the fan-out lookup; both answer 503 with Retry-After
 * within the ask timeout. When PostgreSQL returns, everything resumes by itself: every
 * event that got a 202 is delivered, and producers that retried their 503s with the same
 * keys end with exactly one event per key.
 */
class DatabaseOutageUnderLoadTest {
  private static final int PRODUCERS = 6;
  private static final int KEYS_EACH = 40;
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration OUTAGE = Duration.ofSeconds(30);
  // An answer's way back through HTTP, on a busy 2-core machine.
  private static final Duration SLACK = Duration.ofSeconds(2);

  private static TestPostgres pg;
  private static TestNode node;
  private static Receiver receiver;

  @BeforeAll
  static void start() throws Exception {
    pg = TestPostgres.startPrivate();
    node = TestNode.start(pg, Map.of("zyven.ingest.ask-timeout", ASK_TIMEOUT.toSeconds() + "s"));
    receiver = new Receiver();
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    receiver.close();
    pg.close();
  }

  /** One answer a producer got: its status, how long it took, and the problem's detail. */
  private record Answer(int status, long millis, String retryAfter, String detail, Response response) {}

  @Test
  void journalFailuresAnswer503AndEveryAcceptedEventIsDeliveredOncePerKeyAfterTheOutage() throws Exception {
    ApiClient api = node.api;
    Tenant tenant = api.createTenant("outage-load");
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/hook") + "\"}");

    Map<String, String> acceptedIds = new ConcurrentHashMap<>(); // key -> event id from the 202
    List<Answer> unavailable = new CopyOnWriteArrayList<>();
    List<Answer> unexpected = new CopyOnWriteArrayList<>();
    AtomicBoolean giveUp = new AtomicBoolean();
    ExecutorService producers = Executors.newFixedThreadPool(PRODUCERS);
    List<Future<?>> running = new ArrayList<>();
    for (int p = 0; p < PRODUCERS; p++) {
      int producer = p;
      running.add(producers.submit(() -> {
        for (int k = 0; k < KEYS_EACH && !giveUp.get(); k++) {
          String key = "p" + producer + "-k" + k;
          String body = "{\"type\":\"order.paid\",\"payload\":{\"key\":\"" + key + "\"}}";
          while (!giveUp.get()) {
            long start = System.nanoTime();
            Response r = api.ingest(tenant.apiKey(), key, body);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (r.status() == 202 || r.status() == 200) {
              acceptedIds.put(key, r.json().get("event_id").asText());
              break;
            }
            Answer a = new Answer(r.status(), millis, r.header("Retry-After").orElse(null),
                r.body().contains("detail") ? r.json().path("detail").asText() : r.body(), r);
            if (r.status() != 503) {
              unexpected.add(a);
              break;
            }
            unavailable.add(a);
            // A well-behaved producer: the same key again, after the time it was told.
            sleepSeconds(Math.min(5, Long.parseLong(a.retryAfter() == null ? "1" : a.retryAfter())));
          }
        }
        return null;
      }));
    }

    Await.until("events flow before the outage", Duration.ofSeconds(60), () -> acceptedIds.size() >= 30);
    // The outage must find requests past the fan-out lookup, waiting on the journal: hold
    // the journal's inserts (reads still pass) until some wait, then stop PostgreSQL, which
    // ends them and this lock alike. Left to timing, the stop may find none there.
    Connection lock = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "");
    lock.setAutoCommit(false);
    try (Statement st = lock.createStatement()) {
      st.execute("LOCK TABLE event_journal IN EXCLUSIVE MODE");
    }
    Await.until("requests waiting on the journal's lock", Duration.ofSeconds(20),
        () -> pg.count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            + " AND query ILIKE '%insert%event_journal%'") > 0);
    pg.stop();
    try {
      lock.close();
    } catch (SQLException gone) {
      // The stop ended its session.
    }
    Await.until("the node says it is not ready", Duration.ofSeconds(10),
        () -> api.get("/health/ready", null).status() == 503);
    Thread.sleep(OUTAGE.toMillis()); // the outage itself, not a wait for something
    boolean stillUnready = api.get("/health/ready", null).status() == 503;
    pg.start();

    Await.until("the node is ready again by itself", Duration.ofSeconds(60),
        () -> api.get("/health/ready", null).status() == 200);
    try {
      for (Future<?> f : running) f.get(180, TimeUnit.SECONDS);
    } finally {
      giveUp.set(true);
      producers.shutdownNow();
    }

    assertTrue(stillUnready, "not ready for the whole outage");
    assertTrue(unexpected.isEmpty(), () -> "answers other than 202, 200 or 503: " + unexpected);
    assertTrue(!unavailable.isEmpty(), "the outage was felt");
    for (Answer a : unavailable) {
      assertProblem(a.response(), 503);
      assertTrue(a.retryAfter() != null && Long.parseLong(a.retryAfter()) >= 1, () -> "Retry-After in " + a);
      assertTrue(a.millis() <= ASK_TIMEOUT.plus(SLACK).toMillis(), () -> "answered within the ask timeout: " + a);
    }
    // Requests in flight when PostgreSQL went had passed the fan-out lookup: the journal
    // failed them (their entity could not recover or write), not a read-model query.
    assertTrue(unavailable.stream().anyMatch(a -> a.detail().startsWith("not answered in time")),
        () -> "some 503s came from the journal's side; details: "
            + unavailable.stream().map(Answer::detail).distinct().toList());

    assertEquals(PRODUCERS * KEYS_EACH, acceptedIds.size(), "every key ended accepted");
    Map<String, Long> received = pg.receivedRowsPerEvent();
    for (Map.Entry<String, String> e : acceptedIds.entrySet()) {
      assertEquals(IngestService.eventId(tenant.id(), e.getKey()), e.getValue(), "the key's event id");
      assertEquals(1L, received.getOrDefault(e.getValue(), 0L), () -> "one event for key " + e.getKey());
    }
    Set<String> wanted = Set.copyOf(acceptedIds.values());
    Await.until("every accepted event reaches the receiver", Duration.ofSeconds(120),
        () -> deliveredIds().containsAll(wanted));
  }

  private static Set<String> deliveredIds() {
    Set<String> ids = ConcurrentHashMap.newKeySet();
    for (Receiver.Request r : receiver.requests("/hook")) ids.add(r.header("webhook-id"));
    return ids;
  }

  private static void sleepSeconds(long seconds) {
    try {
      Thread.sleep(seconds * 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
