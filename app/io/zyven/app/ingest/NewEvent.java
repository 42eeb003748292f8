package io.zyven.app.ingest;

/**
 * An event as a producer sends it, already checked for shape. {@code payload} is the JSON
 * text exactly as sent (it is what gets signed and delivered); {@code endpointId}, when not
 * null, targets that one endpoint.
 */
public record NewEvent(String type, String payload, String endpointId) {}
