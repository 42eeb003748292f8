package io.zyven.app.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.zyven.app.delivery.DeliveryRequest;
import io.zyven.app.delivery.Dispatch;
import io.zyven.app.delivery.DispatchReply;
import io.zyven.app.endpoint.EndpointDispatcher.Action;
import io.zyven.app.endpoint.EndpointDispatcher.AnswerHealth;
import io.zyven.app.endpoint.EndpointDispatcher.CancelDrain;
import io.zyven.app.endpoint.EndpointDispatcher.Configure;
import io.zyven.app.endpoint.EndpointDispatcher.Deliver;
import io.zyven.app.endpoint.EndpointDispatcher.Drain;
import io.zyven.app.endpoint.EndpointDispatcher.GetHealth;
import io.zyven.app.endpoint.EndpointDispatcher.HandOff;
import io.zyven.app.endpoint.EndpointDispatcher.HandOffOverdue;
import io.zyven.app.endpoint.EndpointDispatcher.ScheduleHandOffDeadline;
import io.zyven.app.endpoint.EndpointDispatcher.Journal;
import io.zyven.app.endpoint.EndpointDispatcher.Reply;
import io.zyven.app.endpoint.EndpointDispatcher.RequestDone;
import io.zyven.app.endpoint.EndpointDispatcher.ResetCircuit;
import io.zyven.app.endpoint.EndpointDispatcher.RestoreCircuit;
import io.zyven.app.endpoint.EndpointDispatcher.ScheduleDrain;
import io.zyven.app.endpoint.EndpointDispatcher.Send;
import io.zyven.app.endpoint.EndpointDispatcher.Stop;
import io.zyven.protocol.Attempt;
import io.zyven.protocol.EndpointConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The endpoint dispatcher's decisions, without actors: each step is the time and one
 * message in, and the exact actions out.
 */
class EndpointDispatcherTest {

  private static final Instant T0 = Instant.parse("2025-03-01T12:00:00Z");
  private static final String ID = "endpoint-1";
  private static final int QUEUE_LIMIT = 2;
  private static final Duration QUEUE_TIMEOUT = Duration.ofSeconds(10);
  private static final int THRESHOLD = 2;
  private static final Duration COOLDOWN = Duration.ofSeconds(30);
  private static final Duration DISABLE_AFTER = Duration.ofHours(1);
  private static final Duration HAND_OFF_WAIT = Duration.ofSeconds(2);
  private static final int TIMEOUT_MS = 5000;
  private static final int MAX_ATTEMPTS = 10;

  private final EndpointDispatcher dispatcher =
      new EndpointDispatcher(
          ID,
          new EndpointDispatcher.Settings(
              QUEUE_LIMIT, QUEUE_TIMEOUT, new CircuitBreaker.Settings(THRESHOLD, COOLDOWN, Duration.ofMinutes(10)),
              DISABLE_AFTER, HAND_OFF_WAIT));

  private final Dispatch a = dispatch("a");
  private final Dispatch b = dispatch("b");
  private final Dispatch c = dispatch("c");
  private final Dispatch d = dispatch("d");

  // ---- limits ----

  @Test
  void sendsAtOnceUpToMaxInFlightAndQueuesTheRestUntilASlotIsFree() {
    EndpointConfig config = configure(config(1, null, true));

    assertEquals(List.of(started(a), new Send(a, config, false)), deliver(T0, a));
    assertEquals(List.of(new ScheduleDrain()), deliver(T0, b));
    assertEquals(List.of(), step(T0.plusMillis(100), Drain.INSTANCE), "no slot yet");

    assertEquals(
        List.of(outcome(a, T0.plusSeconds(1), 200), started(b), new Send(b, config, false), new CancelDrain()),
        done(T0.plusSeconds(1), a, 200, false));
  }

  @Test
  void aWithdrawnAttemptLeavesTheQueueUnsentAndTheNextOneGoesInItsPlace() {
    EndpointConfig config = configure(config(1, null, true));
    deliver(T0, a);
    deliver(T0, b);
    deliver(T0, c);

    assertEquals(List.of(), step(T0, new EndpointDispatcher.Withdraw(b.request().eventId())), "nothing sent, nothing answered");
    assertEquals(
        List.of(outcome(a, T0.plusSeconds(1), 200), started(c), new Send(c, config, false), new CancelDrain()),
        done(T0.plusSeconds(1), a, 200, false),
        "b was never sent nor answered: its event has dead-lettered it already");
  }

