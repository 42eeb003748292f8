package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;

/** The optional body of {@code POST /v1/endpoints/{id}/test}: {@code {type?}}. */
final class TestSendRequest {
  private TestSendRequest() {}

  /** The event type to send, in the ingest grammar; null for a ping. */
  static String type(byte[] body) {
    if (body.length == 0) return null;
    JsonNode type = RequestBodies.object(body, Set.of("type")).get("type");
    if (type == null || type.isNull()) return null;
    if (!type.isTextual() || !IngestBody.TYPE.matcher(type.asText()).matches()) {
      throw Problems.badRequest("type must match [A-Za-z0-9_.:-]{1,128}");
    }
    return type.asText();
  }
}
