package io.zyven.app.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.endpoint.DeliveryGate.Limits;
import io.zyven.app.endpoint.DeliveryGate.Released;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** One endpoint's admission of requests, on a fake clock (the instants passed in). */
class DeliveryGateTest {

  private static final Instant T0 = Instant.parse("2025-03-01T12:00:00Z");
  private static final Duration QUEUE_TIMEOUT = Duration.ofSeconds(10);

  private final DeliveryGate<String> gate = new DeliveryGate<>();

  private static Limits limits(int maxInFlight, Integer rate, int queueLimit) {
    return new Limits(maxInFlight, rate, queueLimit, QUEUE_TIMEOUT);
  }

  @Test
  void admitsUpToMaxInFlightThenQueues() {
    Limits l = limits(2, null, 10);

    assertEquals(Boolean.TRUE, gate.offer("a", T0, l));
    assertEquals(Boolean.TRUE, gate.offer("b", T0, l));
    assertEquals(Boolean.FALSE, gate.offer("c", T0, l));
    assertEquals(Boolean.FALSE, gate.offer("d", T0, l));
    assertEquals(2, gate.inFlight());
    assertTrue(gate.hasWaiting());

    // Nothing finished: nothing more may go.
    assertEquals(List.of(), gate.drain(T0, l, true).toSend());
    assertEquals(2, gate.inFlight());
  }

  @Test
  void releasesWaitingItemsInOrderAsRequestsFinish() {
    Limits l = limits(2, null, 10);
    for (String s : List.of("a", "b", "c", "d", "e")) gate.offer(s, T0, l);

    gate.finished();
    assertEquals(List.of("c"), gate.drain(T0.plusMillis(1), l, true).toSend());
    gate.finished();
    gate.finished();
    assertEquals(List.of("d", "e"), gate.drain(T0.plusMillis(2), l, true).toSend());
    assertFalse(gate.hasWaiting());
    assertEquals(2, gate.inFlight());
  }

  @Test
  void aNewOfferQueuesBehindWaitingItemsEvenWithAFreeSlot() {
    Limits l = limits(1, null, 10);
    gate.offer("a", T0, l);
    gate.offer("b", T0, l);
    gate.finished(); // a slot is free, but b was first

    assertEquals(Boolean.FALSE, gate.offer("c", T0, l));
    assertEquals(List.of("b"), gate.drain(T0, l, true).toSend());
    gate.finished();
    assertEquals(List.of("c"), gate.drain(T0, l, true).toSend());
  }

  @Test
  void neverMoreThanMaxInFlight() {
    int max = 3;
    Limits l = limits(max, null, 1000);
    Random random = new Random(42);
    List<String> sent = new ArrayList<>();
    List<String> offered = new ArrayList<>();
    int inFlight = 0;
    Instant t = T0;
    for (int i = 0; i < 2000; i++) {
      t = t.plusMillis(1);
      int op = random.nextInt(3);
      if (op == 0) {
        String item = "i" + i;
        offered.add(item);
        Boolean now = gate.offer(item, t, l);
        if (Boolean.TRUE.equals(now)) {
          sent.add(item);
          inFlight++;
        }
      } else if (op == 1 && inFlight > 0) {
        gate.finished();
        inFlight--;
      } else {
        List<String> released = gate.drain(t, l, true).toSend();
        sent.addAll(released);
        inFlight += released.size();
      }
      assertTrue(inFlight <= max, "in flight " + inFlight + " > " + max);
      assertEquals(inFlight, gate.inFlight());
    }
    // Whatever went, went in the order it came.
    assertEquals(offered.subList(0, sent.size()), sent);
  }

  @Test
  void aFullQueueRefusesTheOffer() {
    Limits l = limits(1, null, 2);

    assertEquals(Boolean.TRUE, gate.offer("a", T0, l));
    assertEquals(Boolean.FALSE, gate.offer("b", T0, l));
    assertEquals(Boolean.FALSE, gate.offer("c", T0, l));
    assertNull(gate.offer("d", T0, l));
    assertEquals(1, gate.inFlight());

    // Room again once one leaves the queue.
    gate.finished();
    assertEquals(List.of("b"), gate.drain(T0, l, true).toSend());
    assertEquals(Boolean.FALSE, gate.offer("e", T0, l));
  }

