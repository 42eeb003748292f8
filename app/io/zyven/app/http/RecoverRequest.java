package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.Json;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;

/** The body of {@code POST /v1/endpoints/{id}/recover}: {@code {since, until?}} (RFC 3339). */
record RecoverRequest(Instant since, Instant until) {

  static RecoverRequest parse(byte[] body, Instant now) {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body);
    } catch (IOException e) {
      throw Problems.badRequest("malformed JSON");
    }
    if (root == null || !root.isObject()) throw Problems.badRequest("the body must be {\"since\": ..., \"until\"?: ...}");
    for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!name.equals("since") && !name.equals("until")) throw Problems.badRequest("unknown field '" + name + "'");
    }
    if (!root.hasNonNull("since")) throw Problems.badRequest("since is required");
    Instant since = time(root.get("since"), "since");
    Instant until = root.hasNonNull("until") ? time(root.get("until"), "until") : now;
    if (!since.isBefore(until)) throw Problems.badRequest("since must be before until");
    return new RecoverRequest(since, until);
  }

  private static Instant time(JsonNode node, String field) {
    try {
      if (!node.isTextual()) throw new DateTimeParseException("not a string", "", 0);
      return OffsetDateTime.parse(node.asText()).toInstant();
    } catch (DateTimeParseException e) {
      throw Problems.badRequest(field + " must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z");
    }
  }
}
