package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.json.Json;
import io.zyven.app.transform.Transformations;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.RejectedExecutionException;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * The body of {@code POST /v1/endpoints/{id}/transformation/preview}: {@code {payload,
 * type?, transformation?}}. Without {@code transformation}, the endpoint's saved one runs;
 * with it, that unsaved source does (to try a change before saving it).
 */
record PreviewRequest(JsonNode payload, String type, String transformation) {

  /** The type a preview's webhook has when the body names none. */
  static final String DEFAULT_TYPE = "preview";

  static PreviewRequest parse(byte[] body) {
    JsonNode root = RequestBodies.object(body, Set.of("payload", "type", "transformation"));
    JsonNode payload = root.get("payload");
    if (payload == null || !payload.isObject()) throw Problems.badRequest("payload is required and must be a JSON object");
    JsonNode type = root.get("type");
    if (type != null && !type.isNull() && (!type.isTextual() || !IngestBody.TYPE.matcher(type.asText()).matches())) {
      throw Problems.badRequest("type must match [A-Za-z0-9_.:-]{1,128}");
    }
    JsonNode source = root.get("transformation");
    if (source != null && !source.isNull()
        && (!source.isTextual() || source.asText().length() > Transformations.MAX_SOURCE_CHARS)) {
      throw Problems.badRequest(
          "transformation must be a string of at most " + Transformations.MAX_SOURCE_CHARS + " characters");
    }
    return new PreviewRequest(
        payload,
        type == null || type.isNull() ? DEFAULT_TYPE : type.asText(),
        source == null || source.isNull() ? null : source.asText());
  }

  /** A fresh id for each preview's webhook, shaped like an event id. */
  static String previewEventId() {
    return UUID.randomUUID().toString();
  }

  /** What a run came to, as the preview's answer: 200 with what would be sent, or 422 with why not. */
  static HttpResponse answer(Transformations.Result result) {
    if (result instanceof Transformations.Transformed t) {
      try {
        return Responses.json(200, new Preview(Json.MAPPER.readTree(t.body()), t.headers(), false));
      } catch (Exception e) {
        throw Problems.invalidTransformation("transformation returned something that is not JSON");
      }
    }
    if (result instanceof Transformations.Cancelled) return Responses.json(200, new Preview(null, Map.of(), true));
    if (result instanceof Transformations.Failed f) throw Problems.invalidTransformation(f.reason());
    throw new RejectedExecutionException("every transformation runner is busy");
  }

  /** What the transformation would send: the body and extra headers, or that it cancels. */
  record Preview(JsonNode payload, Map<String, String> headers, boolean cancelled) {}
}