  @Test
  void itemsThatWaitedTooLongExpire() {
    Limits l = limits(1, null, 10);
    gate.offer("a", T0, l);
    gate.offer("b", T0, l);
    gate.offer("c", T0.plusSeconds(5), l);

    // Exactly at the timeout: still waiting.
    Released<String> atLimit = gate.drain(T0.plus(QUEUE_TIMEOUT), l, true);
    assertEquals(List.of(), atLimit.expired());
    assertEquals(List.of(), atLimit.toSend());

    Released<String> later = gate.drain(T0.plus(QUEUE_TIMEOUT).plusMillis(1), l, true);
    assertEquals(List.of("b"), later.expired());
    assertEquals(List.of(), later.toSend());
    assertTrue(gate.hasWaiting());

    gate.finished();
    Released<String> free = gate.drain(T0.plus(QUEUE_TIMEOUT).plusMillis(2), l, true);
    assertEquals(List.of("c"), free.toSend());
    assertEquals(List.of(), free.expired());
  }

  @Test
  void expiredItemsDoNotTakeASlot() {
    Limits l = limits(1, null, 10);
    gate.offer("a", T0, l);
    gate.offer("b", T0, l);
    gate.offer("c", T0.plusSeconds(9), l);
    gate.finished();

    Released<String> r = gate.drain(T0.plusSeconds(11), l, true);
    assertEquals(List.of("b"), r.expired());
    assertEquals(List.of("c"), r.toSend());
    assertEquals(1, gate.inFlight());
  }

  @Test
  void whileHeldNothingIsReleasedButWaitingItemsStillExpire() {
    Limits l = limits(5, null, 10);
    assertTrue(gate.hold("a", T0, l));
    assertTrue(gate.hold("b", T0.plusSeconds(5), l));
    assertTrue(gate.hold("c", T0.plusSeconds(6), l));

    // Slots are free, but a circuit probe is out: nothing goes.
    Released<String> held = gate.drain(T0.plusSeconds(15).plusMillis(500), l, false);
    assertEquals(List.of(), held.toSend());
    assertEquals(List.of("a", "b"), held.expired());

    // Released again, in order.
    assertEquals(List.of("c"), gate.drain(T0.plusSeconds(16), l, true).toSend());
  }

  @Test
  void holdQueuesWhateverTheLimitsButNotPastTheQueueLimit() {
    Limits l = limits(1, null, 2);
    assertTrue(gate.hold("a", T0, l));
    assertTrue(gate.hold("b", T0, l));
    assertFalse(gate.hold("c", T0, l));
    assertEquals(0, gate.inFlight());
    assertEquals(List.of("a"), gate.drain(T0, l, true).toSend());
  }

  @Test
  void rateLimitAdmitsABurstThenOnePerInterval() {
    Limits l = limits(100, 5, 100);

    for (int i = 0; i < 5; i++) {
      assertEquals(Boolean.TRUE, gate.offer("r" + i, T0, l), "immediate admission " + i);
    }
    assertEquals(Boolean.FALSE, gate.offer("r5", T0, l));
    assertEquals(Boolean.FALSE, gate.offer("r6", T0, l));
    assertEquals(5, gate.inFlight());

    // 5 per second: one token every 200 ms.
    assertEquals(List.of(), gate.drain(T0.plusMillis(199), l, true).toSend());
    assertEquals(List.of("r5"), gate.drain(T0.plusMillis(200), l, true).toSend());
    assertEquals(List.of(), gate.drain(T0.plusMillis(200), l, true).toSend());
    assertEquals(List.of("r6"), gate.drain(T0.plusMillis(400), l, true).toSend());
    assertEquals(7, gate.inFlight());
  }

  @Test
  void rateLimitRefillsOnlyUpToOneSecondsWorth() {
    Limits l = limits(100, 5, 100);
    gate.offer("x", T0, l);

    // After a long quiet spell the bucket holds 5, not more.
    Instant later = T0.plusSeconds(60);
    int admitted = 0;
    for (int i = 0; i < 10; i++) {
      if (Boolean.TRUE.equals(gate.offer("y" + i, later, l))) admitted++;
    }
    assertEquals(5, admitted);
  }
}
