package io.zyven.app.delivery;

import io.zyven.protocol.CborSerializable;

/**
 * What an event asks an endpoint to send: the event, and which attempt this is. {@code
 * traceparent} is the event's trace context, which the attempt continues (null for an event
 * accepted before traces were kept: the attempt starts a trace of its own).
 */
public record DeliveryRequest(String eventId, String eventType, String payload, int attempt, String traceparent)
    implements CborSerializable {

  /** Without a trace context. */
  public DeliveryRequest(String eventId, String eventType, String payload, int attempt) {
    this(eventId, eventType, payload, attempt, null);
  }
}
