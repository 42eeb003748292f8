package io.zyven.protocol;

import java.time.Instant;

/** Everything an endpoint entity journals: config changes are audited like deliveries. */
public sealed interface EndpointJournal extends CborSerializable {

  Instant at();

  record Created(EndpointConfig config, Instant at) implements EndpointJournal {}

  record Updated(EndpointConfig config, Instant at) implements EndpointJournal {}

  record Deleted(Instant at) implements EndpointJournal {}
}
