package io.zyven.app.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.Schema;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The schema engine's own rules: what a valid schema is, pointers, and its bounds. */
class EventSchemasTest {

  @Test
  void invalidSchemasAreRefusedWithAReason() {
    assertThrows(EventSchemas.InvalidSchema.class, () -> EventSchemas.compile("not json"));
    assertThrows(EventSchemas.InvalidSchema.class, () -> EventSchemas.compile("[1]"));
    EventSchemas.InvalidSchema e =
        assertThrows(EventSchemas.InvalidSchema.class, () -> EventSchemas.compile("{\"type\": 5}"));
    assertTrue(e.getMessage().contains("2020-12"), e.getMessage());
    assertThrows(EventSchemas.InvalidSchema.class, () -> EventSchemas.compile("{\"required\": \"a\"}"));
  }

  @Test
  void aRemoteRefIsNeverFetched() {
    assertThrows(
        EventSchemas.InvalidSchema.class,
        () -> EventSchemas.compile("{\"$ref\": \"http://127.0.0.1:9/schema.json\"}"));
  }

  @Test
  void pointersNameEachViolation() {
    Schema s = EventSchemas.compile("""
        {"type":"object","required":["id","customer"],"additionalProperties":false,
         "properties":{"id":{"type":"string","pattern":"^ord_[0-9]+$"},
           "status":{"enum":["new","paid"]},
           "customer":{"type":"object","required":["email"],"properties":{"email":{"type":"string"}}}}}
        """);
    List<EventSchemas.Violation> v =
        EventSchemas.validate(s, "{\"id\":\"x\",\"status\":\"lost\",\"customer\":{},\"extra\":1}");
    List<String> pointers = v.stream().map(EventSchemas.Violation::pointer).sorted().toList();
    assertEquals(List.of("/customer/email", "/extra", "/id", "/status"), pointers, v.toString());
    assertEquals(List.of(), EventSchemas.validate(s, "{\"id\":\"ord_1\",\"customer\":{\"email\":\"a\"}}"));
  }

  @Test
  void deepPayloadsAreReadAndARecursiveSchemaStopsAtItsDepthLimit() {
    String deep = "{\"a\":".repeat(900) + "1" + "}".repeat(900);
    assertEquals(List.of(), EventSchemas.validate(EventSchemas.compile("{\"type\":\"object\"}"), deep));
    Schema recursive = EventSchemas.compile("{\"type\":\"object\",\"additionalProperties\":{\"$ref\":\"#\"}}");
    assertThrows(EventSchemas.TooComplex.class, () -> EventSchemas.validate(recursive, deep));
  }

  @Test
  void aBacktrackingPatternGivesUpWithinItsTimeInsteadOfHoldingTheThread() {
    // Without the deadline this takes the JDK's regex seconds to minutes (a backreference defeats its memo).
    Schema s = EventSchemas.compile("{\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"^(\\\\w+)*\\\\1$\"}}}");
    long start = System.nanoTime();
    assertThrows(EventSchemas.TooComplex.class,
        () -> EventSchemas.validate(s, "{\"a\":\"abcdefghijklmnopqrstuvwxyz0123456789!\"}"));
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(millis < 1000, millis + " ms");
  }
}
