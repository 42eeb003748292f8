package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.event.EventEntity;
import io.zyven.app.testing.ApiClient;
import io.zyven.app.testing.ApiClient.Response;
import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.Receiver;
import io.zyven.app.testing.Receiver.Answer;
import io.zyven.app.testing.TestNode;
import io.zyven.app.testing.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.Sequence;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Retention against a real node and its own PostgreSQL (the sweep would otherwise remove
 * other tests' events): finished events past the period leave every table and every API,
 * open ones stay, a tenant's own period wins, an expired key makes a new event, the sweep
 * shows in /metrics, and the journal's readers carry on after it.
 */
class RetentionApiTest {
  private static final Duration PERIOD = Duration.ofSeconds(3);
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static final Map<String, Object> CONFIG = Map.of(
      "zyven.retention.period", PERIOD.toMillis() + "ms",
      "zyven.retention.interval", "300ms",
      "zyven.delivery.retry-schedule", List.of("10m"),
      "zyven.delivery.jitter", 0.0);

  private static TestPostgres pg;
  private static TestNode node;
  private static ApiClient api;
  private Receiver receiver;
  private Tenant tenant;

  @BeforeAll
  static void startNode() throws Exception {
    pg = TestPostgres.startPrivate();
    node = TestNode.start(pg, CONFIG);
    api = node.api;
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (node != null) node.close();
    pg.stop();
  }

  @BeforeEach
  void receiverAndTenant() throws Exception {
    receiver = new Receiver();
    receiver.on("/down", n -> Answer.status(503));
    receiver.on("/gone", n -> Answer.status(410));
    tenant = api.createTenant("retention-" + UUID.randomUUID());
  }

  @AfterEach
  void stopReceiver() {
    receiver.close();
  }

  @Test
  void finishedEventsPastThePeriodLeaveEveryTableAndEveryApiWhileAnOpenOneStays() {
    String ok = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
    String down = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/down") + "\"}");
    String gone = api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/gone") + "\"}");
    String delivered = ingest("delivered", ok);
    String deadLettered = ingest("dead-lettered", gone);
    String open = ingest("open", down);
    Await.until("one delivered, one dead-lettered, one waiting for its retry", PATIENCE,
        () -> api.listIds(tenant.apiKey(), "DELIVERED").contains(delivered)
            && api.listIds(tenant.apiKey(), "DEAD_LETTERED").contains(deadLettered)
            && api.listIds(tenant.apiKey(), "RETRY_SCHEDULED").contains(open));
    List<Long> orderings = new ArrayList<>();
    for (String id : List.of(delivered, deadLettered)) orderings.addAll(orderings(id));
    assertFalse(orderings.isEmpty());

    Await.until("the finished events removed", PATIENCE, () -> rowsOf(delivered) == 0 && rowsOf(deadLettered) == 0);

    for (String id : List.of(delivered, deadLettered)) {
      assertEquals(0, pg.journalRows(id));
      assertEquals(0, pg.count("SELECT count(*) FROM snapshot WHERE persistence_id = ?", "Event|" + id));
      assertProblem(api.get("/v1/events/" + id, tenant.apiKey()), 404);
      assertProblem(api.get("/v1/events/" + id + "/attempts", tenant.apiKey()), 404);
      assertProblem(api.get("/v1/events/" + id + "/audit", tenant.apiKey()), 404);
      assertProblem(api.postJson("/v1/events/" + id + "/replay", tenant.apiKey(), ""), 404);
    }
    for (long ordering : orderings) assertEquals(0, pg.count("SELECT count(*) FROM event_tag WHERE event_id = ?", ordering));
    assertFalse(api.get("/v1/events", tenant.apiKey()).body().contains(delivered));

    // The open event is older than the period by now, and more sweeps have run since.
    Instant removedBy = Instant.now();
    Await.until("two more sweeps", PATIENCE, () -> lastRunAt().isAfter(removedBy.plus(PERIOD)));
    assertTrue(pg.journalRows(open) > 0, "an event with a delivery under way stays, however old");
    assertEquals(200, api.get("/v1/events/" + open, tenant.apiKey()).status());
    assertTrue(api.listIds(tenant.apiKey(), "RETRY_SCHEDULED").contains(open));
    assertTrue(pg.count("SELECT count(*) FROM attempts WHERE event_id = ?::uuid", open) > 0);
  }

  @Test
  void aKeyWhoseEventWasRemovedMakesANewEvent() {
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
    Response first = api.ingest(tenant.apiKey(), "reused", "{\"type\":\"user.created\",\"payload\":{\"n\":1}}");
    assertEquals(202, first.status(), first.body());
    String id = first.json().get("event_id").asText();
    // While the event is kept, the key answers with it, and another body conflicts.
    assertEquals(200, api.ingest(tenant.apiKey(), "reused", "{\"type\":\"user.created\",\"payload\":{\"n\":1}}").status());
    assertEquals(409, api.ingest(tenant.apiKey(), "reused", "{\"type\":\"user.created\",\"payload\":{\"n\":2}}").status());
    Await.until("removed", PATIENCE, () -> pg.journalRows(id) == 0 && rowsOf(id) == 0);

    Response again = api.ingest(tenant.apiKey(), "reused", "{\"type\":\"user.created\",\"payload\":{\"n\":2}}");

    assertEquals(202, again.status(), again.body());
    assertFalse(again.header("Idempotent-Replayed").isPresent(), "a new event, not the old one replayed");
    JsonNode event = api.get("/v1/events/" + again.json().get("event_id").asText(), tenant.apiKey()).json();
    assertEquals(2, event.get("payload").get("n").asInt());
    Await.until("the new event delivered", PATIENCE, () -> receiver.requests("/ok").size() == 2);
  }

  @Test
  void aTenantsOwnRetentionPeriodOutlastsTheDefault() {
    Tenant keeper = api.createTenant("keeper-" + UUID.randomUUID());
    Response set = api.patchJson("/v1/tenants/" + keeper.id(), TestNode.ADMIN_KEY, "{\"retention_period_days\":7}");
    assertEquals(200, set.status(), set.body());
    assertEquals(7, set.json().get("retention_period_days").asInt());
    assertEquals(7, api.get("/v1/tenants/" + keeper.id(), TestNode.ADMIN_KEY).json().get("retention_period_days").asInt());
    api.createEndpoint(keeper.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
    String kept = ingest(keeper, "kept", null);
    String removed = ingest(tenant, "removed", null);
    Await.until("both delivered", PATIENCE, () -> receiver.requests("/ok").size() == 2);

    Await.until("the default tenant's event removed", PATIENCE, () -> pg.journalRows(removed) == 0);
    Instant after = Instant.now();
    Await.until("a later sweep", PATIENCE, () -> lastRunAt().isAfter(after.plus(PERIOD)));

    assertTrue(pg.journalRows(kept) > 0);
    assertEquals(200, api.get("/v1/events/" + kept, keeper.apiKey()).status());

    // Back to the default: the next sweeps remove it.
    Response reset = api.patchJson("/v1/tenants/" + keeper.id(), TestNode.ADMIN_KEY, "{\"retention_period_days\":null}");
    assertEquals(200, reset.status(), reset.body());
    assertTrue(reset.json().get("retention_period_days").isNull());
    Await.until("removed under the default", PATIENCE, () -> pg.journalRows(kept) == 0);
  }

  @Test
  void aBadRetentionSettingIsRefusedAndChangesNothing() {
    api.patchJson("/v1/tenants/" + tenant.id(), TestNode.ADMIN_KEY, "{\"retention_period_days\":5}");
    for (String body : List.of(
        "{\"retention_period_days\":0}", "{\"retention_period_days\":-1}", "{\"retention_period_days\":36501}",
        "{\"retention_period_days\":1.5}", "{\"retention_period_days\":\"7\"}", "{}", "{\"name\":\"x\"}", "[]")) {
      assertProblem(api.patchJson("/v1/tenants/" + tenant.id(), TestNode.ADMIN_KEY, body), 400);
    }
    assertProblem(api.patchJson("/v1/tenants/" + UUID.randomUUID(), TestNode.ADMIN_KEY, "{\"retention_period_days\":5}"), 404);
    assertProblem(api.patchJson("/v1/tenants/not-an-id", TestNode.ADMIN_KEY, "{\"retention_period_days\":5}"), 400);
    assertProblem(api.patchJson("/v1/tenants/" + tenant.id(), tenant.apiKey(), "{\"retention_period_days\":5}"), 401);
    assertEquals(5, api.get("/v1/tenants/" + tenant.id(), TestNode.ADMIN_KEY).json().get("retention_period_days").asInt());
  }

  @Test
  void theSweepShowsInMetrics() {
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
    String id = ingest(tenant, "measured", null);
    long removedBefore = metric("zyven_retention_events_removed_total");
    Await.until("removed", PATIENCE, () -> pg.journalRows(id) == 0 && rowsOf(id) == 0);
    Instant after = Instant.now();
    Await.until("a later sweep", PATIENCE, () -> lastRunAt().isAfter(after));

    assertTrue(metric("zyven_retention_events_removed_total") > removedBefore);
    assertTrue(metric("zyven_retention_rows_removed_total") > 0);
    // The sweep's gauges come from the read model, refreshed every few seconds: the run
    // shows once a refresh has passed it.
    long sweptAt = after.getEpochSecond();
    Await.until("the later sweep in /metrics", PATIENCE, () -> {
      String v = value(api.get("/metrics", null).body(), "zyven_retention_last_run_timestamp_seconds");
      return v != null && (long) Double.parseDouble(v) >= sweptAt;
    });
    String text = api.get("/metrics", null).body();
    assertTrue(text.contains("# TYPE zyven_retention_oldest_event_age_seconds gauge"), text);
    long lastRun = (long) Double.parseDouble(value(text, "zyven_retention_last_run_timestamp_seconds"));
    assertTrue(Math.abs(lastRun - Instant.now().getEpochSecond()) < 30, text);
  }

  @Test
  void theJournalsReadersCarryOnAfterASweep() throws Exception {
    api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/ok") + "\"}");
    List<String> before = new ArrayList<>();
    for (int i = 0; i < 10; i++) before.add(ingest(tenant, "before-" + i, null));
    Await.until("all removed", PATIENCE, () -> before.stream().allMatch(id -> pg.journalRows(id) == 0 && rowsOf(id) == 0));

    List<String> after = new ArrayList<>();
    for (int i = 0; i < 10; i++) after.add(ingest(tenant, "after-" + i, null));

    // The projection goes on past the gap: every new event reaches the read model.
    Await.until("the new events projected", PATIENCE,
        () -> api.listIds(tenant.apiKey(), "DELIVERED").containsAll(after));
    // eventsByTag from the start: no removed event, no error, each tag in order.
    JdbcReadJournal journal =
        PersistenceQuery.get(node.zyven().system()).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    Set<String> removedIds = Set.copyOf(before);
    int seenAfter = 0;
    for (String tag : EventEntity.TAGS) {
      List<org.apache.pekko.persistence.query.EventEnvelope> envelopes =
          journal.currentEventsByTag(tag, Offset.noOffset())
              .runWith(Sink.seq(), node.zyven().system())
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      long last = -1;
      for (var e : envelopes) {
        String id = e.persistenceId().substring("Event|".length());
        assertFalse(removedIds.contains(id), "a removed event is not read again");
        long offset = ((Sequence) e.offset()).value();
        assertTrue(offset > last, "in order");
        last = offset;
        if (after.contains(id) && e.sequenceNr() == 1) seenAfter++;
      }
    }
    assertEquals(after.size(), seenAfter, "every new event is in its tag's stream");
  }

  // ---- helpers ----

  private String ingest(String key, String endpointId) {
    String body = "{\"type\":\"user.created\",\"payload\":{\"key\":\"" + key + "\"}"
        + (endpointId == null ? "" : ",\"endpoint_id\":\"" + endpointId + "\"") + "}";
    Response r = api.ingest(tenant.apiKey(), key, body);
    assertEquals(202, r.status(), r.body());
    return r.json().get("event_id").asText();
  }

  private String ingest(Tenant t, String key, String endpointId) {
    Tenant saved = tenant;
    tenant = t;
    try {
      return ingest(key, endpointId);
    } finally {
      tenant = saved;
    }
  }

  /** Read-model rows of an event: events, deliveries and attempts. */
  private static long rowsOf(String id) {
    return pg.count("SELECT (SELECT count(*) FROM events WHERE event_id = ?::uuid)"
        + " + (SELECT count(*) FROM deliveries WHERE event_id = ?::uuid)"
        + " + (SELECT count(*) FROM attempts WHERE event_id = ?::uuid)", id, id, id);
  }

  private static List<Long> orderings(String id) {
    List<Long> found = new ArrayList<>();
    long n = pg.count("SELECT count(*) FROM event_journal WHERE persistence_id = ?", "Event|" + id);
    for (long i = 1; i <= n; i++) {
      found.add(pg.count("SELECT ordering FROM event_journal WHERE persistence_id = ? AND sequence_number = ?", "Event|" + id, i));
    }
    return found;
  }

  private static Instant lastRunAt() {
    String at = pg.queryString("SELECT to_char(last_run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM retention_sweep");
    return at == null ? Instant.EPOCH : Instant.parse(at);
  }

  private static long metric(String name) {
    String v = value(api.get("/metrics", null).body(), name);
    return v == null ? 0 : (long) Double.parseDouble(v);
  }

  private static String value(String text, String name) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(text);
    return m.find() ? m.group(1) : null;
  }
}