  @Test
  void theRateLimitHoldsRequestsUntilATokenComes() {
    EndpointConfig config = configure(config(10, 1, true));

    assertEquals(List.of(started(a), new Send(a, config, false)), deliver(T0, a));
    assertEquals(List.of(new ScheduleDrain()), deliver(T0, b), "a slot is free, but no token");
    assertEquals(List.of(), step(T0.plusMillis(500), Drain.INSTANCE));
    assertEquals(
        List.of(started(b), new Send(b, config, false), new CancelDrain()), step(T0.plusSeconds(1), Drain.INSTANCE));
  }

  @Test
  void aFullQueueDefersTheAttemptForAMoment() {
    configure(config(1, null, true));
    deliver(T0, a);
    deliver(T0, b);
    assertEquals(List.of(), deliver(T0, c));

    assertEquals(List.of(deferred(d, T0.plusSeconds(1), "endpoint queue full")), deliver(T0, d));
  }

  @Test
  void anAttemptWaitingPastTheQueueTimeoutIsDeferred() {
    configure(config(1, null, true));
    deliver(T0, a);
    deliver(T0, b);

    assertEquals(List.of(), step(T0.plus(QUEUE_TIMEOUT), Drain.INSTANCE), "at the timeout it still waits");
    Instant late = T0.plus(QUEUE_TIMEOUT).plusMillis(1);
    assertEquals(
        List.of(deferred(b, late.plusSeconds(1), "endpoint busy: waited too long in its queue"), new CancelDrain()),
        step(late, Drain.INSTANCE));
  }

  // ---- the circuit breaker ----

  @Test
  void theCircuitOpensAtTheThresholdAndDefersUntilTheCooldownEnds() {
    Instant opened = openCircuit();

    assertEquals(List.of(deferred(c, opened.plus(COOLDOWN), "circuit open")), deliver(opened.plusSeconds(1), c));
    assertEquals(
        List.of(deferred(d, opened.plus(COOLDOWN), "circuit open")),
        deliver(opened.plus(COOLDOWN).minusMillis(1), d));
  }

  @Test
  void onlyRetryableFailuresCountForTheBreaker() {
    configure(config(10, null, true));
    deliver(T0, a);
    deliver(T0, b);
    deliver(T0, c);

    assertEquals(List.of(outcome(a, T0, 503)), done(T0, a, 503, false));
    // A 400 is the receiver's answer, not an outage: it resets the count.
    assertEquals(List.of(outcome(b, T0, 400)), done(T0, b, 400, false));
    assertEquals(List.of(outcome(c, T0, 503)), done(T0, c, 503, false));
  }

  @Test
  void halfOpenSendsOneProbeAndTheOthersWaitForItsVerdict() {
    EndpointConfig config = config(10, null, true);
    Instant halfOpen = openCircuit().plus(COOLDOWN);

    assertEquals(List.of(started(c), new Send(c, config, true)), deliver(halfOpen, c));
    assertEquals(List.of(new ScheduleDrain()), deliver(halfOpen, d));
    assertEquals(List.of(), step(halfOpen.plusMillis(100), Drain.INSTANCE), "nothing goes while the probe is out");
  }

  @Test
  void aSuccessfulProbeClosesTheCircuitAndReleasesTheWaiting() {
    EndpointConfig config = config(10, null, true);
    Instant halfOpen = openCircuit().plus(COOLDOWN);
    deliver(halfOpen, c);
    deliver(halfOpen, d);

    Instant back = halfOpen.plusSeconds(1);
    assertEquals(
        List.of(
            new Journal(new EndpointEntity.CloseCircuit(0)),
            outcome(c, back, 200),
            started(d),
            new Send(d, config, false),
            new CancelDrain()),
        done(back, c, 200, true));
    assertEquals(List.of(started(a), new Send(a, config, false)), deliver(back, a));
  }

  @Test
  void aFailedProbeReopensTheCircuitWithTheCooldownDoubledAndDefersTheWaiting() {
    Instant halfOpen = openCircuit().plus(COOLDOWN);
    deliver(halfOpen, c);
    deliver(halfOpen, d);

    Instant back = halfOpen.plusSeconds(1);
    Instant reopenedUntil = back.plus(COOLDOWN.multipliedBy(2));
    // Open already: nothing new to journal.
    assertEquals(
        List.of(outcome(c, back, 503), deferred(d, reopenedUntil, "circuit open"), new CancelDrain()),
        done(back, c, 503, true));
    assertEquals(List.of(deferred(a, reopenedUntil, "circuit open")), deliver(back.plusSeconds(1), a));
  }

