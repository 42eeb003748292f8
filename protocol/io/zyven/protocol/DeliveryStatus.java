package io.zyven.protocol;

import java.util.Collection;

/**
 * The state of one (event, endpoint) delivery. Which transitions are legal is decided in
 * one place, the app's {@code delivery.DeliveryMachine}.
 *
 * <p>Declaration order is progress order: an event's own status is the least advanced of
 * its non-terminal deliveries. CANCELLED is terminal: the endpoint's transformation chose
 * not to send; it is neither a delivery nor a failure.
 */
public enum DeliveryStatus {
  RECEIVED,
  DISPATCHING,
  RETRY_SCHEDULED,
  DELIVERED,
  DEAD_LETTERED,
  CANCELLED;

  public boolean isTerminal() {
    return this == DELIVERED || this == DEAD_LETTERED || this == CANCELLED;
  }

  /**
   * An event's status from its deliveries: DELIVERED when every delivery is DELIVERED or
   * CANCELLED; DEAD_LETTERED when any is and the rest are terminal; otherwise the least
   * advanced non-terminal state. An event is never CANCELLED itself.
   */
  public static DeliveryStatus ofEvent(Collection<DeliveryStatus> deliveries) {
    DeliveryStatus leastAdvanced = null;
    boolean anyDeadLettered = false;
    for (DeliveryStatus s : deliveries) {
      if (s == DEAD_LETTERED) anyDeadLettered = true;
      if (!s.isTerminal() && (leastAdvanced == null || s.compareTo(leastAdvanced) < 0)) {
        leastAdvanced = s;
      }
    }
    if (leastAdvanced != null) return leastAdvanced;
    return anyDeadLettered ? DEAD_LETTERED : DELIVERED;
  }
}
