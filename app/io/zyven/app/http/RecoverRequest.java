package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Set;

/** The body of {@code POST /v1/endpoints/{id}/recover}: {@code {since, until?}} (RFC 3339). */
record RecoverRequest(Instant since, Instant until) {

  static RecoverRequest parse(byte[] body, Instant now) {
    JsonNode root = RequestBodies.object(body, Set.of("since", "until"));
    if (!root.hasNonNull("since")) throw Problems.badRequest("since is required");
    Instant since = time(root.get("since"), "since");
    Instant until = root.hasNonNull("until") ? time(root.get("until"), "until") : now;
    if (!since.isBefore(until)) throw Problems.badRequest("since must be before until");
    return new RecoverRequest(since, until);
  }

  private static Instant time(JsonNode node, String field) {
    if (!node.isTextual()) throw Problems.badRequest(field + " must be an RFC 3339 timestamp string");
    return RequestBodies.timestamp(node.asText(), field);
  }
}
