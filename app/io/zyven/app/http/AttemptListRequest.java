package io.zyven.app.http;

import io.zyven.app.readmodel.ReadModelQueries.AttemptCursor;
import java.util.List;
import java.util.Map;

/**
 * The query of {@code GET /v1/events/{id}/attempts?endpoint_id=&limit=&cursor=}: the same
 * {@code limit} (1–100, default 20) and opaque cursor as {@code GET /v1/events}. Unknown
 * parameters are refused.
 */
record AttemptListRequest(String endpointId, int limit, AttemptCursor cursor) {
  private static final List<String> PARAMS = List.of("endpoint_id", "limit", "cursor");

  static AttemptListRequest parse(Map<String, String> query) {
    QueryParameters.requireKnown(query, PARAMS);
    String endpointId = query.containsKey("endpoint_id") ? Ids.field(query.get("endpoint_id"), "endpoint_id") : null;
    int limit = QueryParameters.limit(query);
    AttemptCursor cursor = null;
    if (query.containsKey("cursor")) {
      try {
        cursor = AttemptCursor.decode(query.get("cursor"));
      } catch (RuntimeException e) {
        throw Problems.badRequest("cursor is not one this API gave out");
      }
    }
    return new AttemptListRequest(endpointId, limit, cursor);
  }
}
