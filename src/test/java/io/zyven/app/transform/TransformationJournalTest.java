package io.zyven.app.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.zyven.protocol.EndpointConfig;
import io.zyven.protocol.EventJournal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
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
 * An endpoint's transformation and a delivery's Cancelled are journaled with the node's own
 * serialization (jackson-cbor), and endpoint rows written before transformations existed
 * still read, with none.
 */
class TransformationJournalTest {
  private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");

  private static ActorSystem system;
  private static Serialization serialization;

  @BeforeAll
  static void start() {
    system = ActorSystem.create("transformation-journal", ConfigFactory.parseString("pekko.actor.provider = local")
        .withFallback(ConfigFactory.load()));
    serialization = SerializationExtension.get(system);
  }

  @AfterAll
  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static EndpointConfig config(String transformation) {
    return new EndpointConfig(
        "ep-1", "t-1", "https://example.com/hook", null, List.of(), "v1:k:sealed", null, null, true, 10, null,
        30000, 9, Map.of(), T, T, 1, false, transformation, null);
  }

  private static Object roundTrip(Object value, byte[] bytes) {
    Serializer serializer = serialization.findSerializerFor(value);
    return serialization.deserialize(
        bytes != null ? bytes : serializer.toBinary(value), serializer.identifier(),
        Serializers.manifestFor(serializer, value)).get();
  }

  @Test
  void theTransformationAndACancelAreJournaled() {
    EndpointConfig c = config("function handler(w) { return w }");
    assertEquals(c, roundTrip(c, null));
    EventJournal.Cancelled cancelled = new EventJournal.Cancelled("ep-1", 2, "cancelled by the endpoint's transformation", T);
    assertEquals(cancelled, roundTrip(cancelled, null));
  }

  @Test
  void anEndpointWrittenBeforeTransformationsReadsWithNone() throws Exception {
    EndpointConfig c = config("function handler(w) { return w }");
    ObjectMapper cbor = JacksonObjectMapperProvider.get(system).getOrCreate("jackson-cbor", Optional.empty());
    ObjectNode tree = cbor.valueToTree(c);
    assertEquals("function handler(w) { return w }", tree.remove("transformation").asText(), "written under this name");
    tree.remove("verification");
    EndpointConfig read = (EndpointConfig) roundTrip(c, cbor.writeValueAsBytes(tree));
    assertNull(read.transformation());
    assertEquals(config(null), read);
  }
}
