package io.zyven.app.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.zyven.app.delivery.DeliveryMachine.Delivery;
import io.zyven.app.delivery.DeliveryPolicy;
import io.zyven.app.delivery.DeliveryRequest;
import io.zyven.app.delivery.Dispatch;
import io.zyven.app.delivery.DispatchReply;
import io.zyven.app.event.EventEntity.Accept;
import io.zyven.app.event.EventEntity.AcceptReply;
import io.zyven.app.event.EventEntity.Command;
import io.zyven.app.event.EventEntity.Get;
import io.zyven.app.event.EventEntity.GetReply;
import io.zyven.app.event.EventEntity.Replay;
import io.zyven.app.event.EventEntity.DeliveriesStarted;
import io.zyven.app.event.EventEntity.State;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.DeliveryStatus;
import io.zyven.protocol.EventJournal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.ProcessingPolicy;
import org.apache.pekko.persistence.testkit.ProcessingResult;
import org.apache.pekko.persistence.testkit.ProcessingSuccess$;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The event entity through Pekko's {@link EventSourcedBehaviorTestKit}. The endpoints are
 * test probes: the entity's {@link Dispatch} messages arrive there, and the test answers
 * them through the dispatch's {@code replyTo} (the entity's message adapter), as an
 * endpoint entity would. The testkit checks on every command that the command, its reply,
 * the events and the state serialize (Jackson CBOR, bound as in serialization.conf).
 */
class EventEntityTest {

  private static final ActorTestKit testKit =
      ActorTestKit.create(
          EventSourcedBehaviorTestKit.config()
              .withFallback(
                  ConfigFactory.parseString(
                      "pekko.actor.serialization-bindings {"
                          + " \"io.zyven.protocol.CborSerializable\" = jackson-cbor }")));

  private static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");

  private static final String TENANT = "tenant-a";
  private static final String OTHER_TENANT = "tenant-b";
  private static final String TYPE = "order.created";
  private static final String PAYLOAD = "{\"order\":42}";
  private static final String KEY = "idem-1";
  private static final String BODY_HASH = "sha256:aaaa";
  private static final String OPERATOR = "ops@tenant-a";

  // Deliberately not sorted, so that keeping the caller's order is visible.
  private static final String EP_1 = "ep-b";
  private static final String EP_2 = "ep-a";

  private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
  private static final DeliveryPolicy POLICY =
      new DeliveryPolicy(List.of(FIRST_BACKOFF, Duration.ofMillis(200)), 0.0, Duration.ofHours(1));
  private static final Duration HANDOFF_WAIT = Duration.ofSeconds(3);
  private static final EventEntity.Settings SETTINGS =
      new EventEntity.Settings(POLICY, Duration.ofSeconds(10), Duration.ofSeconds(5), 3, Duration.ofMinutes(1), HANDOFF_WAIT);

  /** Time stands still unless a test moves it (Clock.fixed, but settable). */
  private static final class TestClock extends Clock {
    private volatile Instant now = NOW;

    void set(Instant instant) {
      now = instant;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private String eventId;
  private TestClock clock;
  private TestProbe<ClusterSharding.ShardCommand> shardProbe;
  private Map<String, TestProbe<Dispatch>> endpointProbes;
  private EventSourcedBehaviorTestKit<Command, EventJournal, State> entity;
  /** Set when {@link #startAgain} could not hold a recovery until its first command was sent. */
  private final AtomicBoolean recoveryNotHeld = new AtomicBoolean();
  /** Every journal write of this test's entity, as its batch of events. */
  private final List<List<Object>> writes = new CopyOnWriteArrayList<>();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void freshEntity() {
    clock = new TestClock();
    shardProbe = testKit.createTestProbe(ClusterSharding.ShardCommand.class);
    endpointProbes =
        Map.of(
            EP_1, testKit.createTestProbe(Dispatch.class),
            EP_2, testKit.createTestProbe(Dispatch.class));
    startEntity(SETTINGS);
  }

  @AfterEach
  void resetJournalPolicy() {
    entity.persistenceTestKit().resetPolicy();
    assertFalse(
        recoveryNotHeld.get(),
        "recovery was not held until the first command was in the mailbox: the test ran another interleaving");
  }

  /** A new entity (new event id) with these settings. */
  private void startEntity(EventEntity.Settings settings) {
    eventId = "evt-" + UUID.randomUUID();
    entity =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            EventEntity.create(
                eventId, shardProbe.ref(), (id, d) -> endpointProbes.get(id).ref().tell(d), settings, clock));
    writes.clear();
    String pid = persistenceId();
    entity
        .persistenceTestKit()
        .withPolicy(
            new ProcessingPolicy<JournalOperation>() {
              @Override
              public ProcessingResult tryProcess(String persistenceId, JournalOperation op) {
                if (persistenceId.equals(pid) && op instanceof WriteEvents w) {
                  writes.add(List.copyOf(w.getBatch()));
                }
                return ProcessingSuccess$.MODULE$;
              }
            });
  }

  // ---- accept ----

  @Test
  void acceptPersistsOneReceivedThatStartsTheFirstAttempts() {
    var result = accept(BODY_HASH, List.of(EP_1, EP_2), "request-1");

    assertEquals(new EventEntity.Accepted(eventId, false), result.reply());
    List<EventJournal> expected =
        List.of(
            new EventJournal.Received(
                eventId, TENANT, TYPE, PAYLOAD, KEY, BODY_HASH, "request-1", List.of(EP_1, EP_2), NOW, true));
    assertEquals(expected, result.events());
    // One record, one journal write: the acceptance and the first attempts.
    assertEquals(List.of(List.<Object>copyOf(expected)), writes);

    State state = result.state();
    assertEquals(List.of(EP_1, EP_2), List.copyOf(state.deliveries().keySet()));
    assertEquals(dispatching(EP_1, 1), state.deliveries().get(EP_1));
    assertEquals(dispatching(EP_2, 1), state.deliveries().get(EP_2));
    assertEquals(DeliveryStatus.DISPATCHING, state.status());
  }

  /** Journals written before the first attempt moved into Received recover as they did. */
  @Test
  void anOlderJournalWithItsFirstAttemptsApartRecoversTheSame() {
    String id = "evt-" + UUID.randomUUID();
    ActorRef<Command> ref =
        startAgain(
            id,
            List.of(
                received(id, List.of(EP_1, EP_2)),
                new EventJournal.DispatchStarted(EP_1, 1, "first attempt", NOW),
                new EventJournal.DispatchStarted(EP_2, 1, "first attempt", NOW)),
            EventEntity.Wake.INSTANCE);
    try {
      // Resumed: both attempts left DISPATCHING are sent again, as attempt 1.
      assertEquals(new DeliveryRequest(id, TYPE, PAYLOAD, 1), expectDispatch(EP_1).request());
      assertEquals(new DeliveryRequest(id, TYPE, PAYLOAD, 1), expectDispatch(EP_2).request());
    } finally {
      testKit.stop(ref);
    }
  }

