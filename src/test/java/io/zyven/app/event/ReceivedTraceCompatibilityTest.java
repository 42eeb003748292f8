package io.zyven.app.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.zyven.protocol.EventJournal;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The journal's {@code Received} carries the event's trace context, and journal rows
 * written before it was there still read, with none. Checked with the node's own
 * serialization (jackson-cbor), as the journal writes and reads rows.
 */
class ReceivedTraceCompatibilityTest {
  private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  private static ActorSystem system;
  private static Serialization serialization;

  @BeforeAll
  static void start() {
    system = ActorSystem.create("received-compat", ConfigFactory.parseString("pekko.actor.provider = local")
        .withFallback(ConfigFactory.load()));
    serialization = SerializationExtension.get(system);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
  }

  private static EventJournal.Received received(String traceparent) {
    return new EventJournal.Received(
        "e-1", "t-1", "order.paid", "{\"n\":1}", "key-1", "hash", "request-1", List.of("ep-1"),
        Instant.parse("2026-01-01T00:00:00Z"), true, traceparent);
  }

  @Test
  void theTraceContextIsJournaledWithTheEvent() {
    EventJournal.Received r = received(TRACEPARENT);
    Serializer serializer = serialization.findSerializerFor(r);
    Object read = serialization.deserialize(serializer.toBinary(r), serializer.identifier(),
        Serializers.manifestFor(serializer, r)).get();
    assertEquals(r, read);
    assertEquals(TRACEPARENT, ((EventJournal.Received) read).withoutPayload().traceparent(), "an expunge keeps it");
  }

  @Test
  void aRowWrittenBeforeTracesWereKeptReadsWithNone() throws Exception {
    EventJournal.Received r = received(TRACEPARENT);
    Serializer serializer = serialization.findSerializerFor(r);
    // The row as an older version wrote it: the same record without the field.
    ObjectMapper cbor = JacksonObjectMapperProvider.get(system).getOrCreate("jackson-cbor", Optional.empty());
    ObjectNode tree = cbor.valueToTree(r);
    assertFalse(tree.remove("traceparent") == null, "the field is written under this name");
    byte[] oldRow = cbor.writeValueAsBytes(tree);

    EventJournal.Received read = (EventJournal.Received) serialization.deserialize(
        oldRow, serializer.identifier(), Serializers.manifestFor(serializer, r)).get();
    assertNull(read.traceparent());
    assertEquals(received(null), read);
  }
}
