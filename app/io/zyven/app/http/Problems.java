package io.zyven.app.http;

import io.zyven.app.Json;
import io.zyven.app.store.Database.DatabaseUnavailable;
import io.zyven.protocol.Problem;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.pattern.CircuitBreakerOpenException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Every error the API gives is an RFC 9457 problem+json body, and is made here. */
public final class Problems {
  private Problems() {}

  private static final Logger log = LoggerFactory.getLogger(Problems.class);

  static final ContentType PROBLEM_JSON =
      ContentTypes.create(MediaTypes.applicationWithFixedCharset("problem+json", HttpCharsets.UTF_8));

  /** Thrown anywhere while handling a request to answer with this problem. */
  public static final class ApiException extends RuntimeException {
    final HttpResponse response;

    ApiException(HttpResponse response) {
      super(null, null, false, false);
      this.response = response;
    }
  }

  public static HttpResponse response(int status, String slug, String title, String detail) {
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(
            PROBLEM_JSON, Json.bytes(new Problem("urn:zyven:problem:" + slug, title, status, detail)));
  }

  public static ApiException badRequest(String detail) {
    return new ApiException(response(400, "invalid-request", "Invalid request", detail));
  }

  public static ApiException unauthorized(String detail) {
    return new ApiException(
        response(401, "unauthorized", "Unauthorized", detail)
            .addHeader(RawHeader.create("WWW-Authenticate", "Bearer")));
  }

  public static ApiException forbidden(String detail) {
    return new ApiException(response(403, "forbidden", "Forbidden", detail));
  }

  public static ApiException notFound(String detail) {
    return new ApiException(response(404, "not-found", "Not found", detail));
  }

  public static ApiException conflict(String detail) {
    return new ApiException(response(409, "idempotency-conflict", "Conflict", detail));
  }

  /** Retry now, with no delivery waiting for a retry. */
  public static ApiException nothingToRetry(String detail) {
    return new ApiException(response(409, "nothing-to-retry", "Nothing to retry", detail));
  }

  public static ApiException tooLarge(long maxBytes) {
    return new ApiException(
        response(413, "payload-too-large", "Payload too large",
            "the body must be at most " + maxBytes + " bytes"));
  }

  public static ApiException unsupportedMediaType() {
    return new ApiException(
        response(415, "unsupported-media-type", "Unsupported media type",
            "the body must be JSON (Content-Type: application/json)"));
  }

  public static ApiException unprocessable(String detail) {
    return new ApiException(response(422, "unprocessable", "Unprocessable request", detail));
  }

  static HttpResponse unavailable(Duration retryAfter, String detail) {
    long seconds = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
    return response(503, "unavailable", "Service unavailable", detail)
        .addHeader(RawHeader.create("Retry-After", Long.toString(seconds)));
  }

  /**
   * The answer for a failed request: its problem when it carries one; 503 with Retry-After
   * when storage did not answer in time (the client retries with the same key); otherwise
   * a logged 500 without internals.
   */
  static HttpResponse fromThrowable(Throwable t, Duration retryAfter) {
    Throwable cause = unwrap(t);
    if (cause instanceof ApiException api) return api.response;
    if (cause instanceof DatabaseUnavailable || cause instanceof CircuitBreakerOpenException) {
      log.warn("Storage unavailable: {}", cause.toString());
      return unavailable(retryAfter, "storage is unavailable; retry with the same Idempotency-Key");
    }
    if (cause instanceof TimeoutException) {
      // The journal is slow or away, or the entity's shard is moving between nodes.
      log.warn("No answer in time: {}", cause.toString());
      return unavailable(retryAfter, "not answered in time (storage or cluster busy); retry with the same Idempotency-Key");
    }
    log.error("Unexpected failure while handling a request", cause);
    return response(500, "internal", "Internal error", "an unexpected error occurred");
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** Pekko's own rejections (404, 405, ...) come as text; give them the same shape. */
  static HttpResponse fromRejection(HttpResponse plain) {
    if (plain.entity().getContentType().equals(PROBLEM_JSON)) return plain;
    String detail =
        plain.entity() instanceof HttpEntity.Strict strict ? strict.getData().utf8String() : "";
    int status = plain.status().intValue();
    List<HttpHeader> headers = new java.util.ArrayList<>();
    plain.getHeaders().forEach(headers::add);
    return response(status, "http-" + status, plain.status().reason(), detail).addHeaders(headers);
  }
}
