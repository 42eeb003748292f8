package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.Json;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Set;

/** The checks every JSON request body and every timestamp parameter goes through. */
final class RequestBodies {
  private RequestBodies() {}

  /**
   * The body as a JSON object having no fields but {@code fields}; 400 otherwise. Unknown
   * fields are refused so that a misspelt one never silently means its default.
   */
  static JsonNode object(byte[] body, Set<String> fields) {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body);
    } catch (IOException e) {
      throw Problems.badRequest("malformed JSON");
    }
    if (root == null || !root.isObject()) throw Problems.badRequest("the body must be a JSON object");
    for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!fields.contains(name)) throw Problems.badRequest("unknown field '" + name + "'");
    }
    return root;
  }

  /** An RFC 3339 timestamp; 400 naming {@code field} otherwise. */
  static Instant timestamp(String text, String field) {
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException | NullPointerException e) {
      throw Problems.badRequest(field + " must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z");
    }
  }
}