  @Test
  void acceptSendsOneDispatchPerEndpointForAttemptOne() {
    accept(BODY_HASH, List.of(EP_1, EP_2));

    for (String ep : List.of(EP_1, EP_2)) {
      Dispatch d = expectDispatch(ep);
      assertEquals(new DeliveryRequest(eventId, TYPE, PAYLOAD, 1), d.request());
      assertNotNull(d.replyTo());
      endpointProbes.get(ep).expectNoMessage(Duration.ofMillis(100));
    }
    shardProbe.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void acceptFansOutToEachEndpointOnce() {
    var result = accept(BODY_HASH, List.of(EP_1, EP_1));

    assertEquals(List.of(EP_1), ((EventJournal.Received) result.events().get(0)).endpointIds());
    assertEquals(1, result.events().size());
    assertEquals(List.of(EP_1), List.copyOf(result.state().deliveries().keySet()));
    expectDispatch(EP_1, 1);
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void acceptAgainWithTheSameBodyIsAReplayAndPersistsAndSendsNothing() {
    State before = accept(BODY_HASH, List.of(EP_1)).state();
    expectDispatch(EP_1, 1);

    var again = accept(BODY_HASH, List.of(EP_1));

    assertEquals(new EventEntity.Accepted(eventId, true), again.reply());
    assertTrue(again.hasNoEvents(), () -> "persisted " + again.events());
    assertEquals(before, again.state());
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(200));
    assertEquals(1, writes.size());
  }

  /** Ingest sends a request again when its answer is slow (a shard hand-off drops it). */
  @Test
  void theSameRequestSentAgainIsAnsweredAsTheFirstAndPersistsNothing() {
    accept(BODY_HASH, List.of(EP_1), "request-1");
    expectDispatch(EP_1, 1);

    var resent = accept(BODY_HASH, List.of(EP_1), "request-1");
    var otherRequest = accept(BODY_HASH, List.of(EP_1), "request-2");

    assertEquals(new EventEntity.Accepted(eventId, false), resent.reply());
    assertEquals(new EventEntity.Accepted(eventId, true), otherRequest.reply());
    assertEquals(1, writes.size());
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void acceptAgainWithADifferentBodyIsAConflictAndChangesNothing() {
    State before = accept(BODY_HASH, List.of(EP_1)).state();
    expectDispatch(EP_1, 1);

    var again = accept("sha256:bbbb", List.of(EP_1));

    assertEquals(new EventEntity.Conflict(eventId), again.reply());
    assertTrue(again.hasNoEvents());
    assertEquals(before, again.state());
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void acceptWithoutEndpointsRepliesNoSubscribersPersistsNothingAndPassivates() {
    var result = accept(BODY_HASH, List.of());

    assertEquals(new EventEntity.NoSubscribers(eventId), result.reply());
    assertTrue(result.hasNoEvents());
    assertNull(result.state().received());
    expectPassivate();
    assertEquals(List.of(), writes);
    endpointProbes.values().forEach(p -> p.expectNoMessage(Duration.ofMillis(50)));
  }

  // ---- get ----

  @Test
  void getForTheOwnerIsFoundWithTheState() {
    State state = accept(BODY_HASH, List.of(EP_1, EP_2)).state();

    var result = get(TENANT);

    assertEquals(new EventEntity.Found(state), result.reply());
    assertTrue(result.hasNoEvents());
  }

  @Test
  void getForAnotherTenantIsNotFound() {
    accept(BODY_HASH, List.of(EP_1));

    assertEquals(new EventEntity.NotFound(), get(OTHER_TENANT).reply());
  }

  @Test
  void getOnAnEmptyEntityIsNotFoundAndPassivates() {
    assertEquals(new EventEntity.NotFound(), get(TENANT).reply());
    expectPassivate();
  }

  // ---- outcomes ----

  @Test
  void successIsDelivered() {
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);
    int mark = mark();

    State state = answer(d, outcome(EP_1, ok(1), null, 3));

    assertEquals(
        List.of(new EventJournal.Delivered(EP_1, ok(1), "HTTP 200", NOW)), persistedSince(mark, 1));
    assertEquals(
        new Delivery(EP_1, DeliveryStatus.DELIVERED, 1, 0, null, null, List.of(ok(1))),
        state.deliveries().get(EP_1));
    assertEquals(DeliveryStatus.DELIVERED, state.status());
    expectPassivate();
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void passivatesOnlyWhenEveryDeliveryIsTerminal() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    Dispatch d1 = expectDispatch(EP_1, 1);
    Dispatch d2 = expectDispatch(EP_2, 1);

    answer(d1, outcome(EP_1, ok(1), null, 3));
    shardProbe.expectNoMessage(Duration.ofMillis(200));

    State state = answer(d2, outcome(EP_2, http(1, 400), null, 3));
    expectPassivate();
    assertEquals(DeliveryStatus.DEAD_LETTERED, state.status());
  }

  @Test
  void retryableFailureSchedulesARetryAfterTheFirstBackoff() {
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);
    int mark = mark();

    State state = answer(d, outcome(EP_1, http(1, 503), null, 3));

    Instant next = NOW.plus(FIRST_BACKOFF);
    assertEquals(
        List.of(new EventJournal.RetryScheduled(EP_1, http(1, 503), next, "retryable failure", NOW)),
        persistedSince(mark, 1));
    assertEquals(
        new Delivery(EP_1, DeliveryStatus.RETRY_SCHEDULED, 1, 0, next, "HTTP 503", List.of(http(1, 503))),
        state.deliveries().get(EP_1));
    assertEquals(DeliveryStatus.RETRY_SCHEDULED, state.status());
    shardProbe.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void anEventWhoseOnlyRetryIsDistantLeavesMemoryAtOnce() {
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);

    // Retry-After 90 s: further away than passivate-before-retry (1 min).
    answer(d, outcome(EP_1, http(1, 429), Duration.ofSeconds(90), 3));

    expectPassivate();
  }

  @Test
  void whenTheRetryIsDueTheNextAttemptStartsAndIsDispatched() {
    accept(BODY_HASH, List.of(EP_1));
    Dispatch first = expectDispatch(EP_1, 1);
    answer(first, outcome(EP_1, http(1, 503), null, 3));
    int mark = mark();

    Dispatch second = expectDispatch(EP_1, 2);

    assertEquals(
        List.of(new EventJournal.DispatchStarted(EP_1, 2, "retry due", NOW)), persistedSince(mark, 1));
    assertEquals(first.replyTo(), second.replyTo());
    Delivery d = entity.getState().deliveries().get(EP_1);
    assertEquals(DeliveryStatus.DISPATCHING, d.status());
    assertEquals(2, d.attemptCount());
    assertNull(d.nextAttemptAt());
    assertEquals(List.of(http(1, 503)), d.attempts());
  }

  @Test
  void retryAfterOfTheReceiverIsHonoured() {
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);

    State state = answer(d, outcome(EP_1, http(1, 429), Duration.ofSeconds(90), 3));

    Delivery delivery = state.deliveries().get(EP_1);
    assertEquals(DeliveryStatus.RETRY_SCHEDULED, delivery.status());
    assertEquals(NOW.plusSeconds(90), delivery.nextAttemptAt());
    // Not the 100 ms backoff: nothing is sent again soon.
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(400));
  }

  @Test
  void theRetryBudgetIsCapped() {
    accept(BODY_HASH, List.of(EP_1));
    answer(expectDispatch(EP_1, 1), outcome(EP_1, http(1, 503), null, 2));
    Dispatch second = expectDispatch(EP_1, 2);
    int mark = mark();

    State state = answer(second, outcome(EP_1, http(2, 503), null, 2));

    assertEquals(
        List.of(new EventJournal.DeadLettered(EP_1, http(2, 503), "gave up after 2 attempts", NOW)),
        persistedSince(mark, 1));
    Delivery d = state.deliveries().get(EP_1);
    assertEquals(DeliveryStatus.DEAD_LETTERED, d.status());
    assertEquals(2, d.attemptCount());
    assertEquals(List.of(http(1, 503), http(2, 503)), d.attempts());
    assertEquals(DeliveryStatus.DEAD_LETTERED, state.status());
    expectPassivate();
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void theSecondRetryWaitsTheSecondBackoff() {
    accept(BODY_HASH, List.of(EP_1));
    answer(expectDispatch(EP_1, 1), outcome(EP_1, http(1, 500), null, 5));
    Dispatch second = expectDispatch(EP_1, 2);

    State state = answer(second, outcome(EP_1, http(2, 500), null, 5));

    assertEquals(NOW.plusMillis(200), state.deliveries().get(EP_1).nextAttemptAt());
    expectDispatch(EP_1, 3);
  }

  @Test
  void permanentFailureIsDeadLetteredAtOnce() {
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);
    int mark = mark();

    State state = answer(d, outcome(EP_1, http(1, 400), null, 3));

    assertEquals(
        List.of(new EventJournal.DeadLettered(EP_1, http(1, 400), "permanent failure (HTTP 400)", NOW)),
        persistedSince(mark, 1));
    assertEquals(
        new Delivery(EP_1, DeliveryStatus.DEAD_LETTERED, 1, 0, null, "HTTP 400", List.of(http(1, 400))),
        state.deliveries().get(EP_1));
    expectPassivate();
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void goneIsDeadLetteredAtOnce() {
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);
    int mark = mark();

    State state = answer(d, outcome(EP_1, http(1, 410), null, 3));

    assertEquals(
        List.of(
            new EventJournal.DeadLettered(
                EP_1, http(1, 410), "410 Gone: the endpoint is disabled", NOW)),
        persistedSince(mark, 1));
    assertEquals(DeliveryStatus.DEAD_LETTERED, state.deliveries().get(EP_1).status());
    expectPassivate();
  }

