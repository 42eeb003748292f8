package io.zyven.app.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.zyven.app.event.EventEntity.Accept;
import io.zyven.app.event.EventEntity.AcceptReply;
import io.zyven.app.event.EventEntity.Command;
import io.zyven.app.event.EventEntity.Delivery;
import io.zyven.app.event.EventEntity.Get;
import io.zyven.app.event.EventEntity.GetReply;
import io.zyven.app.event.EventEntity.RecordAttempt;
import io.zyven.app.event.EventEntity.Replay;
import io.zyven.app.event.EventEntity.StartAttempt;
import io.zyven.app.event.EventEntity.State;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.DeliveryStatus;
import io.zyven.protocol.EventJournal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The event entity through Pekko's {@link EventSourcedBehaviorTestKit}: replies, journaled
 * events and state. The testkit also checks on every command that the command, its reply,
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
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

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

  private String eventId;
  private TestProbe<ClusterSharding.ShardCommand> shardProbe;
  private EventSourcedBehaviorTestKit<Command, EventJournal, State> entity;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void freshEntity() {
    eventId = "evt-" + UUID.randomUUID();
    shardProbe = testKit.createTestProbe(ClusterSharding.ShardCommand.class);
    entity =
        EventSourcedBehaviorTestKit.create(
            testKit.system(), EventEntity.create(eventId, shardProbe.ref(), CLOCK));
  }

  // ---- accept ----

  @Test
  void acceptPersistsReceivedWithAllFields() {
    var result = accept(BODY_HASH, List.of(EP_1, EP_2));

    assertEquals(new EventEntity.Accepted(eventId, false), result.reply());
    assertEquals(
        List.of(
            new EventJournal.Received(
                eventId, TENANT, TYPE, PAYLOAD, KEY, BODY_HASH, List.of(EP_1, EP_2), NOW)),
        result.events());
  }

  @Test
  void acceptStartsOneReceivedDeliveryPerEndpoint() {
    State state = accept(BODY_HASH, List.of(EP_1, EP_2)).state();

    assertEquals(List.of(EP_1, EP_2), List.copyOf(state.deliveries().keySet()));
    assertEquals(receivedDelivery(EP_1), state.deliveries().get(EP_1));
    assertEquals(receivedDelivery(EP_2), state.deliveries().get(EP_2));
    assertEquals(DeliveryStatus.RECEIVED, state.status());
  }

  @Test
  void acceptAgainWithSameBodyIsAReplayAndPersistsNothing() {
    accept(BODY_HASH, List.of(EP_1));

    var again = accept(BODY_HASH, List.of(EP_1));

    assertEquals(new EventEntity.Accepted(eventId, true), again.reply());
    assertTrue(again.hasNoEvents());
  }

  @Test
  void acceptAgainWithDifferentBodyIsAConflictAndChangesNothing() {
    State before = accept(BODY_HASH, List.of(EP_1)).state();

    var again = accept("sha256:bbbb", List.of(EP_1));

    assertEquals(new EventEntity.Conflict(eventId), again.reply());
    assertTrue(again.hasNoEvents());
    assertEquals(before, again.state());
  }

  @Test
  void acceptWithoutEndpointsRepliesNoSubscribersAndPassivates() {
    var result = accept(BODY_HASH, List.of());

    assertEquals(new EventEntity.NoSubscribers(eventId), result.reply());
    assertTrue(result.hasNoEvents());
    assertNull(result.state().received());
    expectPassivate();
  }

  // ---- get ----

  @Test
  void getForAnotherTenantIsNotFound() {
    accept(BODY_HASH, List.of(EP_1));

    assertEquals(new EventEntity.NotFound(), get(OTHER_TENANT).reply());
  }

  @Test
  void getOnEmptyEntityIsNotFoundAndPassivates() {
    assertEquals(new EventEntity.NotFound(), get(TENANT).reply());
    expectPassivate();
  }

  @Test
  void getForOwnerIsFoundWithTheState() {
    State state = accept(BODY_HASH, List.of(EP_1, EP_2)).state();

    assertEquals(new EventEntity.Found(state), get(TENANT).reply());
  }

  // ---- legal transitions ----

  @Test
  void startAttemptMovesReceivedToDispatchingAsAttemptOne() {
    accept(BODY_HASH, List.of(EP_1));

    var result = startAttempt(EP_1);

    assertEquals(new EventJournal.DispatchStarted(EP_1, 1, "dispatch", NOW), result.event());
    Delivery d = delivery(result.state(), EP_1);
    assertEquals(DeliveryStatus.DISPATCHING, d.status());
    assertEquals(1, d.attemptCount());
    assertEquals(StatusReply.success(result.state()), result.reply());
  }

  @Test
  void deliveredRecordsTheAttempt() {
    accept(BODY_HASH, List.of(EP_1));
    start(EP_1);
    Attempt ok = succeeded(1);

    var result = recordAttempt(EP_1, ok, DeliveryStatus.DELIVERED, null);

    assertEquals(new EventJournal.Delivered(EP_1, ok, "attempt", NOW), result.event());
    Delivery d = delivery(result.state(), EP_1);
    assertEquals(DeliveryStatus.DELIVERED, d.status());
    assertEquals(List.of(ok), d.attempts());
    assertEquals(StatusReply.success(result.state()), result.reply());
  }

  @Test
  void retryScheduledRecordsNextAttemptAt() {
    accept(BODY_HASH, List.of(EP_1));
    start(EP_1);
    Attempt failed = failed(1, "HTTP 503");
    Instant next = NOW.plusSeconds(5);

    var result = recordAttempt(EP_1, failed, DeliveryStatus.RETRY_SCHEDULED, next);

    assertEquals(
        new EventJournal.RetryScheduled(EP_1, failed, next, "attempt", NOW), result.event());
    Delivery d = delivery(result.state(), EP_1);
    assertEquals(DeliveryStatus.RETRY_SCHEDULED, d.status());
    assertEquals(next, d.nextAttemptAt());
    assertEquals(List.of(failed), d.attempts());
    assertEquals("HTTP 503", d.lastError());
  }

  @Test
  void startAttemptAfterRetryIsAttemptTwo() {
    accept(BODY_HASH, List.of(EP_1));
    scheduleRetry(EP_1);

    var result = startAttempt(EP_1);

    assertEquals(new EventJournal.DispatchStarted(EP_1, 2, "dispatch", NOW), result.event());
    Delivery d = delivery(result.state(), EP_1);
    assertEquals(DeliveryStatus.DISPATCHING, d.status());
    assertEquals(2, d.attemptCount());
    assertNull(d.nextAttemptAt());
  }

  @Test
  void deadLetteredRecordsTheAttempt() {
    accept(BODY_HASH, List.of(EP_1));
    start(EP_1);
    Attempt failed = failed(1, "connection refused");

    var result = recordAttempt(EP_1, failed, DeliveryStatus.DEAD_LETTERED, null);

    assertEquals(new EventJournal.DeadLettered(EP_1, failed, "attempt", NOW), result.event());
    Delivery d = delivery(result.state(), EP_1);
    assertEquals(DeliveryStatus.DEAD_LETTERED, d.status());
    assertEquals(List.of(failed), d.attempts());
    assertEquals("connection refused", d.lastError());
  }

  @Test
  void replayMovesDeadLetteredBackToDispatching() {
    accept(BODY_HASH, List.of(EP_1));
    deadLetter(EP_1);

    var result = replay(TENANT, null);

    assertReplayed(result, EP_1);
    assertEquals(DeliveryStatus.DISPATCHING, delivery(result.state(), EP_1).status());
  }

  @Test
  void replayWithEndpointIdMovesDeliveredBackToDispatching() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    deliver(EP_1);

    var result = replay(TENANT, EP_1);

    assertReplayed(result, EP_1);
    assertEquals(DeliveryStatus.DISPATCHING, delivery(result.state(), EP_1).status());
  }

  // ---- illegal transitions ----

  @Test
  void recordAttemptWhileReceivedIsRefused() {
    State before = accept(BODY_HASH, List.of(EP_1)).state();

    assertRefused(before, recordAttempt(EP_1, succeeded(1), DeliveryStatus.DELIVERED, null));
  }

  @Test
  void startAttemptWhileDispatchingIsRefused() {
    accept(BODY_HASH, List.of(EP_1));
    State before = expectSuccess(startAttempt(EP_1));

    assertRefused(before, startAttempt(EP_1));
  }

  @Test
  void startAttemptOnDeliveredDeliveryIsRefused() {
    accept(BODY_HASH, List.of(EP_1));
    State before = deliver(EP_1);

    assertRefused(before, startAttempt(EP_1));
  }

  @Test
  void startAttemptOnDeadLetteredDeliveryIsRefused() {
    accept(BODY_HASH, List.of(EP_1));
    State before = deadLetter(EP_1);

    assertRefused(before, startAttempt(EP_1));
  }

  @ParameterizedTest
  @EnumSource(
      value = DeliveryStatus.class,
      names = {"RECEIVED", "DISPATCHING"})
  void recordAttemptWithANonOutcomeStatusIsRefused(DeliveryStatus outcome) {
    accept(BODY_HASH, List.of(EP_1));
    State before = expectSuccess(startAttempt(EP_1));

    assertRefused(before, recordAttempt(EP_1, succeeded(1), outcome, null));
  }

  @Test
  void startAttemptForUnknownEndpointIsRefused() {
    State before = accept(BODY_HASH, List.of(EP_1)).state();

    assertRefused(before, startAttempt("ep-unknown"));
  }

  @Test
  void recordAttemptForUnknownEndpointIsRefused() {
    accept(BODY_HASH, List.of(EP_1));
    State before = expectSuccess(startAttempt(EP_1));

    assertRefused(
        before, recordAttempt("ep-unknown", succeeded(1), DeliveryStatus.DELIVERED, null));
  }

  // ---- replay target selection ----

  @Test
  void replayWithoutEndpointIdPicksDeadLetteredOverDelivered() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    deliver(EP_1);
    deadLetter(EP_2);

    var result = replay(TENANT, null);

    assertReplayed(result, EP_2);
    assertEquals(DeliveryStatus.DELIVERED, delivery(result.state(), EP_1).status());
    assertEquals(DeliveryStatus.DISPATCHING, delivery(result.state(), EP_2).status());
  }

  @Test
  void replayWithoutEndpointIdFallsBackToDelivered() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    deliver(EP_1);
    scheduleRetry(EP_2);

    var result = replay(TENANT, null);

    assertReplayed(result, EP_1);
    assertEquals(DeliveryStatus.DISPATCHING, delivery(result.state(), EP_1).status());
    assertEquals(DeliveryStatus.RETRY_SCHEDULED, delivery(result.state(), EP_2).status());
  }

  @Test
  void replayForAnotherTenantIsRefused() {
    accept(BODY_HASH, List.of(EP_1));
    State before = deadLetter(EP_1);

    assertRefused(before, replay(OTHER_TENANT, null));
  }

  @Test
  void replayWhenNothingIsTerminalIsRefused() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    State before = expectSuccess(startAttempt(EP_1));

    assertRefused(before, replay(TENANT, null));
  }

  @Test
  void replayOfANonTerminalEndpointIsRefused() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    deliver(EP_1);
    State before = expectSuccess(startAttempt(EP_2));

    assertRefused(before, replay(TENANT, EP_2));
  }

  // ---- derived event status ----

  @Test
  void eventIsRetryScheduledWhileOneDeliveryWaitsForARetry() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    deliver(EP_1);

    assertEquals(DeliveryStatus.RETRY_SCHEDULED, scheduleRetry(EP_2).status());
  }

  @Test
  void eventIsDeadLetteredWhenOneDeliveryIsDeadAndTheOtherDelivered() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    deliver(EP_1);

    assertEquals(DeliveryStatus.DEAD_LETTERED, deadLetter(EP_2).status());
  }

  @Test
  void eventIsDeliveredWhenBothDeliveriesAre() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    deliver(EP_1);

    assertEquals(DeliveryStatus.DELIVERED, deliver(EP_2).status());
  }

  // ---- passivation ----

  @Test
  void passivatesWhenTheLastDeliveryBecomesTerminal() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    deliver(EP_1);
    deadLetter(EP_2);

    expectPassivate();
  }

  @Test
  void doesNotPassivateWhileADeliveryIsStillOpen() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    deliver(EP_1);

    shardProbe.expectNoMessage(Duration.ofMillis(200));
  }

  // ---- recovery ----

  @Test
  void restartRecoversTheSameState() {
    accept(BODY_HASH, List.of(EP_1, EP_2));
    scheduleRetry(EP_1);
    deliver(EP_1);
    deadLetter(EP_2);
    State before = replay(TENANT, EP_2).state();

    assertEquals(before, entity.restart().state());
  }

  // ---- commands ----

  private CommandResultWithReply<Command, EventJournal, State, AcceptReply> accept(
      String bodyHash, List<String> endpointIds) {
    return entity.runCommand(
        replyTo -> new Accept(TENANT, TYPE, PAYLOAD, KEY, bodyHash, endpointIds, replyTo));
  }

  private CommandResultWithReply<Command, EventJournal, State, GetReply> get(String tenantId) {
    return entity.runCommand(replyTo -> new Get(tenantId, replyTo));
  }

  private CommandResultWithReply<Command, EventJournal, State, StatusReply<State>> startAttempt(
      String endpointId) {
    return entity.runCommand(replyTo -> new StartAttempt(endpointId, "dispatch", replyTo));
  }

  private CommandResultWithReply<Command, EventJournal, State, StatusReply<State>> recordAttempt(
      String endpointId, Attempt attempt, DeliveryStatus outcome, Instant nextAttemptAt) {
    return entity.runCommand(
        replyTo ->
            new RecordAttempt(endpointId, attempt, outcome, nextAttemptAt, "attempt", replyTo));
  }

  private CommandResultWithReply<Command, EventJournal, State, StatusReply<EventEntity.ReplayStarted>> replay(
      String tenantId, String endpointId) {
    return entity.runCommand(replyTo -> new Replay(tenantId, endpointId, OPERATOR, replyTo));
  }

  // ---- setup steps: a delivery's way to a state, from RECEIVED or RETRY_SCHEDULED ----

  private State deliver(String endpointId) {
    int n = start(endpointId);
    return expectSuccess(recordAttempt(endpointId, succeeded(n), DeliveryStatus.DELIVERED, null));
  }

  private State scheduleRetry(String endpointId) {
    int n = start(endpointId);
    Instant next = NOW.plusSeconds(30);
    return expectSuccess(
        recordAttempt(endpointId, failed(n, "HTTP 503"), DeliveryStatus.RETRY_SCHEDULED, next));
  }

  private State deadLetter(String endpointId) {
    int n = start(endpointId);
    return expectSuccess(
        recordAttempt(endpointId, failed(n, "HTTP 410"), DeliveryStatus.DEAD_LETTERED, null));
  }

  /** Starts an attempt and returns its number. */
  private int start(String endpointId) {
    return delivery(expectSuccess(startAttempt(endpointId)), endpointId).attemptCount();
  }

  /** A setup step must itself have worked, or the test would check the wrong thing. */
  private static State expectSuccess(
      CommandResultWithReply<Command, EventJournal, State, StatusReply<State>> result) {
    assertTrue(result.reply().isSuccess(), () -> "setup step refused: " + result.reply());
    return result.state();
  }

  // ---- values and assertions ----

  private static Attempt succeeded(int number) {
    return new Attempt(number, NOW, 200, 35, null, "ok");
  }

  private static Attempt failed(int number, String error) {
    return new Attempt(number, NOW, null, 30_000, error, null);
  }

  private static Delivery receivedDelivery(String endpointId) {
    return new Delivery(endpointId, DeliveryStatus.RECEIVED, 0, null, null, List.of());
  }

  private static Delivery delivery(State state, String endpointId) {
    return state.deliveries().get(endpointId);
  }

  private static void assertRefused(
      State before,
      CommandResultWithReply<Command, EventJournal, State, ? extends StatusReply<?>> result) {
    assertTrue(result.reply().isError(), () -> "expected an error reply, got " + result.reply());
    assertTrue(result.hasNoEvents(), () -> "expected no events, got " + result.events());
    assertEquals(before, result.state());
  }

  /** The reply lists the replayed endpoints; each got a Replayed naming the operator. */
  private static void assertReplayed(
      CommandResultWithReply<Command, EventJournal, State, StatusReply<EventEntity.ReplayStarted>> result,
      String... endpointIds) {
    assertEquals(
        StatusReply.success(new EventEntity.ReplayStarted(List.of(endpointIds))), result.reply());
    for (int i = 0; i < endpointIds.length; i++) {
      EventJournal.Replayed replayed = (EventJournal.Replayed) result.events().get(i);
      assertEquals(endpointIds[i], replayed.endpointId());
      assertEquals(OPERATOR, replayed.by());
      assertEquals(NOW, replayed.at());
      // A replay starts the next attempt: numbers never repeat.
      assertEquals(
          result.state().deliveries().get(endpointIds[i]).attempts().size() + 1, replayed.attempt());
    }
    assertEquals(endpointIds.length, result.events().size());
  }

  private void expectPassivate() {
    shardProbe.expectMessageClass(ClusterSharding.Passivate.class);
  }
}
