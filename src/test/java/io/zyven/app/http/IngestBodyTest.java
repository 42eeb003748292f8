package io.zyven.app.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The streaming parser of {@code POST /v1/events} bodies. */
class IngestBodyTest {

  private static IngestBody parse(String body) {
    return IngestBody.parse(body.getBytes(StandardCharsets.UTF_8));
  }

  private static String bodyWith(String payload) {
    return "{\"type\":\"user.created\",\"payload\":" + payload + "}";
  }

  /** Parsing {@code body} fails with a 400 problem. */
  private static void assertBadRequest(String body) {
    Problems.ApiException e =
        assertThrows(Problems.ApiException.class, () -> parse(body), body);
    assertEquals(400, e.response.status().intValue(), body);
  }

  // ---- payload bytes ----

  @Test
  void payloadKeepsItsWhitespaceExactly() {
    String payload = "{ \"a\" :  1 ,\n\t\"b\":\r\n2  }";
    assertEquals(payload, parse(bodyWith(payload)).payload());
  }

  @Test
  void payloadKeepsNumbersAsWritten() {
    String payload = "{\"price\":1.50,\"big\":12345678901234567890,\"exp\":1E+2,\"neg\":-0.0}";
    assertEquals(payload, parse(bodyWith(payload)).payload());
  }

  @Test
  void payloadKeepsUnicodeEscapesAndRawUnicode() {
    String payload = "{\"s\":\"\\u00e9\\u20ac\",\"raw\":\"é€😀\",\"esc\":\"a\\\"b\\\\c\\n\"}";
    assertEquals(payload, parse(bodyWith(payload)).payload());
  }

  @Test
  void payloadKeepsNestedObjectsAndArrays() {
    String payload = "{\"a\":{\"b\":{\"c\":[1,[2,{\"d\":[]}],{}]}},\"e\":[{},{\"f\":null}],\"g\":true}";
    assertEquals(payload, parse(bodyWith(payload)).payload());
  }

  @Test
  void payloadKeepsStringsContainingBraces() {
    String payload = "{\"x\":\"}{\",\"y\":\"]}\",\"z\":\"{\\\"k\\\":1}\"}";
    assertEquals(payload, parse(bodyWith(payload)).payload());
  }

  @Test
  void emptyPayloadObjectIsKept() {
    assertEquals("{}", parse(bodyWith("{}")).payload());
    assertEquals("{ }", parse(bodyWith("{ }")).payload());
  }

  @Test
  void payloadMayComeFirstAndSurroundingWhitespaceIsNotPartOfIt() {
    String payload = "{\"n\":1}";
    IngestBody b = parse("  {  \"payload\" :  " + payload + "  , \"type\" : \"a.b\" }  \n");
    assertEquals(payload, b.payload());
    assertEquals("a.b", b.type());
  }

  // ---- fields ----

  @Test
  void typePayloadAndEndpointIdAreParsed() {
    IngestBody b =
        parse("{\"type\":\"order.paid:v2-x_y\",\"payload\":{\"id\":7},\"endpoint_id\":\"0b7c1e7e-0000-4000-8000-000000000001\"}");
    assertEquals("order.paid:v2-x_y", b.type());
    assertEquals("{\"id\":7}", b.payload());
    assertEquals("0b7c1e7e-0000-4000-8000-000000000001", b.endpointId());
  }

  @Test
  void endpointIdIsOptional() {
    assertNull(parse(bodyWith("{}")).endpointId());
  }

  @Test
  void endpointIdNullIsAccepted() {
    IngestBody b = parse("{\"type\":\"user.created\",\"payload\":{},\"endpoint_id\":null}");
    assertNull(b.endpointId());
    assertEquals("user.created", b.type());
  }

  @Test
  void typeOf128CharactersIsAccepted() {
    String type = "t".repeat(128);
    assertEquals(type, parse("{\"type\":\"" + type + "\",\"payload\":{}}").type());
  }

  // ---- errors: 400 ----

  @Test
  void missingTypeIs400() {
    assertBadRequest("{\"payload\":{}}");
  }

