package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.Json;
import java.io.IOException;
import java.util.Iterator;

/** The optional body of {@code POST /v1/events/{id}/replay}: {@code {endpoint_id?}}. */
final class ReplayRequest {
  private ReplayRequest() {}

  /** The endpoint to replay, or null for the event's dead letters. */
  static String endpointId(byte[] body) {
    if (body.length == 0) return null;
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body);
    } catch (IOException e) {
      throw Problems.badRequest("malformed JSON");
    }
    if (root == null || !root.isObject()) throw Problems.badRequest("the body must be a JSON object");
    for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!name.equals("endpoint_id")) throw Problems.badRequest("unknown field '" + name + "'");
    }
    JsonNode id = root.get("endpoint_id");
    if (id == null || id.isNull()) return null;
    if (!id.isTextual()) throw Problems.badRequest("endpoint_id must be a string");
    return Ids.canonical(id.asText(), "endpoint");
  }
}
