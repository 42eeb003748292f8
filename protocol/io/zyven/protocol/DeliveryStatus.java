package io.zyven.protocol;

import java.util.Collection;

/**
 * The state of one (event, endpoint) delivery. Which transitions are legal is decided in
 * one place, the app's {@code delivery.DeliveryMachine}.
 *
 * <p>Declaration order is progress order: an event's own status is the least advanced of
 * its non-terminal deliveries.
 */
public enum DeliveryStatus {
  RECEIVED,
  DISPATCHING,
  RETRY_SCHEDULED,
  DELIVERED,
  DEAD_LETTERED;

  public boolean isTerminal() {
    return this == DELIVERED || this == DEAD_LETTERED;
  }

  /**
   * An event's status from its deliveries: DELIVERED when every delivery is; DEAD_LETTERED
   * when any is and the rest are terminal; otherwise the least advanced non-terminal state.
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
