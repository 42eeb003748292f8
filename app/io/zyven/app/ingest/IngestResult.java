package io.zyven.app.ingest;

/** How an ingest went. Only {@link Accepted} wrote anything. */
public sealed interface IngestResult {

  /** A new event, journaled with its first attempts. */
  record Accepted(String eventId) implements IngestResult {}

  /** The key was accepted before with the same body: the same event, nothing new written. */
  record Replayed(String eventId) implements IngestResult {}

  /** The key was accepted before with a different body. */
  record KeyConflict(String eventId) implements IngestResult {}

  /** An untargeted event that no enabled endpoint subscribes to. */
  record NoSubscribers(String type) implements IngestResult {}

  /** A targeted endpoint that is unknown, disabled, another tenant's, or not even an id. */
  record EndpointUnavailable(String endpointId) implements IngestResult {}
}
