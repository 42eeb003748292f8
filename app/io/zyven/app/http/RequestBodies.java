package io.zyven.app.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.json.Json;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;

/** The checks every JSON request body and every timestamp parameter goes through. */
final class RequestBodies {
  private RequestBodies() {}

  /** Refuses a field given twice: which of the two would count is anybody's guess. */
  static final JsonFactory STRICT_JSON =
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  static final String EMPTY = "the body is empty: expected a JSON object";

  /**
   * The body as a JSON object having no fields but {@code fields}; 400 otherwise. Unknown
   * fields are refused so that a misspelt one never silently means its default.
   */
  static JsonNode object(byte[] body, Set<String> fields) {
    JsonNode root;
    try (JsonParser p = STRICT_JSON.createParser(body)) {
      root = Json.MAPPER.readTree(p);
      if (root == null) throw Problems.malformedJson(EMPTY);
      requireEnd(p);
    } catch (JsonProcessingException e) {
      throw Problems.malformedJson(JsonErrors.describe(e));
    } catch (IOException e) {
      throw Problems.badRequest("the body could not be read");
    }
    if (!root.isObject()) throw Problems.badRequest("the body must be a JSON object");
    for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!fields.contains(name)) throw Problems.badRequest(unknownField(name, fields));
    }
    return root;
  }

  /** 400 malformed-json unless the parser has read the whole body. */
  static void requireEnd(JsonParser p) throws IOException {
    if (p.nextToken() != null) {
      throw Problems.malformedJson("unexpected content after the JSON value" + JsonErrors.at(p.currentTokenLocation()));
    }
  }

  /** The detail for a field not among {@code fields}, naming those that are. */
  static String unknownField(String name, Collection<String> fields) {
    return "unknown field " + Problems.quote(name) + "; the fields are " + String.join(", ", new TreeSet<>(fields));
  }

  /** The earliest and latest instants any timestamp of the API may be (RFC 3339 years 0001 to 9999). */
  static final Instant MIN_TIME = Instant.parse("0001-01-01T00:00:00Z");
  static final Instant MAX_TIME = Instant.parse("9999-12-31T23:59:59.999999999Z");

  /**
   * An RFC 3339 timestamp; 400 naming {@code field} otherwise. Java also reads years such as
   * {@code +999999999}, which RFC 3339 has not and PostgreSQL cannot store or compare.
   */
  static Instant timestamp(String text, String field) {
    Instant t;
    try {
      t = OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException | NullPointerException e) {
      t = null;
    }
    if (t == null || !inRange(t)) {
      throw Problems.badRequest(field + " must be an RFC 3339 timestamp from year 0001 to 9999, e.g. 2026-01-31T12:00:00Z");
    }
    return t;
  }

  static boolean inRange(Instant t) {
    return !t.isBefore(MIN_TIME) && !t.isAfter(MAX_TIME);
  }
}