  @Test
  void badTypeIs400() {
    assertBadRequest("{\"type\":\"user created\",\"payload\":{}}");
    assertBadRequest("{\"type\":\"\",\"payload\":{}}");
    assertBadRequest("{\"type\":\"user/created\",\"payload\":{}}");
    assertBadRequest("{\"type\":\"user.*\",\"payload\":{}}");
    assertBadRequest("{\"type\":\"" + "t".repeat(129) + "\",\"payload\":{}}");
    assertBadRequest("{\"type\":7,\"payload\":{}}");
    assertBadRequest("{\"type\":null,\"payload\":{}}");
  }

  @Test
  void missingPayloadIs400() {
    assertBadRequest("{\"type\":\"user.created\"}");
  }

  @Test
  void payloadArrayIs400() {
    assertBadRequest(bodyWith("[1,2]"));
  }

  @Test
  void payloadThatIsAScalarOrNullIs400() {
    assertBadRequest(bodyWith("\"{}\""));
    assertBadRequest(bodyWith("42"));
    assertBadRequest(bodyWith("null"));
  }

  @Test
  void endpointIdThatIsNotAStringIs400() {
    assertBadRequest("{\"type\":\"user.created\",\"payload\":{},\"endpoint_id\":42}");
  }

  @Test
  void duplicateFieldIs400() {
    assertBadRequest("{\"type\":\"user.created\",\"type\":\"user.deleted\",\"payload\":{}}");
    assertBadRequest("{\"type\":\"user.created\",\"payload\":{},\"payload\":{\"a\":1}}");
  }

  @Test
  void unknownFieldIs400() {
    assertBadRequest("{\"type\":\"user.created\",\"payload\":{},\"endpoint\":\"x\"}");
  }

  @Test
  void trailingContentIs400() {
    assertBadRequest(bodyWith("{}") + "{}");
    assertBadRequest(bodyWith("{}") + " x");
    assertBadRequest(bodyWith("{}") + "[]");
  }

  @Test
  void bodyThatIsNotAnObjectIs400() {
    assertBadRequest("[]");
    assertBadRequest("\"text\"");
    assertBadRequest("42");
    assertBadRequest("null");
    assertBadRequest("");
  }

  /**
   * The documented order within the 400s: malformed JSON, then {@code type}, then
   * {@code payload}; an unknown field before either, as it may be a misspelt one.
   */
  @Test
  void problemsAreReportedInTheDesignedOrder() {
    assertProblem("{\"payload\":[1],\"type\":\"bad type!\"}", "invalid-request", "type must match");
    assertProblem("{\"payload\":1,\"type\":7}", "invalid-request", "type must be a string");
    assertProblem("{\"payload\":[1],\"type\":\"a.b\",", "malformed-json", "unexpected end of input at line 1, column 29");
    assertProblem("{\"typ\":\"a.b\",\"payload\":{},", "malformed-json", "unexpected end of input");
    assertProblem("{\"payload\":[1],\"type\":\"a.b\"}", "invalid-request", "payload must be a JSON object");
    assertProblem("{\"typ\":\"a.b\",\"payload\":[1]}", "invalid-request", "unknown field 'typ'");
  }

  private static void assertProblem(String body, String slug, String detailStart) {
    Problems.ApiException e = assertThrows(Problems.ApiException.class, () -> parse(body), body);
    String problem = ((org.apache.pekko.http.javadsl.model.HttpEntity.Strict) e.response.entity()).getData().utf8String();
    assertTrue(problem.contains("\"type\":\"urn:zyven:problem:" + slug + "\""), body + " -> " + problem);
    assertTrue(problem.contains("\"detail\":\"" + detailStart), body + " -> " + problem);
  }

  @Test
  void malformedOrTruncatedJsonIs400() {
    assertBadRequest("{\"type\":");
    assertBadRequest("{\"type\":\"user.created\",\"payload\":{\"x\":1}");
    assertBadRequest("{\"type\":\"user.created\",\"payload\":{\"x\":1");
    assertBadRequest("{type:\"user.created\",\"payload\":{}}");
  }
}
