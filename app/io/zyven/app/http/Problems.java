package io.zyven.app.http;

import io.zyven.app.json.Json;
import io.zyven.app.store.Database.DatabaseUnavailable;
import io.zyven.app.store.Database.StatementFailed;
import io.zyven.protocol.Problem;
import java.time.Duration;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.javadsl.model.AttributeKey;
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

  /** Every problem's {@code type} is this followed by its slug (the README lists them). */
  static final String TYPE_PREFIX = "urn:zyven:problem:";

  /** Untrusted text shown in a detail is cut to this many characters. */
  private static final int MAX_ECHO = 40;

  /** The problem's slug, carried by the response (never sent) for the metrics of problems. */
  static final AttributeKey<String> SLUG = AttributeKey.create("zyven-problem-slug", String.class);

  public static HttpResponse response(int status, String slug, String title, String detail) {
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(PROBLEM_JSON, Json.bytes(new Problem(TYPE_PREFIX + slug, title, status, detail)))
        .addAttribute(SLUG, slug);
  }

  /**
   * A client's own text (a field name, a path segment, a token) quoted for a detail: cut
   * short so a stranger cannot make us echo a page of anything. It is only ever written
   * inside the JSON string of the detail, which escapes it.
   */
  static String quote(String untrusted) {
    String s = untrusted;
    if (s.codePointCount(0, s.length()) > MAX_ECHO) s = s.substring(0, s.offsetByCodePoints(0, MAX_ECHO)) + "…";
    return "'" + s + "'";
  }

  /** 400: a well-formed body or query with a bad, missing or unknown field or parameter. */
  public static ApiException badRequest(String detail) {
    return new ApiException(response(400, "invalid-request", "Invalid request", detail));
  }

  /** 400: a body that does not parse as JSON; the detail says where. */
  public static ApiException malformedJson(String detail) {
    return new ApiException(response(400, "malformed-json", "Malformed JSON", detail));
  }

  /** 400: an id in the path that is not a UUID, so it cannot name anything. */
  public static ApiException invalidId(String what, String id) {
    return new ApiException(
        response(400, "invalid-id", "Invalid id", what + " id must be a UUID, got " + quote(id)));
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

  /** 409 of one kind; each kind has its own slug so clients can tell them apart. */
  public static ApiException conflict(String slug, String title, String detail) {
    return new ApiException(response(409, slug, title, detail));
  }

  /** 409: this Idempotency-Key was accepted with a different body. */
  public static ApiException idempotencyConflict(String detail) {
    return conflict("idempotency-conflict", "Idempotency conflict", detail);
  }

  /** 409: a replay found no terminal delivery to send again. */
  public static ApiException nothingToReplay(String detail) {
    return conflict("nothing-to-replay", "Nothing to replay", detail);
  }

  /** Retry now, with no delivery waiting for a retry. */
  public static ApiException payloadExpunged(String detail) {
    return conflict("payload-expunged", "Payload expunged", detail);
  }

  public static ApiException nothingToRetry(String detail) {
    return conflict("nothing-to-retry", "Nothing to retry", detail);
  }

  public static ApiException tooLarge(long maxBytes) {
    return new ApiException(
        response(413, "payload-too-large", "Payload too large",
            "the body must be at most " + maxBytes + " bytes"));
  }

  public static ApiException unsupportedMediaType() {
    return new ApiException(
        response(415, "unsupported-media-type", "Unsupported media type",
            "the body must be JSON (Content-Type: application/json or application/*+json)"));
  }

  /** 400: a query parameter given more than once; which one counts would be a guess. */
  public static ApiException duplicateParameter(String name) {
    return new ApiException(
        response(400, "duplicate-parameter", "Duplicate parameter",
            "query parameter " + quote(name) + " is given more than once"));
  }

  /**
   * 500 for a failure that is ours: logged with a fresh error id, which the body carries
   * too, so that an operator can find the log line a client quotes.
   */
  static HttpResponse internal(String what, Throwable cause) {
    String errorId = java.util.UUID.randomUUID().toString();
    log.error("{} (error_id {})", what, errorId, cause);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("type", TYPE_PREFIX + "internal");
    body.put("title", "Internal error");
    body.put("status", 500);
    body.put("detail", "an unexpected error occurred; quote error_id " + errorId + " when reporting it");
    body.put("error_id", errorId);
    return HttpResponse.create().withStatus(500).withEntity(PROBLEM_JSON, Json.bytes(body)).addAttribute(SLUG, "internal");
  }

  /** 422: ingest's endpoint_id is unknown, disabled or another tenant's. */
  public static ApiException endpointUnavailable(String detail) {
    return new ApiException(response(422, "endpoint-unavailable", "Endpoint unavailable", detail));
  }

  /** 422: no enabled endpoint subscribes to the event's type. */
  public static ApiException noSubscribers(String detail) {
    return new ApiException(response(422, "no-subscribers", "No subscribers", detail));
  }

  /** 422: the SSRF guard refused an endpoint's URL. */
  public static ApiException targetNotAllowed(String detail) {
    return new ApiException(response(422, "target-not-allowed", "Target not allowed", detail));
  }

  /**
   * 422: JSON that does not match a JSON Schema (an event's payload, a type's example), with
   * {@code errors: [{pointer, message}]}, each pointer an RFC 6901 JSON Pointer into that JSON.
   */
  public static ApiException schemaViolation(String detail, List<?> errors) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("type", TYPE_PREFIX + "schema-violation");
    body.put("title", "Schema violation");
    body.put("status", 422);
    body.put("detail", detail);
    body.put("errors", errors);
    return new ApiException(
        HttpResponse.create().withStatus(422).withEntity(PROBLEM_JSON, Json.bytes(body)).addAttribute(SLUG, "schema-violation"));
  }

  /** 422: a type's schema that is not a usable JSON Schema 2020-12 document. */
  public static ApiException invalidSchema(String detail) {
    return new ApiException(response(422, "invalid-schema", "Invalid schema", detail));
  }

  /** 422: ingest of a type the tenant's catalogue refuses (archived, or unregistered when registration is required). */
  public static ApiException eventTypeRefused(boolean archived, String detail) {
    return archived
        ? new ApiException(response(422, "event-type-archived", "Event type archived", detail))
        : new ApiException(response(422, "event-type-unregistered", "Event type not registered", detail));
  }

  /** 422: an endpoint's transformation does not compile, or fails a run (preview). */
  public static ApiException invalidTransformation(String detail) {
    return new ApiException(response(422, "invalid-transformation", "Invalid transformation", detail));
  }

  /** 422 of no more specific kind. */
  public static ApiException unprocessable(String detail) {
    return new ApiException(response(422, "unprocessable", "Unprocessable request", detail));
  }

  /** 429: the API key sent events faster than its rate limit; Retry-After in whole seconds, rounded up. */
  static ApiException rateLimited(Duration retryAfter) {
    long seconds = retryAfterSeconds(retryAfter);
    return new ApiException(
        response(429, "rate-limited", "Too many requests",
            "this API key is over its ingest rate limit; retry after " + seconds + " s")
            .addHeader(RawHeader.create("Retry-After", Long.toString(seconds))));
  }

  static HttpResponse unavailable(Duration retryAfter, String detail) {
    return response(503, "unavailable", "Service unavailable", detail)
        .addHeader(RawHeader.create("Retry-After", Long.toString(retryAfterSeconds(retryAfter))));
  }

  /** Retry-After is whole seconds: rounded up, at least 1. */
  private static long retryAfterSeconds(Duration retryAfter) {
    return Math.max(1, (retryAfter.toMillis() + 999) / 1000);
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
    if (cause instanceof RejectedExecutionException) {
      // A bounded queue (database or DNS lookups) is full: shed the load, the client retries.
      log.warn("Busy: {}", cause.toString());
      return unavailable(retryAfter, "too busy to take this request now; retry later");
    }
    if (cause instanceof TimeoutException) {
      // The journal is slow or away, or the entity's shard is moving between nodes.
      log.warn("No answer in time: {}", cause.toString());
      return unavailable(retryAfter, "not answered in time (storage or cluster busy); retry with the same Idempotency-Key");
    }
    if (cause instanceof StatementFailed refused && refused.dataException()) {
      // Every value is checked before it reaches a statement; one that still gets here is
      // the caller's value all the same, and retrying it will not help.
      // Its message may quote the value, so only the SQLState is logged.
      log.warn("A statement was refused for its data (SQLState {})", refused.sqlState());
      return badRequest("a value in the request is outside what can be stored or searched for").response;
    }
    return internal("Unexpected failure while handling a request", cause);
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** The detail of a 404 for a path the API does not have. */
  static final String NO_SUCH_PATH = "no such path; the API is described at /openapi.json";

  /** Pekko's own rejections (404, 405, ...) come as text; give them the same shape. */
  static HttpResponse fromRejection(HttpResponse plain) {
    if (plain.entity().getContentType().equals(PROBLEM_JSON)) return plain;
    String detail =
        plain.entity() instanceof HttpEntity.Strict strict ? strict.getData().utf8String() : "";
    int status = plain.status().intValue();
    // Pekko answers 404 only when no route took the path: a route answers a missing thing
    // itself ("no event …"). Say which 404 this is, for clients and for OpenApiTest.
    if (status == 404) detail = NO_SUCH_PATH;
    List<HttpHeader> headers = new java.util.ArrayList<>();
    plain.getHeaders().forEach(headers::add);
    return forStatus(status, plain.status().reason(), detail).addHeaders(headers);
  }

  /** A problem for a bare status and its reason phrase (a rejection, a request that did not parse). */
  static HttpResponse forStatus(int status, String reason, String detail) {
    Kind kind = rejectionKind(status, reason);
    return response(status, kind.slug(), kind.title(), detail);
  }

  private record Kind(String slug, String title) {}

  /**
   * The catalogue's kind where it has one for the status; else the reason phrase, as a slug
   * ("Method Not Allowed": method-not-allowed) and as a title ("Method not allowed").
   */
  private static Kind rejectionKind(int status, String reason) {
    return switch (status) {
      case 400 -> new Kind("invalid-request", "Invalid request");
      case 404 -> new Kind("not-found", "Not found");
      case 413 -> new Kind("payload-too-large", "Payload too large");
      case 415 -> new Kind("unsupported-media-type", "Unsupported media type");
      case 500 -> new Kind("internal", "Internal error");
      case 503 -> new Kind("unavailable", "Service unavailable");
      default -> new Kind(
          reason.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", ""),
          reason.isEmpty() ? reason : reason.charAt(0) + reason.substring(1).toLowerCase(Locale.ROOT));
    };
  }
}
