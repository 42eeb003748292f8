package io.zyven.protocol;

/**
 * Marker for messages and journaled events that cross the wire or reach the journal.
 * Bound to Pekko's Jackson CBOR serializer in {@code serialization.conf}.
 */
public interface CborSerializable {}
