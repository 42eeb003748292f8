package io.zyven.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DeliveryStatusTest {

  /** Every (from, to) pair, so a transition added or lost anywhere fails a row. */
  @ParameterizedTest(name = "{0} -> {1}: {2}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          RECEIVED        | RECEIVED        | false
          RECEIVED        | DISPATCHING     | true
          RECEIVED        | RETRY_SCHEDULED | false
          RECEIVED        | DELIVERED       | false
          RECEIVED        | DEAD_LETTERED   | false
          DISPATCHING     | RECEIVED        | false
          DISPATCHING     | DISPATCHING     | false
          DISPATCHING     | RETRY_SCHEDULED | true
          DISPATCHING     | DELIVERED       | true
          DISPATCHING     | DEAD_LETTERED   | true
          RETRY_SCHEDULED | RECEIVED        | false
          RETRY_SCHEDULED | DISPATCHING     | true
          RETRY_SCHEDULED | RETRY_SCHEDULED | false
          RETRY_SCHEDULED | DELIVERED       | false
          RETRY_SCHEDULED | DEAD_LETTERED   | false
          DELIVERED       | RECEIVED        | false
          DELIVERED       | DISPATCHING     | true
          DELIVERED       | RETRY_SCHEDULED | false
          DELIVERED       | DELIVERED       | false
          DELIVERED       | DEAD_LETTERED   | false
          DEAD_LETTERED   | RECEIVED        | false
          DEAD_LETTERED   | DISPATCHING     | true
          DEAD_LETTERED   | RETRY_SCHEDULED | false
          DEAD_LETTERED   | DELIVERED       | false
          DEAD_LETTERED   | DEAD_LETTERED   | false
          """)
  void canMoveTo(DeliveryStatus from, DeliveryStatus to, boolean legal) {
    assertEquals(legal, from.canMoveTo(to));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          RECEIVED                          | RECEIVED
          DISPATCHING                       | DISPATCHING
          RETRY_SCHEDULED                   | RETRY_SCHEDULED
          DELIVERED                         | DELIVERED
          DEAD_LETTERED                     | DEAD_LETTERED
          DELIVERED DELIVERED               | DELIVERED
          DELIVERED DEAD_LETTERED           | DEAD_LETTERED
          DEAD_LETTERED DEAD_LETTERED       | DEAD_LETTERED
          DELIVERED RETRY_SCHEDULED         | RETRY_SCHEDULED
          DEAD_LETTERED RETRY_SCHEDULED     | RETRY_SCHEDULED
          DEAD_LETTERED DISPATCHING         | DISPATCHING
          RETRY_SCHEDULED DISPATCHING       | DISPATCHING
          DISPATCHING RECEIVED              | RECEIVED
          DELIVERED RETRY_SCHEDULED RECEIVED | RECEIVED
          """)
  void ofEventIsTheLeastAdvancedOpenDeliveryElseDeadLetteredElseDelivered(
      String deliveries, DeliveryStatus expected) {
    assertEquals(expected, DeliveryStatus.ofEvent(statuses(deliveries)));
  }

  private static List<DeliveryStatus> statuses(String spaceSeparated) {
    return Arrays.stream(spaceSeparated.trim().split("\\s+")).map(DeliveryStatus::valueOf).toList();
  }
}
