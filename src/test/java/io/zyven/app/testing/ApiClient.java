package io.zyven.app.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** A plain HTTP client for the API, speaking JSON, as a producer would. */
public final class ApiClient {
  public static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;
  private final String adminKey;

  public ApiClient(String base, String adminKey) {
    this.base = base;
    this.adminKey = adminKey;
  }

  public record Response(int status, Map<String, java.util.List<String>> headers, String body) {
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + body, e);
      }
    }

    public Optional<String> header(String name) {
      return headers.entrySet().stream()
          .filter(e -> e.getKey().equalsIgnoreCase(name))
          .flatMap(e -> e.getValue().stream())
          .findFirst();
    }

    public String contentType() {
      return header("Content-Type").orElse("");
    }
  }

  /** A tenant with its API key, created through the admin API. */
  public record Tenant(String id, String apiKey) {}

  public Tenant createTenant(String name) {
    Response r = send(request("/v1/tenants", adminKey).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\"}")));
    if (r.status() != 201) throw new IllegalStateException("tenant not created: " + r);
    return new Tenant(r.json().get("id").asText(), r.json().get("api_key").asText());
  }

  /** Creates an endpoint from a JSON body and returns its id. */
  public String createEndpoint(String apiKey, String json) {
    Response r = postJson("/v1/endpoints", apiKey, json);
    if (r.status() != 201) throw new IllegalStateException("endpoint not created: " + r);
    return r.json().get("id").asText();
  }

  public Response get(String path, String apiKey) {
    return send(request(path, apiKey).GET());
  }

  public Response delete(String path, String apiKey) {
    return send(request(path, apiKey).DELETE());
  }

  public Response postJson(String path, String apiKey, String json) {
    return send(request(path, apiKey).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  public Response patchJson(String path, String apiKey, String json) {
    return send(request(path, apiKey).header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(json)));
  }

  /** POST /v1/events with an Idempotency-Key. */
  public Response ingest(String apiKey, String idempotencyKey, String json) {
    return send(request("/v1/events", apiKey)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", idempotencyKey)
        .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  /** Every event id of the tenant's list with this status, walking all its pages. */
  public java.util.Set<String> listIds(String apiKey, String status) {
    java.util.Set<String> ids = new java.util.HashSet<>();
    String cursor = null;
    do {
      JsonNode page = get("/v1/events?limit=100&status=" + status + (cursor == null ? "" : "&cursor=" + cursor), apiKey).json();
      page.get("data").forEach(e -> ids.add(e.get("id").asText()));
      cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asText();
    } while (cursor != null);
    return ids;
  }

  /** A request with the tenant's key as a Bearer token (none when {@code apiKey} is null). */
  public HttpRequest.Builder request(String path, String apiKey) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
    return b;
  }

  public Response send(HttpRequest.Builder request) {
    try {
      HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.headers().map(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
