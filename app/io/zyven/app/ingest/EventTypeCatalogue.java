package io.zyven.app.ingest;

import com.networknt.schema.Schema;
import io.zyven.app.endpoint.EventTypeFilter;
import io.zyven.app.store.EventTypeStore;
import io.zyven.app.store.EventTypeStore.EventType;
import io.zyven.app.store.TenantStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

/**
 * A tenant's event-type catalogue: its rules (names, schemas, examples), with the store
 * doing the writing. The HTTP routes translate; ingest enforces what is saved here.
 */
public final class EventTypeCatalogue {

  /** A catalogue name: the ingest {@code type} grammar, so no {@code *}. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,128}");

  /** Types per tenant. */
  public static final int MAX_PER_TENANT = 1000;

  /** What a caller asks for; null fields are left as they are (patch) or empty (create). */
  public record Draft(String description, Optional<String> schema, Optional<String> example, Boolean archived) {}

  /** An example that does not match the type's schema. */
  public static final class ExampleInvalid extends RuntimeException {
    public final List<EventSchemas.Violation> violations;

    ExampleInvalid(List<EventSchemas.Violation> violations) {
      super("the example does not match the schema", null, false, false);
      this.violations = violations;
    }
  }

  private final EventTypeStore store;
  // The registration rule is a tenant setting: read and written where the tenant's others are.
  private final TenantStore tenants;

  public EventTypeCatalogue(EventTypeStore store, TenantStore tenants) {
    this.store = store;
    this.tenants = tenants;
  }

  /** Empty when the tenant has a type of that name already. */
  public CompletionStage<Optional<EventType>> create(String tenantId, String name, Draft draft, String by) {
    EventType type;
    try {
      type = check(new EventType(
          name, draft.description() == null ? "" : draft.description(),
          draft.schema() == null ? null : draft.schema().orElse(null),
          draft.example() == null ? null : draft.example().orElse(null),
          Boolean.TRUE.equals(draft.archived()), 0, null, null));
    } catch (RuntimeException refused) {
      return CompletableFuture.failedStage(refused); // a refusal, answered like the store's
    }
    return store.create(tenantId, type, by, MAX_PER_TENANT);
  }

  /** Applies the fields given; the result is checked as a whole (a new example against the old schema too). */
  public CompletionStage<Optional<EventType>> update(String tenantId, String name, Draft draft, String by) {
    return store.update(tenantId, name, old -> check(new EventType(
        name,
        draft.description() != null ? draft.description() : old.description(),
        draft.schema() != null ? draft.schema().orElse(null) : old.schema(),
        draft.example() != null ? draft.example().orElse(null) : old.example(),
        draft.archived() != null ? draft.archived() : old.archived(),
        old.version(), old.createdAt(), old.updatedAt())), by);
  }

  public CompletionStage<Optional<EventType>> get(String tenantId, String name) {
    return store.get(tenantId, name);
  }

  public CompletionStage<EventTypeStore.Page> page(String tenantId, boolean includeArchived, String afterName, int limit) {
    return store.page(tenantId, includeArchived, afterName, limit);
  }

  /**
   * A type's example payload (JSON object text), or empty when the type has none or is not
   * in the catalogue: what a test send of that type sends.
   */
  public CompletionStage<Optional<String>> example(String tenantId, String type) {
    return store.get(tenantId, type).thenApply(t -> t.map(EventType::example));
  }

  public CompletionStage<Boolean> delete(String tenantId, String name, String by) {
    return store.delete(tenantId, name, by);
  }

  public CompletionStage<List<EventTypeStore.Change>> history(String tenantId, String name) {
    return store.history(tenantId, name, 100);
  }

  /** Whether the tenant refuses types that are not in its catalogue; empty when there is no such tenant. */
  public CompletionStage<Optional<Boolean>> setRequireRegistered(String tenantId, boolean require) {
    return tenants.update(tenantId, false, null, null, require)
        .thenApply(t -> t.map(TenantStore.TenantSummary::requireRegisteredTypes));
  }

  public CompletionStage<Boolean> requireRegistered(String tenantId) {
    return tenants.requireRegisteredTypes(tenantId);
  }

  /**
   * Warnings for an endpoint's {@code event_types}: each entry that matches no type of the
   * tenant's catalogue, or only archived ones. None when the tenant has no catalogue at all
   * (then nothing is known to compare with) or the filter is empty (every type).
   */
  public CompletionStage<List<String>> filterWarnings(String tenantId, List<String> eventTypes) {
    if (eventTypes == null || eventTypes.isEmpty()) return CompletableFuture.completedStage(List.of());
    return store.names(tenantId).thenApply(names -> warnings(names, eventTypes));
  }

  static List<String> warnings(Map<String, Boolean> names, List<String> eventTypes) {
    List<String> warnings = new ArrayList<>();
    if (names.isEmpty()) return warnings;
    for (String entry : eventTypes) {
      boolean any = false;
      boolean live = false;
      for (Map.Entry<String, Boolean> n : names.entrySet()) {
        if (EventTypeFilter.subscribes(List.of(entry), n.getKey())) {
          any = true;
          live |= !n.getValue();
        }
      }
      if (!any) warnings.add("event_types entry '" + entry + "' matches no type in the event-type catalogue");
      else if (!live) warnings.add("event_types entry '" + entry + "' matches only archived event types, which are refused at ingest");
    }
    return warnings;
  }

  /** The type, if its schema is a valid schema and its example matches it; else the reason, thrown. */
  private static EventType check(EventType type) {
    Schema schema = type.schema() == null ? null : EventSchemas.compile(type.schema());
    if (schema != null && type.example() != null) {
      List<EventSchemas.Violation> violations = EventSchemas.validate(schema, type.example());
      if (!violations.isEmpty()) throw new ExampleInvalid(violations);
    }
    return type;
  }
}
