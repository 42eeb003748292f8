package io.zyven.protocol;

import java.util.Collection;

/**
 * The state of one (event, endpoint) delivery, and the only place that says which
 * transitions are legal:
 *
 * <pre>
 * RECEIVED ─▶ DISPATCHING ─┬─▶ DELIVERED
 *                          ├─▶ RETRY_SCHEDULED ─▶ DISPATCHING … (capped)
 *                          └─▶ DEAD_LETTERED ─(operator replay)─▶ DISPATCHING
 * </pre>
 *
 * Declaration order is progress order: an event's own status is the least advanced of
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

  public boolean canMoveTo(DeliveryStatus next) {
    return switch (this) {
      case RECEIVED, RETRY_SCHEDULED -> next == DISPATCHING;
      case DISPATCHING -> next == DELIVERED || next == RETRY_SCHEDULED || next == DEAD_LETTERED;
      // Only an operator's replay leaves a terminal state.
      case DELIVERED, DEAD_LETTERED -> next == DISPATCHING;
    };
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
