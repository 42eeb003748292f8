package io.zyven.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DeliveryStatusTest {

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
