package io.zyven.protocol;

import java.time.Instant;

/** Everything an endpoint entity journals: config changes are audited like deliveries. */
public sealed interface EndpointJournal extends CborSerializable {

  Instant at();

  record Created(EndpointConfig config, Instant at) implements EndpointJournal {}

  record Updated(EndpointConfig config, Instant at) implements EndpointJournal {}

  record Deleted(Instant at) implements EndpointJournal {}

  /** Disabled by Zyven itself (410 Gone, or failing for too long); {@code config} is the new one. */
  record Disabled(EndpointConfig config, String reason, Instant at) implements EndpointJournal {}

  /** Re-enabled by the tenant. */
  record Enabled(EndpointConfig config, Instant at) implements EndpointJournal {}

  /** A new secret; the previous one keeps signing beside it for a while. */
  record SecretRotated(EndpointConfig config, Instant at) implements EndpointJournal {}

  /**
   * The same secrets sealed again under the current master key (after a key rotation, or
   * sealed for the first time when journaled in plain text before sealing existed).
   */
  record SecretsResealed(EndpointConfig config, Instant at) implements EndpointJournal {}

  /** The circuit breaker opened: the endpoint has failed without a success since {@code failingSince}. */
  record CircuitOpened(Instant failingSince, String reason, Instant at) implements EndpointJournal {}

  /** A request succeeded again and the circuit closed. */
  record CircuitClosed(Instant at) implements EndpointJournal {}

  /**
   * Challenge-response verification of the endpoint's URL was asked for (again): the
   * endpoint is pending until it echoes a challenge. {@code config} is the new one.
   */
  record VerificationStarted(EndpointConfig config, Instant at) implements EndpointJournal {}

  /** The endpoint echoed its challenge: it receives events from now on. */
  record VerificationPassed(EndpointConfig config, Instant at) implements EndpointJournal {}

  /** The endpoint did not echo its challenge; {@code config.verification().error()} says why. */
  record VerificationFailed(EndpointConfig config, Instant at) implements EndpointJournal {}
}
