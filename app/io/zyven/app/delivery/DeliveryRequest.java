package io.zyven.app.delivery;

import io.zyven.protocol.CborSerializable;

/** What an event asks an endpoint to send: the event, and which attempt this is. */
public record DeliveryRequest(String eventId, String eventType, String payload, int attempt)
    implements CborSerializable {}
