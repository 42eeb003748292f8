package io.zyven.app.delivery;

import io.zyven.protocol.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * An event's request to an endpoint: send this attempt, and answer how it went. It lives
 * here, between the two entities, so that neither package depends on the other.
 */
public record Dispatch(DeliveryRequest request, ActorRef<DispatchReply> replyTo)
    implements CborSerializable {

  /** How an event reaches the endpoints it delivers to (through sharding, or a test probe). */
  @FunctionalInterface
  public interface Endpoints {
    void dispatch(String endpointId, Dispatch dispatch);

    /**
     * Drop the event's attempts still waiting at the endpoint, not yet sent. Sent after the
     * dispatch it withdraws, from the same event, so it arrives after it.
     */
    default void withdraw(String endpointId, String eventId) {}
  }
}