  // ---- deferrals ----

  @Test
  void aDeferredAttemptIsGivenBackAndRetriedAsTheSameNumber() {
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);
    int mark = mark();
    Instant until = NOW.plusMillis(150);

    State state = answer(d, new DispatchReply.Deferred(EP_1, 1, until, "circuit open"));

    assertEquals(
        List.of(new EventJournal.AttemptDeferred(EP_1, 1, until, "circuit open", NOW)),
        persistedSince(mark, 1));
    assertEquals(
        new Delivery(EP_1, DeliveryStatus.RETRY_SCHEDULED, 0, 0, until, "circuit open", List.of()),
        state.deliveries().get(EP_1));
    assertEquals(DeliveryStatus.RETRY_SCHEDULED, state.status());

    // Back at `until`, as attempt 1 again.
    Dispatch again = expectDispatch(EP_1, 1);
    assertEquals(
        new EventJournal.DispatchStarted(EP_1, 1, "retry due", NOW), persistedSince(mark, 2).get(1));
    assertEquals(1, entity.getState().deliveries().get(EP_1).attemptCount());

    // The deferral spent nothing: this is attempt 1 of the budget, so with max_attempts 1
    // its failure dead-letters "after 1 attempts".
    State after = answer(again, outcome(EP_1, http(1, 503), null, 1));
    EventJournal last = (EventJournal) persistedSince(mark, 3).get(2);
    assertEquals(new EventJournal.DeadLettered(EP_1, http(1, 503), "gave up after 1 attempts", NOW), last);
    assertEquals(List.of(http(1, 503)), after.deliveries().get(EP_1).attempts());
  }

  // ---- stale replies ----

  @Test
  void aReplyForAnotherAttemptNumberChangesNothing() {
    State before = accept(BODY_HASH, List.of(EP_1)).state();
    Dispatch d = expectDispatch(EP_1, 1);
    int mark = mark();

    assertEquals(before, answer(d, outcome(EP_1, ok(2), null, 3)));
    assertEquals(before, answer(d, outcome(EP_1, ok(0), null, 3)));
    assertEquals(before, answer(d, new DispatchReply.Deferred(EP_1, 2, NOW, "circuit open")));
    assertEquals(before, answer(d, new DispatchReply.Started(EP_1, 2, 100, 3)));

    assertEquals(mark, mark());
    shardProbe.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void aReplyForAnUnknownEndpointChangesNothing() {
    State before = accept(BODY_HASH, List.of(EP_1)).state();
    Dispatch d = expectDispatch(EP_1, 1);
    int mark = mark();

    assertEquals(before, answer(d, outcome("ep-unknown", ok(1), null, 3)));
    assertEquals(mark, mark());
  }

  @Test
  void aReplyForADeliveryNoLongerDispatchingChangesNothing() {
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);
    State delivered = answer(d, outcome(EP_1, ok(1), null, 3));
    int mark = mark();

    assertEquals(delivered, answer(d, outcome(EP_1, http(1, 503), null, 3)));
    assertEquals(delivered, answer(d, outcome(EP_1, ok(1), null, 3)));
    assertEquals(delivered, answer(d, new DispatchReply.Deferred(EP_1, 1, NOW, "queue full")));

    assertEquals(mark, mark());
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aLateReplyWhileARetryIsScheduledChangesNothing() {
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);
    State waiting = answer(d, outcome(EP_1, http(1, 429), Duration.ofHours(1), 3));
    int mark = mark();

    assertEquals(waiting, answer(d, outcome(EP_1, ok(1), null, 3)));
    assertEquals(mark, mark());
  }

  // ---- lost replies ----

  @Test
  void noReplyAfterStartedCountsAsARetryableFailure() {
    startEntity(
        new EventEntity.Settings(POLICY, Duration.ofMillis(200), Duration.ofMillis(100), 3, Duration.ofMinutes(1), HANDOFF_WAIT));
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);
    int mark = mark();

    // The endpoint sends it now; its outcome should come within 100 ms (+ 100 ms margin).
    State state = answer(d, new DispatchReply.Started(EP_1, 1, 100, 3));
    assertEquals(DeliveryStatus.DISPATCHING, state.deliveries().get(EP_1).status());

    Attempt lost = new Attempt(1, NOW, null, 0, "no reply from the endpoint in time", null);
    assertEquals(
        List.of(new EventJournal.RetryScheduled(EP_1, lost, NOW.plus(FIRST_BACKOFF), "retryable failure", NOW)),
        persistedSince(mark, 1));
    // And then the retry goes out.
    expectDispatch(EP_1, 2);
    Delivery after = entity.getState().deliveries().get(EP_1);
    assertEquals(List.of(lost), after.attempts());
    assertEquals("no reply from the endpoint in time", after.lastError());
  }

  @Test
  void noAnswerAtAllCountsAsARetryableFailureAfterTheQueueTimeout() {
    startEntity(
        new EventEntity.Settings(POLICY, Duration.ofMillis(200), Duration.ofMillis(100), 3, Duration.ofMinutes(1), HANDOFF_WAIT));
    accept(BODY_HASH, List.of(EP_1));
    expectDispatch(EP_1, 1);
    int mark = mark();

    Attempt lost = new Attempt(1, NOW, null, 0, "no reply from the endpoint in time", null);
    assertEquals(
        List.of(new EventJournal.RetryScheduled(EP_1, lost, NOW.plus(FIRST_BACKOFF), "retryable failure", NOW)),
        persistedSince(mark, 1));
    expectDispatch(EP_1, 2);
  }

  @Test
  void startedExtendsTheWaitToTheAttemptTimeout() {
    startEntity(
        new EventEntity.Settings(POLICY, Duration.ofMillis(200), Duration.ofMillis(100), 3, Duration.ofMinutes(1), HANDOFF_WAIT));
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);
    int mark = mark();

    // Waits 1000 + 100 ms now, not the 300 ms of the queue window.
    answer(d, new DispatchReply.Started(EP_1, 1, 1000, 3));
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(600));
    assertEquals(mark, mark());

    // The outcome arrives in time: no lost-reply failure afterwards.
    State state = answer(d, outcome(EP_1, ok(1), null, 3));
    assertEquals(DeliveryStatus.DELIVERED, state.deliveries().get(EP_1).status());
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(800));
    assertEquals(mark + 1, mark());
  }

  /** A restarted event has seen no outcome yet: the Started reply says the endpoint's budget. */
  @Test
  void aLostOutcomeIsJudgedByTheBudgetTheEndpointSentWithStarted() {
    // Default budget 9, the endpoint's 1: the lost first attempt dead-letters at once.
    startEntity(new EventEntity.Settings(POLICY, Duration.ofMillis(200), Duration.ofMillis(100), 9, Duration.ofMinutes(1), HANDOFF_WAIT));
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);
    int mark = mark();

    answer(d, new DispatchReply.Started(EP_1, 1, 100, 1));

    Attempt lost = new Attempt(1, NOW, null, 0, "no reply from the endpoint in time", null);
    assertEquals(
        List.of(new EventJournal.DeadLettered(EP_1, lost, "gave up after 1 attempts", NOW)),
        persistedSince(mark, 1));
  }

  @Test
  void aLostReplyAtTheEndOfTheBudgetDeadLetters() {
    startEntity(new EventEntity.Settings(POLICY, Duration.ofMillis(100), Duration.ofMillis(50), 2, Duration.ofMinutes(1), HANDOFF_WAIT));
    accept(BODY_HASH, List.of(EP_1));
    expectDispatch(EP_1, 1);
    expectDispatch(EP_1, 2);

    Attempt lost = new Attempt(2, NOW, null, 0, "no reply from the endpoint in time", null);
    List<Object> journal =
        shardProbe.awaitAssert(
            Duration.ofSeconds(3),
            () -> {
              List<Object> all = journal();
              assertEquals(
                  new EventJournal.DeadLettered(EP_1, lost, "gave up after 2 attempts", NOW),
                  all.get(all.size() - 1));
              return all;
            });
    // Received (with attempt 1), RetryScheduled, DispatchStarted (attempt 2), DeadLettered.
    assertEquals(4, journal.size(), () -> "journal: " + journal);
    expectPassivate();
  }

  // ---- retry now ----

  /** Attempt 1 of each endpoint fails with a Retry-After of 30 minutes: a distant retry. */
  private void waitingForADistantRetry(List<String> endpoints, int maxAttempts) {
    accept(BODY_HASH, endpoints);
    for (String ep : endpoints) {
      answer(expectDispatch(ep, 1), outcome(ep, http(1, 503), Duration.ofMinutes(30), maxAttempts));
    }
    assertTrue(entity.getState().deliveries().values().stream()
        .allMatch(d -> d.status() == DeliveryStatus.RETRY_SCHEDULED && d.nextAttemptAt().equals(NOW.plus(Duration.ofMinutes(30)))));
  }

  @Test
  void retryNowStartsTheScheduledAttemptAtOnceWithoutSpendingMoreBudget() {
    waitingForADistantRetry(List.of(EP_1), 2);

    var result = retryNow(TENANT, null);

    assertEquals((new DeliveriesStarted(List.of(EP_1))), result.reply());
    assertEquals(List.of(new EventJournal.RetryRequested(EP_1, 2, OPERATOR, "retry now", NOW)), result.events());
    Delivery d = result.state().deliveries().get(EP_1);
    assertEquals(DeliveryStatus.DISPATCHING, d.status());
    assertEquals(2, d.attemptCount());
    assertEquals(0, d.budgetBase(), "the budget is not renewed");
    // Attempt 2 is the last of a budget of 2, as it would have been on schedule.
    State dead = answer(expectDispatch(EP_1, 2), outcome(EP_1, http(2, 503), null, 2));
    assertEquals(DeliveryStatus.DEAD_LETTERED, dead.deliveries().get(EP_1).status());
    assertEquals("gave up after 2 attempts", ((EventJournal.DeadLettered) last(journal())).reason());
  }

  @Test
  void retryNowOfOneEndpointLeavesTheOthersToTheirSchedule() {
    waitingForADistantRetry(List.of(EP_1, EP_2), 3);

    var result = retryNow(TENANT, EP_2);

    assertEquals((new DeliveriesStarted(List.of(EP_2))), result.reply());
    assertEquals(List.of(new EventJournal.RetryRequested(EP_2, 2, OPERATOR, "retry now", NOW)), result.events());
    expectDispatch(EP_2, 2);
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(100));
    assertEquals(DeliveryStatus.RETRY_SCHEDULED, result.state().deliveries().get(EP_1).status());
  }

  @Test
  void retryNowWithNothingWaitingIsRefusedAndPersistsNothing() {
    State before = accept(BODY_HASH, List.of(EP_1)).state();
    expectDispatch(EP_1, 1);

    var result = retryNow(TENANT, null);

    assertEquals(new EventEntity.NothingToStart(), result.reply());
    assertTrue(result.hasNoEvents());
    assertEquals(before, result.state());
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void retryNowByAnotherTenantIsRefusedAsUnknown() {
    waitingForADistantRetry(List.of(EP_1), 3);

    var result = retryNow(OTHER_TENANT, null);

    assertEquals(new EventEntity.NoSuchEvent(), result.reply());
    assertTrue(result.hasNoEvents());
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(100));
  }

  // ---- replay ----

  @Test
  void replayOfADeadLetteredDeliveryStartsTheNextAttempt() {
    accept(BODY_HASH, List.of(EP_1));
    answer(expectDispatch(EP_1, 1), outcome(EP_1, http(1, 400), null, 3));
    expectPassivate();

    var result = replay(TENANT, null);

    assertEquals((new DeliveriesStarted(List.of(EP_1))), result.reply());
    assertEquals(
        List.of(new EventJournal.Replayed(EP_1, 2, OPERATOR, "operator replay", NOW)), result.events());
    Delivery d = result.state().deliveries().get(EP_1);
    assertEquals(
        new Delivery(EP_1, DeliveryStatus.DISPATCHING, 2, 1, null, "HTTP 400", List.of(http(1, 400))), d);
    assertEquals(DeliveryStatus.DISPATCHING, result.state().status());

    Dispatch again = expectDispatch(EP_1, 2);
    State delivered = answer(again, outcome(EP_1, ok(2), null, 3));
    assertEquals(DeliveryStatus.DELIVERED, delivered.deliveries().get(EP_1).status());
    assertEquals(List.of(http(1, 400), ok(2)), delivered.deliveries().get(EP_1).attempts());
  }

  @Test
  void replayGivesAFreshRetryBudget() {
    accept(BODY_HASH, List.of(EP_1));
    answer(expectDispatch(EP_1, 1), outcome(EP_1, http(1, 503), null, 2));
    State dead = answer(expectDispatch(EP_1, 2), outcome(EP_1, http(2, 503), null, 2));
    assertEquals(DeliveryStatus.DEAD_LETTERED, dead.deliveries().get(EP_1).status());

    var result = replay(TENANT, EP_1);
    assertEquals(new DeliveriesStarted(List.of(EP_1)), result.reply());
    assertEquals(2, result.state().deliveries().get(EP_1).budgetBase());

    // Attempt 3 is the first of the new budget of 2: a failure is retried after the first
    // backoff, not dead-lettered.
    State retried = answer(expectDispatch(EP_1, 3), outcome(EP_1, http(3, 503), null, 2));
    Delivery d = retried.deliveries().get(EP_1);
    assertEquals(DeliveryStatus.RETRY_SCHEDULED, d.status());
    assertEquals(NOW.plus(FIRST_BACKOFF), d.nextAttemptAt());

    // Attempt 4 spends it.
    State deadAgain =
        answer(expectDispatch(EP_1, 4), outcome(EP_1, http(4, 503), null, 2));
    Delivery last = deadAgain.deliveries().get(EP_1);
    assertEquals(DeliveryStatus.DEAD_LETTERED, last.status());
    assertEquals(4, last.attempts().size());
    EventJournal.DeadLettered event =
        (EventJournal.DeadLettered) journal().get(journal().size() - 1);
    assertEquals("gave up after 2 attempts", event.reason());
  }

  @Test
  void replayWithNothingTerminalIsRefusedAndPersistsNothing() {
    State before = accept(BODY_HASH, List.of(EP_1, EP_2)).state();
    expectDispatch(EP_1, 1);
    expectDispatch(EP_2, 1);

    var result = replay(TENANT, null);

    assertEquals(new EventEntity.NothingToStart(), result.reply());
    assertTrue(result.hasNoEvents());
    assertEquals(before, result.state());
    endpointProbes.values().forEach(p -> p.expectNoMessage(Duration.ofMillis(100)));
  }

  @Test
  void replayOfANonTerminalEndpointIsRefused() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    answer(expectDispatch(EP_1, 1), outcome(EP_1, ok(1), null, 3));
    expectDispatch(EP_2, 1);
    State before = entity.getState();

    var result = replay(TENANT, EP_2);

    assertEquals(new EventEntity.NothingToStart(), result.reply());
    assertTrue(result.hasNoEvents());
    assertEquals(before, result.state());
  }

  @Test
  void replayByAnotherTenantIsRefused() {
    accept(BODY_HASH, List.of(EP_1));
    State dead =
        answer(expectDispatch(EP_1, 1), outcome(EP_1, http(1, 404), null, 3));

    var result = replay(OTHER_TENANT, null);

    assertEquals(new EventEntity.NoSuchEvent(), result.reply());
    assertTrue(result.hasNoEvents());
    assertEquals(dead, result.state());
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void replayWithoutEndpointPrefersDeadLetteredOverDelivered() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    answer(expectDispatch(EP_1, 1), outcome(EP_1, ok(1), null, 3));
    answer(expectDispatch(EP_2, 1), outcome(EP_2, http(1, 400), null, 3));

    var result = replay(TENANT, null);

    assertEquals((new DeliveriesStarted(List.of(EP_2))), result.reply());
    assertEquals(DeliveryStatus.DELIVERED, result.state().deliveries().get(EP_1).status());
    assertEquals(DeliveryStatus.DISPATCHING, result.state().deliveries().get(EP_2).status());
    expectDispatch(EP_2, 2);
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void replayOfADeliveredDeliveryByEndpoint() {
    accept(BODY_HASH, List.of(EP_1));
    answer(expectDispatch(EP_1, 1), outcome(EP_1, ok(1), null, 3));

    var result = replay(TENANT, EP_1);

    assertEquals((new DeliveriesStarted(List.of(EP_1))), result.reply());
    assertEquals(
        List.of(new EventJournal.Replayed(EP_1, 2, OPERATOR, "operator replay", NOW)), result.events());
    expectDispatch(EP_1, 2);
  }

  /**
   * An endpoint's recover picks dead letters from the read model, which may trail: one
   * that has meanwhile been replayed and delivered is not sent again.
   */
  @Test
  void recoverNeverSendsADeliveredDeliveryAgain() {
    accept(BODY_HASH, List.of(EP_1));
    answer(expectDispatch(EP_1, 1), outcome(EP_1, ok(1), null, 3));
    int mark = mark();

    CommandResultWithReply<Command, EventJournal, State, EventEntity.StartReply> result =
        entity.runCommand(replyTo -> new Replay(TENANT, EP_1, true, OPERATOR, replyTo));

    assertEquals(new EventEntity.NothingToStart(), result.reply());
    assertTrue(result.hasNoEvents(), () -> "persisted " + result.events());
    assertEquals(mark, mark());
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(200));
  }

  // ---- derived event status ----

  @Test
  void eventIsRetryScheduledWhileOneDeliveryWaitsForARetry() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    answer(expectDispatch(EP_1, 1), outcome(EP_1, ok(1), null, 3));
    State state =
        answer(
            expectDispatch(EP_2, 1),
            outcome(EP_2, http(1, 503), null, 3)); // a retry soon: it stays

    assertEquals(DeliveryStatus.DELIVERED, state.deliveries().get(EP_1).status());
    assertEquals(DeliveryStatus.RETRY_SCHEDULED, state.deliveries().get(EP_2).status());
    assertEquals(DeliveryStatus.RETRY_SCHEDULED, state.status());
    shardProbe.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void eventIsDeliveredWhenEveryDeliveryIs() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    answer(expectDispatch(EP_1, 1), outcome(EP_1, ok(1), null, 3));
    State state = answer(expectDispatch(EP_2, 1), outcome(EP_2, ok(1), null, 3));

    assertEquals(DeliveryStatus.DELIVERED, state.status());
    expectPassivate();
  }

  // ---- recovery ----

  @Test
  void restartResendsAnAttemptLeftDispatching() {
    State before = accept(BODY_HASH, List.of(EP_1)).state();
    Dispatch first = expectDispatch(EP_1, 1);
    int mark = mark();

    State recovered = entity.restart().state();

    assertEquals(before, recovered);
    Dispatch again = expectDispatch(EP_1, 1);
    assertEquals(first.request(), again.request());
    assertNotEquals(first.replyTo(), again.replyTo(), "the new incarnation's adapter");
    assertEquals(mark, mark());

    // The new incarnation takes the outcome.
    State delivered = answer(again, outcome(EP_1, ok(1), null, 3));
    assertEquals(DeliveryStatus.DELIVERED, delivered.deliveries().get(EP_1).status());
    assertEquals(mark + 1, mark());
  }

  @Test
  void restartStartsAnOverdueRetryAtOnce() {
    accept(BODY_HASH, List.of(EP_1));
    // A distant retry; the entity goes away (crash, passivation) while it waits.
    State waiting =
        answer(
            expectDispatch(EP_1, 1),
            outcome(EP_1, http(1, 503), Duration.ofMinutes(30), 3));
    assertEquals(NOW.plus(Duration.ofMinutes(30)), waiting.deliveries().get(EP_1).nextAttemptAt());
    int mark = mark();

    Instant later = NOW.plus(Duration.ofHours(1));
    clock.set(later);
    // The state right after recovery is not asserted: the resume races the test kit's read
    // of it. What recovery rebuilt shows in the attempt history the resumed delivery keeps.
    entity.restart();

    expectDispatch(EP_1, 2);
    assertEquals(
        List.of(new EventJournal.DispatchStarted(EP_1, 2, "resumed after restart", later)),
        persistedSince(mark, 1));
    Delivery resumed = entity.getState().deliveries().get(EP_1);
    assertEquals(DeliveryStatus.DISPATCHING, resumed.status());
    assertEquals(2, resumed.attemptCount());
    assertEquals(waiting.deliveries().get(EP_1).attempts(), resumed.attempts());
    assertEquals(waiting.received(), entity.getState().received());
  }

  @Test
  void restartWaitsForARetryStillInTheFuture() {
    accept(BODY_HASH, List.of(EP_1));
    State waiting =
        answer(
            expectDispatch(EP_1, 1),
            outcome(EP_1, http(1, 503), Duration.ofMinutes(30), 3));
    int mark = mark();

    // 29 min 59 s later: one second to go.
    Instant later = NOW.plus(Duration.ofMinutes(30)).minusSeconds(1);
    clock.set(later);
    assertEquals(waiting, entity.restart().state());

    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(300));
    assertEquals(mark, mark());
    expectDispatch(EP_1, 2);
    assertEquals(
        List.of(new EventJournal.DispatchStarted(EP_1, 2, "retry due", later)), persistedSince(mark, 1));
  }

  @Test
  void restartOfAFinishedEventDoesNothing() {
    accept(BODY_HASH, List.of(EP_1));
    State delivered =
        answer(expectDispatch(EP_1, 1), outcome(EP_1, ok(1), null, 3));
    int mark = mark();

    assertEquals(delivered, entity.restart().state());

    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(200));
    assertEquals(mark, mark());
  }

  // ---- the waker ----

  @Test
  void wakeStartsAnOverdueRetryOfALiveEntity() {
    accept(BODY_HASH, List.of(EP_1));
    answer(
        expectDispatch(EP_1, 1),
        outcome(EP_1, http(1, 503), Duration.ofMinutes(30), 3));
    Instant later = NOW.plus(Duration.ofHours(1));
    clock.set(later);

    var result = entity.runCommand(EventEntity.Wake.INSTANCE);

    assertEquals(
        List.of(new EventJournal.DispatchStarted(EP_1, 2, "retry due (woken)", later)), result.events());
    expectDispatch(EP_1, 2);
    endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void wakeLeavesAFutureRetryAndADispatchingAttemptAlone() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    expectDispatch(EP_2, 1);
    answer(
        expectDispatch(EP_1, 1),
        outcome(EP_1, http(1, 503), Duration.ofMinutes(30), 3));

    var result = entity.runCommand(EventEntity.Wake.INSTANCE);

    assertTrue(result.hasNoEvents(), () -> "persisted " + result.events());
    endpointProbes.values().forEach(p -> p.expectNoMessage(Duration.ofMillis(200)));
    shardProbe.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void wakeOnAFinishedEventPassivatesIt() {
    accept(BODY_HASH, List.of(EP_1));
    answer(expectDispatch(EP_1, 1), outcome(EP_1, ok(1), null, 3));
    expectPassivate();

    assertTrue(entity.runCommand(EventEntity.Wake.INSTANCE).hasNoEvents());
    expectPassivate();
  }

  @Test
  void wakeOnAnUnknownEventPassivatesIt() {
    assertTrue(entity.runCommand(EventEntity.Wake.INSTANCE).hasNoEvents());
    expectPassivate();
  }

  /**
   * The waker's usual case: the entity was passivated while its retry waited; the Wake
   * starts it, and arrives while it recovers. Recovery resumes the delivery and the Wake
   * starts overdue retries: together they must send the attempt once, not twice.
   */
  @Test
  void wakingAPassivatedEventSendsTheOverdueAttemptOnce() {
    String id = "evt-" + UUID.randomUUID();
    Instant later = NOW.plus(Duration.ofHours(1));
    clock.set(later);

    ActorRef<Command> woken =
        startAgain(
            id,
            List.of(
                received(id, List.of(EP_1)),
                new EventJournal.DispatchStarted(EP_1, 1, "first attempt", NOW),
                new EventJournal.RetryScheduled(
                    EP_1, http(1, 503), NOW.plus(Duration.ofMinutes(30)), "Retry-After 1800s", NOW)),
            EventEntity.Wake.INSTANCE);
    try {
      Dispatch d = expectDispatch(EP_1);
      assertEquals(new DeliveryRequest(id, TYPE, PAYLOAD, 2), d.request());
      endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(500));
      assertEquals(
          1,
          journalOf(id).stream().filter(e -> e instanceof EventJournal.DispatchStarted s && s.attempt() == 2).count(),
          () -> "journal: " + journalOf(id));
    } finally {
      testKit.stop(woken);
    }
  }

  /** The accept was journaled, its answer lost in a hand-off; the resend finds the event elsewhere. */
  @Test
  void aResendReachingAnotherIncarnationIsAnsweredAsTheFirst() {
    String id = "evt-" + UUID.randomUUID();
    TestProbe<AcceptReply> replies = testKit.createTestProbe();

    ActorRef<Command> started =
        startAgain(
            id,
            List.of(
                received(id, List.of(EP_1)),
                new EventJournal.DispatchStarted(EP_1, 1, "first attempt", NOW),
                new EventJournal.Delivered(EP_1, ok(1), "HTTP 200", NOW)),
            new Accept(TENANT, TYPE, PAYLOAD, KEY, BODY_HASH, "request-0", List.of(EP_1), replies.ref()));
    try {
      assertEquals(new EventEntity.Accepted(id, false), replies.receiveMessage());
    } finally {
      testKit.stop(started);
    }
  }

  /**
   * An operator's replay (e.g. an endpoint's recover) reaching an event that was
   * passivated with another delivery still waiting: the replayed attempt goes out once.
   */
  @Test
  void replayArrivingWhileTheEventRecoversSendsTheAttemptOnce() {
    String id = "evt-" + UUID.randomUUID();
    TestProbe<EventEntity.StartReply> replies = testKit.createTestProbe();

    ActorRef<Command> started =
        startAgain(
            id,
            List.of(
                received(id, List.of(EP_1, EP_2)),
                new EventJournal.DispatchStarted(EP_1, 1, "first attempt", NOW),
                new EventJournal.DispatchStarted(EP_2, 1, "first attempt", NOW),
                new EventJournal.DeadLettered(EP_1, http(1, 400), "permanent failure (HTTP 400)", NOW),
                new EventJournal.RetryScheduled(
                    EP_2, http(1, 503), NOW.plus(Duration.ofMinutes(30)), "Retry-After 1800s", NOW)),
            new Replay(TENANT, EP_1, false, OPERATOR, replies.ref()));
    try {
      assertEquals((new DeliveriesStarted(List.of(EP_1))), replies.receiveMessage());
      Dispatch d = expectDispatch(EP_1);
      assertEquals(new DeliveryRequest(id, TYPE, PAYLOAD, 2), d.request());
      endpointProbes.get(EP_1).expectNoMessage(Duration.ofMillis(500));
      endpointProbes.get(EP_2).expectNoMessage(Duration.ofMillis(50));
    } finally {
      testKit.stop(started);
    }
  }

  // ---- hand-off to another node ----

  @Test
  void aHandOffWaitsForTheOutcomeOfTheAttemptOut() {
    String id = "evt-" + UUID.randomUUID();
    ActorRef<Command> ref = spawnAccepted(id, SETTINGS);
    Dispatch d = expectDispatch(EP_1);
    TestProbe<Object> watcher = testKit.createTestProbe();

    ref.tell(EventEntity.Stop.INSTANCE);
    // Still there, waiting for the outcome: it answers after the stop, and has journaled nothing.
    TestProbe<GetReply> gets = testKit.createTestProbe();
    ref.tell(new Get(TENANT, gets.ref()));
    gets.expectMessageClass(EventEntity.Found.class);
    assertEquals(1, journalOf(id).size(), () -> "journal: " + journalOf(id));
    d.replyTo().tell(outcome(EP_1, ok(1), null, 3));

    watcher.expectTerminated(ref, Duration.ofSeconds(3));
    assertEquals(new EventJournal.Delivered(EP_1, ok(1), "HTTP 200", NOW), last(journalOf(id)));
  }

  /**
   * The outcome does not come back within the hand-off wait (the endpoint's node is
   * leaving too, or the reply was lost): the attempt is deferred, due at once, so the
   * waker finds it in the read model and the new incarnation sends it again.
   */
  @Test
  void aHandOffWithoutTheOutcomeDefersTheAttemptDueNowAndStops() {
    String id = "evt-" + UUID.randomUUID();
    ActorRef<Command> ref =
        spawnAccepted(
            id, new EventEntity.Settings(POLICY, Duration.ofSeconds(10), Duration.ofSeconds(5), 3, Duration.ofMinutes(1), Duration.ofMillis(100)));
    expectDispatch(EP_1);
    TestProbe<Object> watcher = testKit.createTestProbe();

    ref.tell(EventEntity.Stop.INSTANCE);

    watcher.expectTerminated(ref, Duration.ofSeconds(3));
    assertEquals(
        new EventJournal.AttemptDeferred(EP_1, 1, NOW, "outcome not back before the event moved to another node", NOW),
        last(journalOf(id)));
  }

  @Test
  void aHandOffWithNothingOutStopsAtOnce() {
    String id = "evt-" + UUID.randomUUID();
    ActorRef<Command> ref = spawnAccepted(id, SETTINGS);
    Dispatch d = expectDispatch(EP_1);
    d.replyTo().tell(outcome(EP_1, http(1, 503), null, 3));
    TestProbe<Object> watcher = testKit.createTestProbe();
    watcher.awaitAssert(
        () -> {
          assertTrue(last(journalOf(id)) instanceof EventJournal.RetryScheduled);
          return null;
        });
    int before = journalOf(id).size();

    ref.tell(EventEntity.Stop.INSTANCE);

    watcher.expectTerminated(ref, Duration.ofSeconds(3));
    assertEquals(before, journalOf(id).size());
  }

  /** A live entity (not the test kit's) that has accepted an event for {@code EP_1}. */
  private ActorRef<Command> spawnAccepted(String id, EventEntity.Settings settings) {
    ActorRef<Command> ref =
        testKit.spawn(EventEntity.create(id, shardProbe.ref(), (ep, d) -> endpointProbes.get(ep).ref().tell(d), settings, clock));
    TestProbe<AcceptReply> accepted = testKit.createTestProbe();
    ref.tell(new Accept(TENANT, TYPE, PAYLOAD, KEY, BODY_HASH, "request-1", List.of(EP_1), accepted.ref()));
    accepted.expectMessage(new EventEntity.Accepted(id, false));
    return ref;
  }

  private static Object last(List<Object> journal) {
    return journal.get(journal.size() - 1);
  }

  /**
   * Starts another incarnation of event {@code id} from {@code journal}, as sharding would
   * on a message to a passivated entity: {@code first} is in its mailbox before its
   * recovery completes (the journal holds the recovery's reads until it is sent).
   */
  private ActorRef<Command> startAgain(String id, List<EventJournal> journal, Command first) {
    String pid = EventEntity.TYPE_KEY.name() + "|" + id;
    entity.persistenceTestKit().persistForRecovery(pid, List.copyOf(journal));
    CountDownLatch sent = new CountDownLatch(1);
    entity
        .persistenceTestKit()
        .withPolicy(
            (persistenceId, op) -> {
              if (persistenceId.equals(pid) && !(op instanceof WriteEvents)) {
                try {
                  if (!sent.await(3, TimeUnit.SECONDS)) recoveryNotHeld.set(true);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              return ProcessingSuccess$.MODULE$;
            });
    ActorRef<Command> ref =
        testKit.spawn(
            EventEntity.create(id, shardProbe.ref(), (ep, d) -> endpointProbes.get(ep).ref().tell(d), SETTINGS, clock));
    ref.tell(first);
    sent.countDown();
    return ref;
  }

  private List<Object> journalOf(String id) {
    return entity.persistenceTestKit().persistedInStorage(EventEntity.TYPE_KEY.name() + "|" + id);
  }

  private static EventJournal.Received received(String id, List<String> endpointIds) {
    return new EventJournal.Received(id, TENANT, TYPE, PAYLOAD, KEY, BODY_HASH, "request-0", endpointIds, NOW);
  }

  // ---- retention ----

  /** Every call of a test remover: the event, its tag, and the state it was given. */
  private record RemoveCall(String eventId, String tag, State state) {}

  /** A remover that records its calls and answers each with the next of {@code answers}. */
  private static EventEntity.Remover recording(List<RemoveCall> calls, java.util.function.Supplier<java.util.concurrent.CompletionStage<Boolean>> answers) {
    return (id, tag, state) -> {
      calls.add(new RemoveCall(id, tag, state));
      return answers.get();
    };
  }

  /** A live entity with this remover whose one delivery (to {@code EP_1}) was delivered at NOW. */
  private ActorRef<Command> spawnFinished(String id, EventEntity.Remover remover) {
    ActorRef<Command> ref =
        testKit.spawn(
            EventEntity.create(id, shardProbe.ref(), (ep, d) -> endpointProbes.get(ep).ref().tell(d), remover, SETTINGS, clock));
    TestProbe<AcceptReply> accepted = testKit.createTestProbe();
    ref.tell(new Accept(TENANT, TYPE, PAYLOAD, KEY, BODY_HASH, "request-1", List.of(EP_1), accepted.ref()));
    accepted.expectMessage(new EventEntity.Accepted(id, false));
    expectDispatch(EP_1).replyTo().tell(outcome(EP_1, ok(1), null, 3));
    TestProbe<GetReply> got = testKit.createTestProbe();
    got.awaitAssert(
        () -> {
          ref.tell(new Get(TENANT, got.ref()));
          GetReply reply = got.expectMessageClass(EventEntity.Found.class);
          assertEquals(DeliveryStatus.DELIVERED, ((EventEntity.Found) reply).state().status());
          return null;
        });
    return ref;
  }

  @Test
  void aFinishedEventRetiredWithACutoffAfterItsLastChangeIsRemovedAndRetired() {
    String id = "evt-" + UUID.randomUUID();
    List<RemoveCall> calls = new CopyOnWriteArrayList<>();
    ActorRef<Command> ref = spawnFinished(id, recording(calls, () -> CompletableFuture.completedStage(true)));
    TestProbe<EventEntity.RetireReply> retire = testKit.createTestProbe();

    ref.tell(new EventEntity.Retire(TENANT, NOW.plusSeconds(1), retire.ref()));

    retire.expectMessage(Duration.ofSeconds(3), new EventEntity.Retired());
    assertEquals(1, calls.size());
    RemoveCall call = calls.get(0);
    assertEquals(id, call.eventId());
    assertEquals(EventEntity.tagOf(id), call.tag());
    assertEquals(DeliveryStatus.DELIVERED, call.state().status());
    assertEquals(NOW, call.state().lastChangeAt());
  }

  @Test
  void aCutoffNotAfterTheLastChangeKeepsTheEventAsRecentWithoutAskingTheRemover() {
    String id = "evt-" + UUID.randomUUID();
    List<RemoveCall> calls = new CopyOnWriteArrayList<>();
    ActorRef<Command> ref = spawnFinished(id, recording(calls, () -> CompletableFuture.completedStage(true)));
    TestProbe<EventEntity.RetireReply> retire = testKit.createTestProbe();

    ref.tell(new EventEntity.Retire(TENANT, NOW.minusSeconds(1), retire.ref()));
    retire.expectMessage(Duration.ofSeconds(3), new EventEntity.Kept(EventEntity.KeptBecause.RECENT));
    // The last change exactly at the cutoff is not before it: kept too.
    ref.tell(new EventEntity.Retire(TENANT, NOW, retire.ref()));
    retire.expectMessage(Duration.ofSeconds(3), new EventEntity.Kept(EventEntity.KeptBecause.RECENT));

    assertTrue(calls.isEmpty(), "the remover was not asked: " + calls);
    TestProbe<GetReply> got = testKit.createTestProbe();
    ref.tell(new Get(TENANT, got.ref()));
    got.expectMessageClass(EventEntity.Found.class);
  }

  @Test
  void anEventWithARetryScheduledIsKeptAsOpen() {
    String id = "evt-" + UUID.randomUUID();
    List<RemoveCall> calls = new CopyOnWriteArrayList<>();
    // A distant retry, so that no attempt starts while the test looks.
    EventEntity.Settings distant =
        new EventEntity.Settings(
            new DeliveryPolicy(List.of(Duration.ofHours(1)), 0.0, Duration.ofHours(2)),
            Duration.ofSeconds(10), Duration.ofSeconds(5), 3, Duration.ofMinutes(1), HANDOFF_WAIT);
    ActorRef<Command> ref =
        testKit.spawn(
            EventEntity.create(
                id, shardProbe.ref(), (ep, d) -> endpointProbes.get(ep).ref().tell(d),
                recording(calls, () -> CompletableFuture.completedStage(true)), distant, clock));
    TestProbe<AcceptReply> accepted = testKit.createTestProbe();
    ref.tell(new Accept(TENANT, TYPE, PAYLOAD, KEY, BODY_HASH, "request-1", List.of(EP_1), accepted.ref()));
    accepted.expectMessage(new EventEntity.Accepted(id, false));
    expectDispatch(EP_1).replyTo().tell(outcome(EP_1, http(1, 503), null, 3));
    TestProbe<GetReply> got = testKit.createTestProbe();
    got.awaitAssert(
        () -> {
          ref.tell(new Get(TENANT, got.ref()));
          State s = ((EventEntity.Found) got.expectMessageClass(EventEntity.Found.class)).state();
          assertEquals(DeliveryStatus.RETRY_SCHEDULED, s.deliveries().get(EP_1).status());
          return null;
        });
    TestProbe<EventEntity.RetireReply> retire = testKit.createTestProbe();

    ref.tell(new EventEntity.Retire(TENANT, NOW.plus(Duration.ofDays(365)), retire.ref()));

    retire.expectMessage(Duration.ofSeconds(3), new EventEntity.Kept(EventEntity.KeptBecause.OPEN));
    assertTrue(calls.isEmpty(), "the remover was not asked: " + calls);
  }

  @Test
  void whileTheRemoverWorksAGetWaitsAndAfterTheRemovalItIsNotFound() {
    String id = "evt-" + UUID.randomUUID();
    List<RemoveCall> calls = new CopyOnWriteArrayList<>();
    CompletableFuture<Boolean> removal = new CompletableFuture<>();
    ActorRef<Command> ref = spawnFinished(id, recording(calls, () -> removal));
    TestProbe<EventEntity.RetireReply> retire = testKit.createTestProbe();
    TestProbe<GetReply> got = testKit.createTestProbe();

    ref.tell(new EventEntity.Retire(TENANT, NOW.plusSeconds(1), retire.ref()));
    retire.awaitAssert(() -> {
      assertEquals(1, calls.size());
      return null;
    });
    ref.tell(new Get(TENANT, got.ref()));

    got.expectNoMessage(Duration.ofMillis(300));
    retire.expectNoMessage(Duration.ofMillis(10));
    removal.complete(true);
    retire.expectMessage(Duration.ofSeconds(3), new EventEntity.Retired());
    got.expectMessage(Duration.ofSeconds(3), new EventEntity.NotFound());
  }

  @Test
  void afterARemovalTheSameKeyWithAnotherBodyStartsANewEvent() {
    String id = "evt-" + UUID.randomUUID();
    List<RemoveCall> calls = new CopyOnWriteArrayList<>();
    ActorRef<Command> ref = spawnFinished(id, recording(calls, () -> CompletableFuture.completedStage(true)));
    TestProbe<EventEntity.RetireReply> retire = testKit.createTestProbe();
    ref.tell(new EventEntity.Retire(TENANT, NOW.plusSeconds(1), retire.ref()));
    retire.expectMessage(Duration.ofSeconds(3), new EventEntity.Retired());
    TestProbe<AcceptReply> accepted = testKit.createTestProbe();

    ref.tell(new Accept(TENANT, TYPE, "{\"order\":43}", KEY, "sha256:bbbb", "request-2", List.of(EP_1), accepted.ref()));

    accepted.expectMessage(Duration.ofSeconds(3), new EventEntity.Accepted(id, false));
    Dispatch d = expectDispatch(EP_1);
    assertEquals(new DeliveryRequest(id, TYPE, "{\"order\":43}", 1), d.request());
    TestProbe<GetReply> got = testKit.createTestProbe();
    ref.tell(new Get(TENANT, got.ref()));
    State s = ((EventEntity.Found) got.expectMessageClass(EventEntity.Found.class)).state();
    assertEquals("sha256:bbbb", s.received().bodyHash());
    assertEquals(DeliveryStatus.DISPATCHING, s.status());
  }

  @Test
  void aRemoverThatFindsTheReadModelBehindKeepsTheEventAsNotProjected() {
    String id = "evt-" + UUID.randomUUID();
    List<RemoveCall> calls = new CopyOnWriteArrayList<>();
    ActorRef<Command> ref = spawnFinished(id, recording(calls, () -> CompletableFuture.completedStage(false)));
    TestProbe<EventEntity.RetireReply> retire = testKit.createTestProbe();

    ref.tell(new EventEntity.Retire(TENANT, NOW.plusSeconds(1), retire.ref()));

    retire.expectMessage(Duration.ofSeconds(3), new EventEntity.Kept(EventEntity.KeptBecause.NOT_PROJECTED));
    assertEquals(1, calls.size());
    TestProbe<GetReply> got = testKit.createTestProbe();
    ref.tell(new Get(TENANT, got.ref()));
    State s = ((EventEntity.Found) got.expectMessageClass(EventEntity.Found.class)).state();
    assertEquals(DeliveryStatus.DELIVERED, s.status());
    assertEquals(PAYLOAD, s.received().payload());
    // The same key and body is still this event, answered as a replay.
    TestProbe<AcceptReply> accepted = testKit.createTestProbe();
    ref.tell(new Accept(TENANT, TYPE, PAYLOAD, KEY, BODY_HASH, "request-3", List.of(EP_1), accepted.ref()));
    accepted.expectMessage(new EventEntity.Accepted(id, true));
  }

  // ---- messages between event and endpoint entities cross nodes ----

  @Test
  void dispatchAndItsRepliesSerialize() {
    accept(BODY_HASH, List.of(EP_1));
    Dispatch d = expectDispatch(EP_1, 1);
    SerializationTestKit serialization = new SerializationTestKit(testKit.system());

    List<Object> messages = new ArrayList<>();
    messages.add(d);
    messages.add(new DispatchReply.Started(EP_1, 1, 30_000, 9));
    messages.add(outcome(EP_1, http(1, 429), Duration.ofSeconds(30), 9));
    messages.add(outcome(EP_1, ok(1), null, 9));
    messages.add(new DispatchReply.Deferred(EP_1, 1, NOW.plusSeconds(30), "circuit open"));
    messages.add(EventEntity.Wake.INSTANCE); // from the waker singleton, on any node
    for (Object m : messages) {
      assertEquals(m, serialization.verifySerialization(m, true));
    }
  }

  // ---- commands ----

  private CommandResultWithReply<Command, EventJournal, State, AcceptReply> accept(
      String bodyHash, List<String> endpointIds) {
    return accept(bodyHash, endpointIds, "request-" + UUID.randomUUID());
  }

  private CommandResultWithReply<Command, EventJournal, State, AcceptReply> accept(
      String bodyHash, List<String> endpointIds, String requestId) {
    return entity.runCommand(
        replyTo -> new Accept(TENANT, TYPE, PAYLOAD, KEY, bodyHash, requestId, endpointIds, replyTo));
  }

  private CommandResultWithReply<Command, EventJournal, State, GetReply> get(String tenantId) {
    return entity.runCommand(replyTo -> new Get(tenantId, replyTo));
  }

  private CommandResultWithReply<Command, EventJournal, State, EventEntity.StartReply> replay(
      String tenantId, String endpointId) {
    return entity.runCommand(replyTo -> new Replay(tenantId, endpointId, false, OPERATOR, replyTo));
  }

  private CommandResultWithReply<Command, EventJournal, State, EventEntity.StartReply> retryNow(
      String tenantId, String endpointId) {
    return entity.runCommand(replyTo -> new EventEntity.RetryNow(tenantId, endpointId, OPERATOR, replyTo));
  }

  // ---- the endpoint's side ----

  private Dispatch expectDispatch(String endpointId) {
    return endpointProbes.get(endpointId).expectMessageClass(Dispatch.class, Duration.ofSeconds(3));
  }

  /** The next dispatch to this endpoint, which must be of this event and attempt. */
  private Dispatch expectDispatch(String endpointId, int attempt) {
    Dispatch d = expectDispatch(endpointId);
    assertEquals(new DeliveryRequest(eventId, TYPE, PAYLOAD, attempt), d.request());
    return d;
  }

  /**
   * Answers a dispatch as the endpoint would, and returns the entity's state once it has
   * handled the answer: the state query queues behind the answer in the entity's mailbox,
   * and waits for any journal write the answer caused.
   */
  private State answer(Dispatch dispatch, DispatchReply reply) {
    dispatch.replyTo().tell(reply);
    return entity.getState();
  }

  private static DispatchReply.Outcome outcome(
      String endpointId, Attempt attempt, Duration retryAfter, int maxAttempts) {
    return new DispatchReply.Outcome(endpointId, attempt, retryAfter, maxAttempts);
  }

  // ---- journal ----

  private String persistenceId() {
    return EventEntity.TYPE_KEY.name() + "|" + eventId;
  }

  private List<Object> journal() {
    return entity.persistenceTestKit().persistedInStorage(persistenceId());
  }

  /** How many events the journal holds now. */
  private int mark() {
    return journal().size();
  }

  /** The {@code count} events persisted after {@code mark}, waiting for them if need be. */
  private List<Object> persistedSince(int mark, int count) {
    return shardProbe.awaitAssert(
        Duration.ofSeconds(3),
        () -> {
          List<Object> all = journal();
          assertTrue(all.size() >= mark + count, () -> "journal so far: " + all);
          return List.copyOf(all.subList(mark, mark + count));
        });
  }

  // ---- values ----

  private static Attempt ok(int number) {
    return new Attempt(number, NOW, 200, 35, null, "ok");
  }

  private static Attempt http(int number, int status) {
    return new Attempt(number, NOW, status, 20, "HTTP " + status, "nope");
  }

  private static Delivery dispatching(String endpointId, int attempt) {
    return new Delivery(endpointId, DeliveryStatus.DISPATCHING, attempt, 0, null, null, List.of());
  }

  private void expectPassivate() {
    ClusterSharding.Passivate<?> p =
        shardProbe.expectMessageClass(ClusterSharding.Passivate.class, Duration.ofSeconds(3));
    assertNotNull(p.entity());
  }
}
