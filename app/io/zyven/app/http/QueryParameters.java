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
}
