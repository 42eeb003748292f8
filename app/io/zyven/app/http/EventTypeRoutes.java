package io.zyven.app.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.zyven.app.ingest.EventSchemas;
import io.zyven.app.ingest.EventTypeCatalogue;
import io.zyven.app.json.Json;
import io.zyven.app.store.EventTypeStore;
import io.zyven.app.store.EventTypeStore.EventType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * {@code /v1/event-types} (reads: the read scope; writes: manage) and
 * {@code /v1/event-type-settings}. The catalogue decides; this translates.
 */
final class EventTypeRoutes {
  private final EventTypeCatalogue catalogue;
  private final Executor ec;

  EventTypeRoutes(EventTypeCatalogue catalogue, Executor ec) {
    this.catalogue = catalogue;
    this.ec = ec;
  }

  CompletionStage<HttpResponse> create(Principal principal, byte[] body) {
    principal.requireAllEndpoints("change the event-type catalogue");
    EventTypeRequest.Create request = EventTypeRequest.create(body);
    return refusals(catalogue.create(principal.tenantId(), request.name(), request.draft(), by(principal))
        .thenApply(created -> Responses.json(201, view(created.orElseThrow(() -> Problems.conflict(
            "event-type-exists", "Event type exists",
            "this tenant has an event type " + Problems.quote(request.name()) + " already; PATCH it instead"))))));
  }

  CompletionStage<HttpResponse> list(Principal principal, HttpRequest request) {
    requireWholeTenant(principal);
    EventTypeRequest.ListQuery query = EventTypeRequest.list(QueryParameters.single(request));
    return catalogue.page(principal.tenantId(), query.includeArchived(), query.afterName(), query.limit())
        .thenApply(page -> {
          Map<String, Object> body = new LinkedHashMap<>();
          body.put("data", page.types().stream().map(EventTypeRoutes::view).toList());
          body.put("next_cursor", page.more() ? EventTypeRequest.cursor(page.types().get(page.types().size() - 1).name()) : null);
          return Responses.json(200, body);
        });
  }

  CompletionStage<HttpResponse> get(Principal principal, String pathName) {
    requireWholeTenant(principal);
    String name = EventTypeRequest.name(pathName);
    return catalogue.get(principal.tenantId(), name)
        .thenApply(found -> Responses.json(200, view(found.orElseThrow(() -> notFound(name)))));
  }

  CompletionStage<HttpResponse> update(Principal principal, String pathName, byte[] body) {
    principal.requireAllEndpoints("change the event-type catalogue");
    String name = EventTypeRequest.name(pathName);
    EventTypeCatalogue.Draft draft = EventTypeRequest.patch(body);
    return refusals(catalogue.update(principal.tenantId(), name, draft, by(principal))
        .thenApply(found -> Responses.json(200, view(found.orElseThrow(() -> notFound(name))))));
  }

  CompletionStage<HttpResponse> delete(Principal principal, String pathName) {
    principal.requireAllEndpoints("change the event-type catalogue");
    String name = EventTypeRequest.name(pathName);
    return catalogue.delete(principal.tenantId(), name, by(principal)).thenApply(found -> {
      if (!found) throw notFound(name);
      return HttpResponse.create().withStatus(204);
    });
  }

  /** {@code GET /v1/event-types/{name}/audit}: the latest 100 changes, newest first, also after a delete. */
  CompletionStage<HttpResponse> audit(Principal principal, String pathName) {
    requireWholeTenant(principal);
    String name = EventTypeRequest.name(pathName);
    return catalogue.history(principal.tenantId(), name).thenApply(changes -> {
      if (changes.isEmpty()) throw notFound(name);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("name", name);
      body.put("entries", changes.stream().map(EventTypeRoutes::entry).toList());
      return Responses.json(200, body);
    });
  }

  CompletionStage<HttpResponse> settings(Principal principal) {
    requireWholeTenant(principal);
    return catalogue.requireRegistered(principal.tenantId())
        .thenApply(require -> Responses.json(200, Map.of("require_registered_types", require)));
  }

  /**
   * {@code PATCH /v1/event-type-settings} with the manage scope: the tenant's own producers
   * are the ones refused, so the tenant decides (the admin can set it too, on the tenant).
   */
  CompletionStage<HttpResponse> updateSettings(Principal principal, byte[] body) {
    principal.requireAllEndpoints("change the event-type settings");
    JsonNode require = RequestBodies.object(body, Set.of("require_registered_types")).get("require_registered_types");
    if (require == null || !require.isBoolean()) throw Problems.badRequest("require_registered_types is required, true or false");
    return catalogue.setRequireRegistered(principal.tenantId(), require.asBoolean())
        .thenApply(set -> Responses.json(200, Map.of("require_registered_types", set.orElse(require.asBoolean()))));
  }

  /** The catalogue is the whole tenant's: a portal token limited to some endpoints sees none of it, as with stats. */
  private static void requireWholeTenant(Principal principal) {
    principal.requireAllEndpoints("read the event-type catalogue");
  }

  private static String by(Principal principal) {
    return principal.portal() ? "portal_token:" + principal.credentialId() : "api_key:" + principal.credentialId();
  }

  static Map<String, Object> view(EventType t) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("name", t.name());
    v.put("description", t.description());
    v.put("schema", raw(t.schema()));
    v.put("example", raw(t.example()));
    v.put("archived", t.archived());
    v.put("version", t.version());
    v.put("created_at", t.createdAt());
    v.put("updated_at", t.updatedAt());
    return v;
  }

  private static Map<String, Object> entry(EventTypeStore.Change c) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("action", c.action());
    v.put("changes", c.changes());
    v.put("by", c.by());
    v.put("at", c.at());
    return v;
  }

  private static JsonNode raw(String json) {
    if (json == null) return null;
    try {
      return Json.MAPPER.readTree(json);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("unreadable stored JSON", e);
    }
  }

  private static Problems.ApiException notFound(String name) {
    return Problems.notFound("no event type " + Problems.quote(name));
  }

  /** The catalogue's refusals as problems; anything else as it is. */
  private CompletionStage<HttpResponse> refusals(CompletionStage<HttpResponse> response) {
    return response.exceptionallyAsync(
        error -> {
          Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
          if (cause instanceof EventSchemas.InvalidSchema invalid) throw Problems.invalidSchema(invalid.getMessage());
          if (cause instanceof EventTypeCatalogue.ExampleInvalid example) {
            throw Problems.schemaViolation("the example does not match the schema", example.violations);
          }
          if (cause instanceof EventSchemas.TooComplex tooComplex) throw Problems.invalidSchema(
              "the example could not be checked against the schema within the validator's limits");
          if (cause instanceof EventTypeStore.LimitReached limit) {
            throw Problems.conflict("event-type-limit-reached", "Event type limit reached", limit.getMessage());
          }
          throw error instanceof CompletionException c ? c : new CompletionException(error);
        },
        ec);
  }
}