  // ---- transformations ----

  @Test
  void aCancelledOrFailedTransformationRepliesWithoutCountingAgainstTheBreakerAndFreesTheSlot() {
    EndpointConfig config = configure(config(1, null, true));
    deliver(T0, a);
    deliver(T0, b);
    deliver(T0, c);
    assertEquals(
        List.of(new Reply(a, new DispatchReply.Cancelled(ID, 1, "cancelled")), started(b), new Send(b, config, false)),
        notSent(T0, a, WebhookClient.NotSent.Kind.CANCELLED, "cancelled", false));
    assertEquals(
        List.of(refused(b, "transformation threw Error: x"), started(c), new Send(c, config, false), new CancelDrain()),
        notSent(T0, b, WebhookClient.NotSent.Kind.FAILED, "transformation threw Error: x", false));
    // Below the threshold of 2 after two "failures" had they counted: one 503 does not open it.
    assertEquals(List.of(outcome(c, T0, 503)), done(T0, c, 503, false));
    assertEquals(List.of(started(d), new Send(d, config, false)), deliver(T0, d));
  }

  @Test
  void busyTransformationRunnersDeferBriefly() {
    configure(config(1, null, true));
    deliver(T0, a);
    assertEquals(
        List.of(deferred(a, T0.plus(EndpointDispatcher.COME_BACK_AFTER), "busy")),
        notSent(T0, a, WebhookClient.NotSent.Kind.BUSY, "busy", false));
  }

  @Test
  void aProbeItsTransformationCancelledLetsTheNextRequestProbe() {
    EndpointConfig config = config(10, null, true);
    Instant halfOpen = openCircuit().plus(COOLDOWN);
    deliver(halfOpen, c);
    deliver(halfOpen, d);
    assertEquals(
        List.of(new Reply(c, new DispatchReply.Cancelled(ID, 1, "cancelled")), started(d), new Send(d, config, true),
            new CancelDrain()),
        notSent(halfOpen, c, WebhookClient.NotSent.Kind.CANCELLED, "cancelled", true));
  }

  @Test
  void anEndpointWithATransformationGivesTheEventItsTimeToo() {
    EndpointConfig plain = config(1, null, true);
    EndpointConfig transformed =
        new EndpointConfig(
            plain.id(), plain.tenantId(), plain.url(), null, plain.eventTypes(), plain.secret(), null, null, true, 1,
            null, TIMEOUT_MS, MAX_ATTEMPTS, Map.of(), T0, T0, 1, false, "function handler(w) { return w }", null);
    EndpointDispatcher withTime =
        new EndpointDispatcher(
            ID,
            new EndpointDispatcher.Settings(
                QUEUE_LIMIT, QUEUE_TIMEOUT, new CircuitBreaker.Settings(THRESHOLD, COOLDOWN, Duration.ofMinutes(10)),
                DISABLE_AFTER, HAND_OFF_WAIT, Duration.ofSeconds(2)));
    withTime.step(T0, new Configure(transformed, false));
    assertEquals(
        List.of(new Reply(a, new DispatchReply.Started(ID, 1, TIMEOUT_MS + 4000, MAX_ATTEMPTS)), new Send(a, transformed, false)),
        withTime.step(T0, new Deliver(a)));
  }

  @Test
  void aRestoredOpenCircuitProbesFirst() {
    EndpointConfig config = configure(config(10, null, true));
    step(T0, new RestoreCircuit(T0.minusSeconds(600)));

    assertEquals(List.of(started(a), new Send(a, config, true)), deliver(T0, a));
    assertEquals(List.of(new ScheduleDrain()), deliver(T0, b));
  }

  @Test
  void failingPastDisableAfterDisablesTheEndpoint() {
    Instant firstFailure = T0;
    openCircuit(); // failures at T0 and T0 + 1 s
    Instant later = firstFailure.plus(DISABLE_AFTER);
    deliver(later, c); // the probe

    assertEquals(
        List.of(
            new Journal(new EndpointEntity.Disable(0, "failing continuously since " + firstFailure)),
            outcome(c, later, 503)),
        done(later, c, 503, true));
    assertEquals(List.of(refused(d, "endpoint disabled")), deliver(later, d));
  }

