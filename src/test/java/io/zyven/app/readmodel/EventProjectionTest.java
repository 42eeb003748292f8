package io.zyven.app.readmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.store.Database;
import io.zyven.app.testing.TestPostgres;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.DeliveryStatus;
import io.zyven.protocol.EventJournal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The projection's handler, one journaled event at a time, against the real PostgreSQL
 * schema: what each {@link EventJournal} record does to {@code events}, {@code deliveries}
 * and {@code attempts}. The rows must say what {@code EventEntity.State} says after the same
 * events, because {@code GET /v1/events} shows the one and {@code GET /v1/events/{id}} the other.
 */
class EventProjectionTest {
  private static TestPostgres pg;
  private static Database db;
  private static ReadModelQueries queries;

  private Connection c;
  // Microseconds: what timestamptz keeps.
  private final Instant t0 = Instant.now().truncatedTo(ChronoUnit.MICROS);
  private final String tenant = UUID.randomUUID().toString();
  private final String eventId = UUID.randomUUID().toString();
  private final String endpointA = UUID.randomUUID().toString();
  private final String endpointB = UUID.randomUUID().toString();

  @BeforeAll
  static void schema() {
    pg = TestPostgres.shared();
    db = new Database(pg.jdbcUrl(), "postgres", "", 2);
    db.migrate();
    queries = new ReadModelQueries(db);
  }

  @AfterAll
  static void closeDatabase() {
    db.close();
  }

