package io.zyven.app.http;

import static io.zyven.app.testing.ProblemAssertions.assertNoInternals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Malformed JSON is described in words with its line and column, and nothing of the
 * parser's own message (its classes, features or source) gets through.
 */
class JsonErrorsTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
    "{\"type\":                | unexpected end of input at line 1, column 9",
    "{\"type\":\"a.b\"           | unexpected end of input at line 1, column 14",
    "{\"type\":\"a.b             | unexpected end of input in a string at line 1, column 13",
    "{\"type\":\"a\",}           | unexpected character '}' at line 1, column 13: expected a field name in double quotes",
    "{type:\"a\"}              | unexpected character 't' at line 1, column 2: expected a field name in double quotes",
    "{'type':\"a\"}            | unexpected character ''' at line 1, column 2: expected a field name in double quotes",
    "{\"type\" \"a\"}            | unexpected character '\"' at line 1, column 9: expected ':' after the field name",
    "{\"a\":1 \"b\":2}           | unexpected character '\"' at line 1, column 8: expected ',' or '}'",
    "{\"a\":[1 2]}             | unexpected character '2' at line 1, column 9: expected ',' or ']'",
    "{\"a\":[1}                | unexpected character '}' at line 1, column 8: expected ',' or ']'",
    "{\"a\":1]                 | unexpected character ']' at line 1, column 7: expected ',' or '}'",
    "{\"a\":tru}               | unrecognized token 'tru' at line 1, column 6: expected a string, number, object, array, true, false or null",
    "{\"a\":True}              | unrecognized token 'True' at line 1, column 6: expected a string, number, object, array, true, false or null",
    "{\"a\":NaN}               | unrecognized token 'NaN' at line 1, column 9: expected a string, number, object, array, true, false or null",
    "{\"type\":\"a\",\"type\":\"b\"} | duplicate field 'type' at line 1, column 19",
    "{\"a\":01}                | invalid number at line 1, column 7: a number cannot start with 0 unless it is 0",
    "{\"a\":1.}                | unexpected character '}' in a number at line 1, column 8: expected a digit after the decimal point",
    "{\"a\":-x}                | unexpected character 'x' in a number at line 1, column 7: expected a digit after '-'",
    "{\"a\":1e}                | unexpected character '}' in a number at line 1, column 8: expected a digit in the exponent",
    "{\"a\":+1}                | unexpected character '+' in a number at line 1, column 7: a number cannot start with '+'",
    "{\"a\":.5}                | unexpected character '.' at line 1, column 6: expected a string, number, object, array, true, false or null",
    "{\"a\":\"\\x\"}             | invalid escape '\\x' in a string at line 1, column 8: the escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\u followed by 4 hex digits",
    "{\"a\":\"\\u12g4\"}         | unexpected character 'g' in a string at line 1, column 11: expected 4 hex digits after \\u",
    "{\"a\":1}//               | unexpected character '/' at line 1, column 8: JSON has no comments",
    "{\"a\":1}}                | unexpected character '}' at line 1, column 8: there is nothing to close",
    "{\"a\":1} {}              | unexpected content after the JSON value at line 1, column 9",
  })
  void malformedJsonIsDescribedInWords(String body, String detail) {
    assertEquals(detail, malformed(body));
  }

  @Test
  void theLineAndColumnAreCountedOverLines() {
    assertEquals("unexpected character '}' at line 3, column 1: expected a field name in double quotes",
        malformed("{\n  \"type\": \"a\",\n}"));
    assertEquals("unexpected end of input at line 2, column 12", malformed("{\"a\":\n  {\"b\": [1]"));
  }

  @Test
  void aControlCharacterIsNamedByItsCodeNotEchoed() {
    assertEquals("unescaped control character U+000A in a string at line 1, column 8: control characters must be escaped, e.g. \\n",
        malformed("{\"a\":\"x\ny\"}"));
    assertEquals("unescaped control character U+0001 in a string at line 1, column 7: control characters must be escaped, e.g. \\n",
        malformed("{\"a\":\"\u0001\"}"));
  }

  @Test
  void nonAsciiAndInvalidUtf8AreNamedNotEchoed() {
    assertEquals("unexpected non-ASCII character at line 1, column 7: expected ',' or '}'", malformed("{\"a\":1\u00a0}"));
    byte[] invalid = {'{', '"', 'a', '"', ':', '"', (byte) 0xff, '"', '}'};
    assertEquals("invalid UTF-8 at line 1, column 8: the body must be UTF-8", malformed(invalid));
  }

  @Test
  void echoedTokensAndFieldNamesAreCutTo40Characters() {
    String token = "x".repeat(300);
    String name = "n".repeat(100);
    String cut = "unrecognized token '" + "x".repeat(40) + "…' at line 1, column 6";
    assertEquals(cut + ": expected a string, number, object, array, true, false or null", malformed("{\"a\":" + token + "}"));
    // Just past the second name.
    assertEquals("duplicate field '" + "n".repeat(40) + "…' at line 1, column 209",
        malformed("{\"" + name + "\":1,\"" + name + "\":2}"));
  }

  @Test
  void parserLimitsAreNamedWithoutThePlace() {
    assertEquals("the JSON is nested more than 1000 levels deep", malformed("[".repeat(1001)));
    assertEquals("a number is longer than 1000 characters", malformed("{\"a\":" + "1".repeat(1001) + "}"));
  }

  @Test
  void anEmptyBodyIsMalformed() {
    assertEquals("the body is empty: expected a JSON object", malformed(""));
    assertEquals("the body is empty: expected a JSON object", malformed(" \n "));
  }

  /** The ingest parser, which streams, says the same as the one for every other body. */
  @Test
  void ingestDescribesMalformedJsonAlike() {
    for (String body : new String[] {"{\"type\":", "{\"a\":tru}", "{\"type\":\"a\",\"type\":\"b\"}", "{\"a\":1} {}", ""}) {
      assertEquals(malformed(body), detail(() -> IngestBody.parse(bytes(body)), "malformed-json"), body);
    }
  }

  /** The body through {@link RequestBodies#object}: its malformed-json detail, checked for internals. */
  private static String malformed(String body) {
    return malformed(bytes(body));
  }

  private static String malformed(byte[] body) {
    return detail(() -> RequestBodies.object(body, Set.of("a", "type")), "malformed-json");
  }

  private static String detail(Runnable parse, String slug) {
    Problems.ApiException e = assertThrows(Problems.ApiException.class, parse::run);
    String problem = ((HttpEntity.Strict) e.response.entity()).getData().utf8String();
    assertNoInternals(problem);
    try {
      JsonNode json = Json.MAPPER.readTree(problem);
      assertEquals(400, json.get("status").asInt(), problem);
      assertEquals("urn:zyven:problem:" + slug, json.get("type").asText(), problem);
      return json.get("detail").asText();
    } catch (IOException x) {
      throw new AssertionError(problem, x);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