  @Test
  void a410DisablesTheEndpointOnce() {
    configure(config(10, null, true));
    deliver(T0, a);
    deliver(T0, b);

    assertEquals(
        List.of(new Journal(new EndpointEntity.Disable(0, "410 Gone")), outcome(a, T0, 410)),
        done(T0, a, 410, false));
    assertEquals(List.of(outcome(b, T0, 410)), done(T0, b, 410, false), "disabling was asked for already");
    assertEquals(List.of(refused(c, "endpoint disabled")), deliver(T0, c));
  }

  @Test
  void a410OnTheProbeClosesTheCircuitAndDisables() {
    Instant halfOpen = openCircuit().plus(COOLDOWN);
    deliver(halfOpen, c);

    // The receiver is up (it answered), and says the endpoint is gone.
    assertEquals(
        List.of(
            new Journal(new EndpointEntity.CloseCircuit(0)),
            new Journal(new EndpointEntity.Disable(0, "410 Gone")),
            outcome(c, halfOpen, 410)),
        done(halfOpen, c, 410, true));
  }

  @Test
  void aDisabledADeletedAndANeverCreatedEndpointRefuse() {
    assertEquals(List.of(refused(a, "endpoint deleted")), deliver(T0, a), "never created");

    configure(config(10, null, false));
    assertEquals(List.of(refused(b, "endpoint disabled")), deliver(T0, b));

    step(T0, new Configure(config(10, null, false), true));
    assertEquals(List.of(refused(c, "endpoint deleted")), deliver(T0, c));
  }

  @Test
  void anEndpointPendingVerificationRefusesUntilItPasses() {
    EndpointConfig pending = config(10, null, true).withVerification(EndpointConfig.Verification.started(T0), T0);
    configure(pending);
    assertEquals(List.of(refused(a, "endpoint pending verification")), deliver(T0, a));

    configure(pending.withVerification(EndpointConfig.Verification.failed(T0, "HTTP 500"), T0));
    assertEquals(List.of(refused(b, "endpoint pending verification")), deliver(T0, b), "failed is still pending");

    EndpointConfig verified = pending.withVerification(EndpointConfig.Verification.passed(T0), T0);
    configure(verified);
    assertEquals(List.of(started(c), new Send(c, verified, false)), deliver(T0, c));
  }

  @Test
  void queuedAttemptsAreRefusedOnceTheEndpointIsDisabled() {
    configure(config(1, null, true));
    deliver(T0, a);
    deliver(T0, b);
    configure(config(1, null, false));

    assertEquals(
        List.of(outcome(a, T0, 200), refused(b, "endpoint disabled"), new CancelDrain()), done(T0, a, 200, false));
  }

  @Test
  void anEnableResetsTheCircuitAndChangesAfterItCarryTheNextEpoch() {
    Instant opened = openCircuit();
    step(opened, new ResetCircuit());
    EndpointConfig config = config(10, null, true);

    assertEquals(List.of(started(c), new Send(c, config, false)), deliver(opened, c), "closed again");
    deliver(opened, d);
    done(opened, c, 503, false);
    assertEquals(
        List.of(new Journal(new EndpointEntity.OpenCircuit(1, opened, "HTTP 503")), outcome(d, opened, 503)),
        done(opened, d, 503, false));
  }

  // ---- hand-off ----

  @Test
  void aHandOffDefersTheQueuedLetsTheInFlightFinishThenStops() {
    configure(config(2, null, true));
    deliver(T0, a);
    deliver(T0, b);
    deliver(T0, c);
    deliver(T0, d);

    Instant t = T0.plusSeconds(1);
    String moving = "endpoint moving to another node";
    assertEquals(
        List.of(
            deferred(c, t.plusSeconds(1), moving), deferred(d, t.plusSeconds(1), moving),
            new ScheduleHandOffDeadline(HAND_OFF_WAIT), new CancelDrain()),
        step(t, HandOff.INSTANCE));
    Dispatch e = dispatch("e");
    assertEquals(List.of(deferred(e, t.plusSeconds(1), moving)), deliver(t, e), "still arriving");

    assertEquals(List.of(outcome(a, t, 200)), done(t, a, 200, false));
    assertEquals(List.of(outcome(b, t, 503), new Stop()), done(t, b, 503, false));
  }

  @Test
  void aHandOffStopsWhenItsWaitIsOverEvenWithRequestsStillOut() {
    configure(config(2, null, true));
    deliver(T0, a);

    assertEquals(List.of(new ScheduleHandOffDeadline(HAND_OFF_WAIT)), step(T0, HandOff.INSTANCE));
    assertEquals(List.of(new Stop()), step(T0.plus(HAND_OFF_WAIT), HandOffOverdue.INSTANCE));
  }

