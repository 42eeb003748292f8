package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;

/** The optional body of {@code POST /v1/events/{id}/replay}: {@code {endpoint_id?}}. */
final class ReplayRequest {
  private ReplayRequest() {}

  /** The endpoint to replay, or null for the event's dead letters. */
  static String endpointId(byte[] body) {
    if (body.length == 0) return null;
    JsonNode id = RequestBodies.object(body, Set.of("endpoint_id")).get("endpoint_id");
    if (id == null || id.isNull()) return null;
    if (!id.isTextual()) throw Problems.badRequest("endpoint_id must be a string");
    return Ids.field(id.asText(), "endpoint_id");
  }
}