  @BeforeEach
  void connect() throws SQLException {
    c = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "");
  }

  // Other test classes start nodes on this database: their waker must not find this test's
  // unfinished deliveries (they have no journal behind them).
  @AfterEach
  void removeRowsAndDisconnect() throws SQLException {
    c.setAutoCommit(true);
    for (String table : List.of("attempts", "deliveries", "events")) {
      try (PreparedStatement st = c.prepareStatement("DELETE FROM " + table + " WHERE event_id = ?")) {
        st.setObject(1, UUID.fromString(eventId));
        st.executeUpdate();
      }
    }
    c.close();
  }

  // ---- each record ----

  @Test
  void receivedCreatesTheEventAndOneDeliveryPerEndpoint() throws Exception {
    apply(received(t0, endpointA, endpointB));

    Map<String, Object> event = eventRow();
    assertEquals(tenant, event.get("tenant_id").toString());
    assertEquals("order.paid", event.get("type"));
    assertEquals("RECEIVED", event.get("status"));
    assertEquals(t0, instant(event.get("created_at")));
    assertEquals(t0, instant(event.get("updated_at")));

    assertEquals(2, pg.count("SELECT count(*) FROM deliveries WHERE event_id = ?", UUID.fromString(eventId)));
    for (String endpoint : List.of(endpointA, endpointB)) {
      Map<String, Object> d = deliveryRow(endpoint);
      assertEquals(tenant, d.get("tenant_id").toString());
      assertEquals("order.paid", d.get("event_type"), "the type is on deliveries too, for ?endpoint_id=&type=");
      assertEquals("RECEIVED", d.get("status"));
      assertEquals(0, d.get("attempt_count"));
      assertEquals(t0, instant(d.get("event_created_at")));
      assertEquals(t0, instant(d.get("status_changed_at")));
      assertNull(d.get("next_attempt_at"));
      assertNull(d.get("last_error"));
    }
    assertEquals(0, attemptRows(endpointA).size() + attemptRows(endpointB).size());
  }

  @Test
  void aReceivedThatStartedTheFirstAttemptsCreatesDispatchingDeliveries() throws Exception {
    EventJournal.Received r = received(t0, endpointA, endpointB);
    apply(new EventJournal.Received(
        r.eventId(), r.tenantId(), r.type(), r.payload(), r.idempotencyKey(), r.bodyHash(), r.requestId(),
        r.endpointIds(), r.at(), true));

    assertEquals("DISPATCHING", eventRow().get("status"));
    assertEquals(t0, instant(eventRow().get("updated_at")));
    for (String endpoint : List.of(endpointA, endpointB)) {
      Map<String, Object> d = deliveryRow(endpoint);
      assertEquals("DISPATCHING", d.get("status"));
      assertEquals(1, d.get("attempt_count"));
      assertEquals(t0, instant(d.get("status_changed_at")));
      assertNull(d.get("next_attempt_at"));
    }
  }

  @Test
  void dispatchStartedSetsDispatchingAndTheAttemptCount() throws Exception {
    apply(received(t0, endpointA));
    Instant at = t0.plusMillis(1);
    apply(new EventJournal.DispatchStarted(endpointA, 1, "first attempt", at));

    Map<String, Object> d = deliveryRow(endpointA);
    assertEquals("DISPATCHING", d.get("status"));
    assertEquals(1, d.get("attempt_count"));
    assertEquals(at, instant(d.get("status_changed_at")));
    assertNull(d.get("next_attempt_at"));
    assertEquals("DISPATCHING", eventRow().get("status"));
    assertEquals(at, instant(eventRow().get("updated_at")));
    assertTrue(attemptRows(endpointA).isEmpty(), "an attempt row is written when the attempt ends");
  }

  @Test
  void retryScheduledRecordsTheAttemptTheDueTimeAndTheError() throws Exception {
    apply(received(t0, endpointA));
    apply(new EventJournal.DispatchStarted(endpointA, 1, "first attempt", t0));
    Instant next = t0.plusSeconds(5);
    Instant at = t0.plusMillis(40);
    apply(new EventJournal.RetryScheduled(endpointA, attempt(1, t0, 503, 37, "HTTP 503"), next, "retryable failure", at));

    Map<String, Object> d = deliveryRow(endpointA);
    assertEquals("RETRY_SCHEDULED", d.get("status"));
    assertEquals(1, d.get("attempt_count"));
    assertEquals(next, instant(d.get("next_attempt_at")));
    assertEquals("HTTP 503", d.get("last_error"));
    assertEquals(at, instant(d.get("status_changed_at")));
    assertEquals("RETRY_SCHEDULED", eventRow().get("status"));

    List<Map<String, Object>> attempts = attemptRows(endpointA);
    assertEquals(1, attempts.size());
    Map<String, Object> a = attempts.get(0);
    assertEquals(1, a.get("number"));
    assertEquals(t0, instant(a.get("started_at")));
    assertEquals(503, a.get("status_code"));
    assertEquals(37L, a.get("latency_ms"));
    assertEquals("HTTP 503", a.get("error"));

    // A timeout has no status code.
    apply(new EventJournal.DispatchStarted(endpointA, 2, "retry due", next));
    Instant next2 = next.plusSeconds(30);
    apply(new EventJournal.RetryScheduled(
        endpointA, attempt(2, next, null, 30_000, "timed out after PT30S"), next2, "retryable failure", next.plusSeconds(30)));
    Map<String, Object> second = attemptRows(endpointA).get(1);
    assertEquals(2, second.get("number"));
    assertNull(second.get("status_code"));
    assertEquals("timed out after PT30S", second.get("error"));
    assertEquals(2, deliveryRow(endpointA).get("attempt_count"));
    assertEquals(next2, instant(deliveryRow(endpointA).get("next_attempt_at")));
    assertEquals("timed out after PT30S", deliveryRow(endpointA).get("last_error"));
  }

  @Test
  void attemptDeferredGivesTheAttemptNumberBackAndSetsTheDueTime() throws Exception {
    apply(received(t0, endpointA));
    apply(new EventJournal.DispatchStarted(endpointA, 1, "first attempt", t0));
    apply(new EventJournal.RetryScheduled(
        endpointA, attempt(1, t0, 500, 5, "HTTP 500"), t0.plusSeconds(5), "retryable failure", t0.plusMillis(5)));
    apply(new EventJournal.DispatchStarted(endpointA, 2, "retry due", t0.plusSeconds(5)));
    assertEquals(2, deliveryRow(endpointA).get("attempt_count"));

    Instant until = t0.plusSeconds(35);
    apply(new EventJournal.AttemptDeferred(endpointA, 2, until, "circuit open", t0.plusSeconds(5).plusMillis(1)));

    Map<String, Object> d = deliveryRow(endpointA);
    assertEquals("RETRY_SCHEDULED", d.get("status"));
    assertEquals(1, d.get("attempt_count"), "the deferred attempt was not made: its number is given back");
    assertEquals(until, instant(d.get("next_attempt_at")));
    assertEquals("circuit open", d.get("last_error"));
    assertEquals(1, attemptRows(endpointA).size(), "no attempt row for an attempt that was not made");
    assertEquals("RETRY_SCHEDULED", eventRow().get("status"));

    // The same attempt number is then made for real.
    apply(new EventJournal.DispatchStarted(endpointA, 2, "retry due", until));
    assertEquals(2, deliveryRow(endpointA).get("attempt_count"));
    assertNull(deliveryRow(endpointA).get("next_attempt_at"));
  }

  @Test
  void deliveredEndsTheDeliveryAndTheEvent() throws Exception {
    apply(received(t0, endpointA));
    apply(new EventJournal.DispatchStarted(endpointA, 1, "first attempt", t0));
    Instant at = t0.plusMillis(12);
    apply(new EventJournal.Delivered(endpointA, attempt(1, t0, 204, 11, null), "HTTP 204", at));

    Map<String, Object> d = deliveryRow(endpointA);
    assertEquals("DELIVERED", d.get("status"));
    assertEquals(1, d.get("attempt_count"));
    assertNull(d.get("next_attempt_at"));
    assertNull(d.get("last_error"));
    assertEquals(at, instant(d.get("status_changed_at")));
    Map<String, Object> event = eventRow();
    assertEquals("DELIVERED", event.get("status"));
    assertEquals(at, instant(event.get("updated_at")));
    assertEquals(t0, instant(event.get("created_at")), "created_at never moves");
    assertEquals(1, attemptRows(endpointA).size());
    assertEquals(204, attemptRows(endpointA).get(0).get("status_code"));
  }

  /**
   * The entity (EventEntity.Delivery#withAttempt) sets lastError to the last attempt's error,
   * which is null for a 2xx: GET /v1/events/{id} shows {@code last_error: null} once the
   * delivery succeeded. The read model must not keep showing the error of an earlier attempt.
   */
  @Test
  void deliveredAfterAFailureClearsLastErrorAsTheEntityDoes() throws Exception {
    apply(received(t0, endpointA));
    apply(new EventJournal.DispatchStarted(endpointA, 1, "first attempt", t0));
    apply(new EventJournal.RetryScheduled(
        endpointA, attempt(1, t0, 503, 5, "HTTP 503"), t0.plusMillis(50), "retryable failure", t0.plusMillis(5)));
    apply(new EventJournal.DispatchStarted(endpointA, 2, "retry due", t0.plusMillis(50)));
    apply(new EventJournal.Delivered(endpointA, attempt(2, t0.plusMillis(50), 200, 3, null), "HTTP 200", t0.plusMillis(53)));

    Map<String, Object> d = deliveryRow(endpointA);
    assertEquals("DELIVERED", d.get("status"));
    assertEquals(2, d.get("attempt_count"));
    assertNull(d.get("last_error"), "the entity's last_error after a successful attempt is null");
  }

  @Test
  void deadLetteredEndsTheDeliveryAndIsFoundByRecover() throws Exception {
    apply(received(t0, endpointA));
    apply(new EventJournal.DispatchStarted(endpointA, 1, "first attempt", t0));
    Instant at = t0.plusMillis(7);
    apply(new EventJournal.DeadLettered(
        endpointA, attempt(1, t0, 400, 6, "HTTP 400"), "permanent failure (HTTP 400)", at));

    Map<String, Object> d = deliveryRow(endpointA);
    assertEquals("DEAD_LETTERED", d.get("status"));
    assertEquals(1, d.get("attempt_count"));
    assertEquals("HTTP 400", d.get("last_error"));
    assertNull(d.get("next_attempt_at"));
    assertEquals(at, instant(d.get("status_changed_at")));
    assertEquals("DEAD_LETTERED", eventRow().get("status"));
    assertEquals(1, attemptRows(endpointA).size());

    // POST /v1/endpoints/{id}/recover reads [since, until) on status_changed_at.
    assertEquals(List.of(eventId), deadLetters(at, at.plusMillis(1)));
    assertEquals(List.of(), deadLetters(at.plusMillis(1), at.plusSeconds(1)));
    assertEquals(List.of(), deadLetters(t0, at));
    assertEquals(List.of(), queries.deadLetters(UUID.randomUUID().toString(), endpointA, t0, at.plusSeconds(1), null, 100)
        .toCompletableFuture().get(10, TimeUnit.SECONDS), "another tenant's dead letters are not its own");
  }

  @Test
  void replayedSendsATerminalDeliveryBackToDispatchingWithTheNextAttempt() throws Exception {
    apply(received(t0, endpointA));
    apply(new EventJournal.DispatchStarted(endpointA, 1, "first attempt", t0));
    apply(new EventJournal.DeadLettered(
        endpointA, attempt(1, t0, 400, 6, "HTTP 400"), "permanent failure (HTTP 400)", t0.plusMillis(7)));

    Instant replayAt = t0.plusSeconds(60);
    apply(new EventJournal.Replayed(endpointA, 2, "tenant:" + tenant, "operator replay", replayAt));

    Map<String, Object> d = deliveryRow(endpointA);
    assertEquals("DISPATCHING", d.get("status"));
    assertEquals(2, d.get("attempt_count"));
    assertEquals(replayAt, instant(d.get("status_changed_at")));
    assertNull(d.get("next_attempt_at"));
    assertEquals("HTTP 400", d.get("last_error"), "the entity keeps the last error through a replay");
    assertEquals("DISPATCHING", eventRow().get("status"));
    assertEquals(List.of(), deadLetters(t0, replayAt.plusSeconds(1)), "no longer a dead letter");

    apply(new EventJournal.Delivered(endpointA, attempt(2, replayAt, 200, 4, null), "HTTP 200", replayAt.plusMillis(4)));
    assertEquals("DELIVERED", deliveryRow(endpointA).get("status"));
    assertEquals("DELIVERED", eventRow().get("status"));
    List<Map<String, Object>> attempts = attemptRows(endpointA);
    assertEquals(List.of(1, 2), attempts.stream().map(a -> a.get("number")).toList());
  }

  // ---- the event's derived status ----

  @Test
  void oneDeliveredAndOneRetryScheduledIsRetryScheduled() throws Exception {
    apply(received(t0, endpointA, endpointB));
    apply(new EventJournal.DispatchStarted(endpointA, 1, "first attempt", t0));
    apply(new EventJournal.DispatchStarted(endpointB, 1, "first attempt", t0));
    apply(new EventJournal.Delivered(endpointA, attempt(1, t0, 200, 3, null), "HTTP 200", t0.plusMillis(3)));
    assertEventStatusFollowsDeliveries(DeliveryStatus.DISPATCHING);

    apply(new EventJournal.RetryScheduled(
        endpointB, attempt(1, t0, 502, 4, "HTTP 502"), t0.plusSeconds(5), "retryable failure", t0.plusMillis(4)));
    assertEventStatusFollowsDeliveries(DeliveryStatus.RETRY_SCHEDULED);

    apply(new EventJournal.DispatchStarted(endpointB, 2, "retry due", t0.plusSeconds(5)));
    assertEventStatusFollowsDeliveries(DeliveryStatus.DISPATCHING);

    apply(new EventJournal.DeadLettered(
        endpointB, attempt(2, t0.plusSeconds(5), 404, 2, "HTTP 404"), "permanent failure (HTTP 404)",
        t0.plusSeconds(5).plusMillis(2)));
    assertEventStatusFollowsDeliveries(DeliveryStatus.DEAD_LETTERED);

    // Replaying the dead letter: the event is in progress again.
    apply(new EventJournal.Replayed(endpointB, 3, "tenant:" + tenant, "operator replay", t0.plusSeconds(9)));
    assertEventStatusFollowsDeliveries(DeliveryStatus.DISPATCHING);
    apply(new EventJournal.Delivered(
        endpointB, attempt(3, t0.plusSeconds(9), 200, 2, null), "HTTP 200", t0.plusSeconds(9).plusMillis(2)));
    assertEventStatusFollowsDeliveries(DeliveryStatus.DELIVERED);
  }

  @Test
  void aDeliveryStillReceivedKeepsTheEventReceived() throws Exception {
    apply(received(t0, endpointA, endpointB));
    apply(new EventJournal.DispatchStarted(endpointA, 1, "first attempt", t0));
    apply(new EventJournal.Delivered(endpointA, attempt(1, t0, 200, 3, null), "HTTP 200", t0.plusMillis(3)));
    assertEventStatusFollowsDeliveries(DeliveryStatus.RECEIVED);
  }

  // ---- replays of the journal ----

  @Test
  void applyingEveryEventTwiceLeavesTheSameRows() throws Exception {
    List<EventJournal> history = fullHistory();
    List<String> afterEach = new ArrayList<>();
    for (EventJournal e : history) {
      apply(e);
      String once = snapshot();
      apply(e);
      assertEquals(once, snapshot(), "applying " + e.getClass().getSimpleName() + " again changed the rows");
      afterEach.add(once);
    }
    String end = afterEach.get(afterEach.size() - 1);

    // A crash before the offset commit replays a suffix of the history; from the start, all of it.
    for (EventJournal e : history.subList(history.size() - 3, history.size())) apply(e);
    assertEquals(end, snapshot());
    for (EventJournal e : history) apply(e);
    assertEquals(end, snapshot());

    assertEquals(4, attemptRows(endpointA).size() + attemptRows(endpointB).size());
    assertEquals("DEAD_LETTERED", eventRow().get("status"));
  }

  @Test
  void aReplayedTransactionThatRolledBackLeavesNoTrace() throws Exception {
    apply(received(t0, endpointA));
    String before = snapshot();
    c.setAutoCommit(false);
    EventProjection.apply(c, eventId, new EventJournal.DispatchStarted(endpointA, 1, "first attempt", t0));
    EventProjection.apply(c, eventId, new EventJournal.Delivered(endpointA, attempt(1, t0, 200, 1, null), "HTTP 200", t0));
    c.rollback();
    c.setAutoCommit(true);
    assertEquals(before, snapshot());
  }

  // ---- what the waker sees ----

  @Test
  void theWakerFindsDueRetriesAndAttemptsThatNeverEnded() throws Exception {
    Instant longAgo = t0.minus(Duration.ofDays(3650));
    apply(received(longAgo, endpointA, endpointB));
    apply(new EventJournal.DispatchStarted(endpointA, 1, "first attempt", longAgo));
    apply(new EventJournal.DispatchStarted(endpointB, 1, "first attempt", longAgo));
    apply(new EventJournal.RetryScheduled(
        endpointA, attempt(1, longAgo, 503, 3, "HTTP 503"), longAgo.plusSeconds(5), "retryable failure", longAgo));

    // A retry due long ago, and an attempt that started long ago and never ended.
    assertTrue(toWake(longAgo.plusSeconds(6), longAgo.plusSeconds(1)).contains(eventId));
    assertTrue(toWake(longAgo.plusSeconds(1), longAgo.plusSeconds(1)).contains(eventId), "B is stuck in DISPATCHING");
    assertFalse(toWake(longAgo.plusSeconds(1), longAgo).contains(eventId), "nothing due yet");

    apply(new EventJournal.Delivered(endpointB, attempt(1, longAgo, 200, 3, null), "HTTP 200", longAgo.plusMillis(3)));
    assertFalse(toWake(longAgo.plusSeconds(4), longAgo.plusSeconds(60)).contains(eventId), "the retry is not due yet");
    assertTrue(toWake(longAgo.plusSeconds(6), longAgo.plusSeconds(60)).contains(eventId));

    apply(new EventJournal.DispatchStarted(endpointA, 2, "retry due", longAgo.plusSeconds(5)));
    apply(new EventJournal.Delivered(
        endpointA, attempt(2, longAgo.plusSeconds(5), 200, 3, null), "HTTP 200", longAgo.plusSeconds(5)));
    assertFalse(toWake(t0, t0).contains(eventId), "a terminal event is never woken");
  }

  @Test
  void anAttemptIsPresumedOrphanedOnlyOnceItsOwnEndpointsTimeoutHasPassed() throws Exception {
    Instant longAgo = t0.minus(Duration.ofDays(3650));
    // Endpoint A has a 60 s timeout in the index; endpoint B is unknown there (default).
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO endpoints (id, tenant_id, event_types, enabled, deleted, version, config, created_at)"
            + " VALUES (?, ?, '{}', true, false, 1, '{\"timeout_ms\": 60000}'::jsonb, now())")) {
      st.setObject(1, UUID.fromString(endpointA));
      st.setObject(2, UUID.fromString(tenant));
      st.executeUpdate();
    }
    apply(received(longAgo, endpointA));
    apply(new EventJournal.DispatchStarted(endpointA, 1, "first attempt", longAgo));

    Duration defaultTimeout = Duration.ofSeconds(5);
    assertFalse(toWake(longAgo, longAgo.plusSeconds(30), defaultTimeout).contains(eventId),
        "30 s after it started, a 60 s attempt is still within its time");
    assertTrue(toWake(longAgo, longAgo.plusSeconds(61), defaultTimeout).contains(eventId),
        "past its own deadline, it is woken");

    // An endpoint the index does not know falls back to the default timeout.
    String other = UUID.randomUUID().toString();
    String otherEvent = UUID.randomUUID().toString();
    applyTo(otherEvent, received(longAgo, other));
    applyTo(otherEvent, new EventJournal.DispatchStarted(other, 1, "first attempt", longAgo));
    assertFalse(toWake(longAgo, longAgo.plusSeconds(4), defaultTimeout).contains(otherEvent));
    assertTrue(toWake(longAgo, longAgo.plusSeconds(6), defaultTimeout).contains(otherEvent));
  }

  // ---- helpers ----

  private EventJournal.Received received(Instant at, String... endpoints) {
    return new EventJournal.Received(
        eventId, tenant, "order.paid", "{\"n\":1}", "key-" + eventId, "hash", "request-1", List.of(endpoints), at);
  }

  private static Attempt attempt(int number, Instant startedAt, Integer status, long latencyMs, String error) {
    return new Attempt(number, startedAt, status, latencyMs, error, status == null ? null : "answer " + status);
  }

  /** One projection transaction, as ReadModelSession runs it. */
  private void apply(EventJournal event) throws SQLException {
    applyTo(eventId, event);
  }

  private void applyTo(String id, EventJournal event) throws SQLException {
    c.setAutoCommit(false);
    try {
      EventProjection.apply(c, id, event);
      c.commit();
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }

  /** A history with both endpoints: a retry, a deferral, a delivery, a dead letter, a replay. */
  private List<EventJournal> fullHistory() {
    Instant t = t0;
    return List.of(
        received(t, endpointA, endpointB),
        new EventJournal.DispatchStarted(endpointA, 1, "first attempt", t),
        new EventJournal.DispatchStarted(endpointB, 1, "first attempt", t),
        new EventJournal.RetryScheduled(
            endpointA, attempt(1, t, 503, 9, "HTTP 503"), t.plusSeconds(5), "retryable failure", t.plusMillis(9)),
        new EventJournal.DeadLettered(
            endpointB, attempt(1, t, 422, 4, "HTTP 422"), "permanent failure (HTTP 422)", t.plusMillis(4)),
        new EventJournal.DispatchStarted(endpointA, 2, "retry due", t.plusSeconds(5)),
        new EventJournal.AttemptDeferred(endpointA, 2, t.plusSeconds(35), "circuit open", t.plusSeconds(5)),
        new EventJournal.DispatchStarted(endpointA, 2, "retry due", t.plusSeconds(35)),
        new EventJournal.Delivered(endpointA, attempt(2, t.plusSeconds(35), 200, 8, null), "HTTP 200", t.plusSeconds(36)),
        new EventJournal.Replayed(endpointB, 2, "tenant:" + tenant, "operator replay", t.plusSeconds(60)),
        new EventJournal.DeadLettered(
            endpointB, attempt(2, t.plusSeconds(60), 422, 4, "HTTP 422"), "permanent failure (HTTP 422)",
            t.plusSeconds(61)));
  }

  private void assertEventStatusFollowsDeliveries(DeliveryStatus expected) throws SQLException {
    List<DeliveryStatus> deliveries = new ArrayList<>();
    for (Map<String, Object> d : rows("SELECT status FROM deliveries WHERE event_id = ?", UUID.fromString(eventId))) {
      deliveries.add(DeliveryStatus.valueOf((String) d.get("status")));
    }
    assertEquals(expected, DeliveryStatus.ofEvent(deliveries), "the deliveries say " + deliveries);
    assertEquals(expected.name(), eventRow().get("status"), "deliveries " + deliveries);
  }

  private List<String> deadLetters(Instant since, Instant until) throws Exception {
    return queries.deadLetters(tenant, endpointA, since, until, null, 100).toCompletableFuture().get(10, TimeUnit.SECONDS)
        .stream().map(ReadModelQueries.DeadLetter::eventId).toList();
  }

  /** With endpoints the index does not know and a default timeout of 0: started before. */
  private List<String> toWake(Instant retryDueBefore, Instant startedBefore) throws Exception {
    return toWake(retryDueBefore, startedBefore, Duration.ZERO);
  }

  private List<String> toWake(Instant retryDueBefore, Instant marginAgo, Duration defaultTimeout) throws Exception {
    // The shared database holds other tests' rows; a limit this large reaches ours.
    return queries.toWake(retryDueBefore, marginAgo, defaultTimeout, 100_000).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private Map<String, Object> eventRow() throws SQLException {
    List<Map<String, Object>> rows = rows("SELECT * FROM events WHERE event_id = ?", UUID.fromString(eventId));
    assertEquals(1, rows.size());
    return rows.get(0);
  }

  private Map<String, Object> deliveryRow(String endpointId) throws SQLException {
    List<Map<String, Object>> rows = rows(
        "SELECT * FROM deliveries WHERE event_id = ? AND endpoint_id = ?",
        UUID.fromString(eventId), UUID.fromString(endpointId));
    assertEquals(1, rows.size());
    return rows.get(0);
  }

  private List<Map<String, Object>> attemptRows(String endpointId) throws SQLException {
    return rows(
        "SELECT * FROM attempts WHERE event_id = ? AND endpoint_id = ? ORDER BY number",
        UUID.fromString(eventId), UUID.fromString(endpointId));
  }

  /** Every read-model row of this event, as text. */
  private String snapshot() throws SQLException {
    UUID id = UUID.fromString(eventId);
    return rows("SELECT * FROM events WHERE event_id = ?", id)
        + "\n" + rows("SELECT * FROM deliveries WHERE event_id = ? ORDER BY endpoint_id", id)
        + "\n" + rows("SELECT * FROM attempts WHERE event_id = ? ORDER BY endpoint_id, number", id);
  }

  private List<Map<String, Object>> rows(String sql, Object... params) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) st.setObject(i + 1, params[i]);
      try (ResultSet rs = st.executeQuery()) {
        ResultSetMetaData md = rs.getMetaData();
        List<Map<String, Object>> out = new ArrayList<>();
        while (rs.next()) {
          Map<String, Object> row = new LinkedHashMap<>();
          for (int i = 1; i <= md.getColumnCount(); i++) row.put(md.getColumnName(i), rs.getObject(i));
          out.add(row);
        }
        return out;
      }
    }
  }

  private static Instant instant(Object timestamp) {
    return ((Timestamp) timestamp).toInstant();
  }
}
