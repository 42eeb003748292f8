package io.zyven.app.http;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/** A request's query parameters, each given at most once. */
final class QueryParameters {
  private QueryParameters() {}

  /**
   * The parameters by name; 400 duplicate-parameter when one is given twice (say
   * {@code status=DELIVERED&status=FAILED}): whether the first, the last or both would
   * count is a guess the client should not have to make.
   */
  static Map<String, String> single(HttpRequest request) {
    Map<String, String> single = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> p : request.getUri().query().toMultiMap().entrySet()) {
      if (p.getValue().size() > 1) throw Problems.duplicateParameter(p.getKey());
      single.put(p.getKey(), p.getValue().get(0));
    }
    return single;
  }

  /** 400 for a parameter the route does not know, naming the ones it does. */
  static void requireKnown(Map<String, String> query, List<String> known) {
    for (String name : query.keySet()) {
      if (!known.contains(name)) {
        throw Problems.badRequest(
            "unknown query parameter " + Problems.quote(name) + "; the parameters are " + String.join(", ", known));
      }
    }
  }

  /** A page's {@code limit}: 1 to {@link ListRequest#MAX_LIMIT}, {@link ListRequest#DEFAULT_LIMIT} when absent. */
  static int limit(Map<String, String> query) {
    if (!query.containsKey("limit")) return ListRequest.DEFAULT_LIMIT;
    int limit;
    try {
      limit = Integer.parseInt(query.get("limit"));
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > ListRequest.MAX_LIMIT) {
      throw Problems.badRequest("limit must be from 1 to " + ListRequest.MAX_LIMIT);
    }
    return limit;
  }
}