  @Test
  void aLateHandOffDeadlineDoesNothingToAnEndpointThatIsNotStopping() {
    configure(config(2, null, true));
    deliver(T0, a);

    assertEquals(List.of(), step(T0, HandOffOverdue.INSTANCE));
  }

  @Test
  void aHandOffWithNothingInFlightStopsAtOnce() {
    configure(config(2, null, true));

    assertEquals(List.of(new Stop()), step(T0, HandOff.INSTANCE));
  }

  // ---- health ----

  @Test
  void healthShowsTheCircuitAndWhatIsInFlightAndQueued() {
    configure(config(1, null, true));
    deliver(T0, a);
    deliver(T0, b);

    assertEquals(
        List.of(new AnswerHealth(null, new EndpointEntity.Health(true, CircuitBreaker.Position.CLOSED, null, 1, 1))),
        step(T0, new GetHealth(true, null, null)));

    step(T0, new RestoreCircuit(T0.minusSeconds(60)));
    assertEquals(
        List.of(new AnswerHealth(null, new EndpointEntity.Health(true, CircuitBreaker.Position.HALF_OPEN, T0, 1, 1))),
        step(T0, new GetHealth(true, T0, null)));
  }

  // ---- helpers ----

  /** Two requests out at T0, failing at T0 and T0 + 1 s: the second opens the circuit. */
  private Instant openCircuit() {
    configure(config(10, null, true));
    deliver(T0, a);
    deliver(T0, b);
    assertEquals(List.of(outcome(a, T0, 503)), done(T0, a, 503, false));
    Instant opened = T0.plusSeconds(1);
    assertEquals(
        List.of(new Journal(new EndpointEntity.OpenCircuit(0, T0, "HTTP 503")), outcome(b, opened, 503)),
        done(opened, b, 503, false));
    return opened;
  }

  private EndpointConfig configure(EndpointConfig config) {
    assertEquals(List.of(), step(T0, new Configure(config, false)));
    return config;
  }

  private List<Action> deliver(Instant at, Dispatch dispatch) {
    return step(at, new Deliver(dispatch));
  }

  private List<Action> done(Instant at, Dispatch dispatch, int status, boolean probe) {
    return step(at, new RequestDone(dispatch, new WebhookClient.Result(attempt(at, status), null), probe));
  }

  private List<Action> notSent(Instant at, Dispatch dispatch, WebhookClient.NotSent.Kind kind, String reason, boolean probe) {
    return step(at, new RequestDone(dispatch, new WebhookClient.Result(null, null, new WebhookClient.NotSent(kind, reason)), probe));
  }

  private List<Action> step(Instant at, EndpointDispatcher.Message message) {
    return dispatcher.step(at, message);
  }

  private static EndpointConfig config(int maxInFlight, Integer ratePerSecond, boolean enabled) {
    return new EndpointConfig(
        ID, "tenant-1", "https://receiver.example.com/hook", null, List.of("*"), "secret", null, null, enabled,
        maxInFlight, ratePerSecond, TIMEOUT_MS, MAX_ATTEMPTS, Map.of(), T0, T0, 1);
  }

  private static Dispatch dispatch(String eventId) {
    // The reply address is the actor shell's business: the decisions never use it.
    return new Dispatch(new DeliveryRequest(eventId, "a.b", "{}", 1), null);
  }

  private static Attempt attempt(Instant at, int status) {
    return new Attempt(1, at, status, 5, status / 100 == 2 ? null : "HTTP " + status, null);
  }

  private static Reply started(Dispatch dispatch) {
    return new Reply(dispatch, new DispatchReply.Started(ID, 1, TIMEOUT_MS, MAX_ATTEMPTS));
  }

  private static Reply outcome(Dispatch dispatch, Instant at, int status) {
    return new Reply(dispatch, new DispatchReply.Outcome(ID, attempt(at, status), null, MAX_ATTEMPTS));
  }

  private static Reply deferred(Dispatch dispatch, Instant until, String reason) {
    return new Reply(dispatch, new DispatchReply.Deferred(ID, 1, until, reason));
  }

  private static Reply refused(Dispatch dispatch, String reason) {
    return new Reply(dispatch, new DispatchReply.Refused(ID, 1, reason));
  }
}
