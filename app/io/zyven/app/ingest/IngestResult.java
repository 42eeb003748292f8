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

  /** The type is archived in the tenant's catalogue, or not in it while the tenant requires that. */
  record TypeRefused(String type, boolean archived) implements IngestResult {}

  /** The payload does not match the schema of its type; at most a bounded number of violations. */
  record SchemaViolation(String type, java.util.List<EventSchemas.Violation> violations) implements IngestResult {}

  /** The payload could not be checked against its type's schema within the validator's bounds. */
  record SchemaTooComplex(String type) implements IngestResult {}
}
