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
}
