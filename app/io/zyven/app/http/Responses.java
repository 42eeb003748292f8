package io.zyven.app.http;

import io.zyven.app.json.Json;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;

final class Responses {
  private Responses() {}

  static HttpResponse json(int status, Object body) {
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(ContentTypes.APPLICATION_JSON, Json.bytes(body));
  }
}
