package io.zyven.app.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.zyven.app.event.EventEntity;
import io.zyven.app.store.EndpointIndex.Subscription;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Ingest's rules without HTTP, a cluster or a database: the Idempotency-Key, the event id,
 * the fan-out and how the entity's answer reads. {@code IngestApiTest} covers them end to
 * end on a real node.
 */
class IngestServiceTest {

  private static final String TENANT = "3f2c1d4e-0000-4000-8000-000000000001";

  // ---- Idempotency-Key ----

  @Test
  void keysOfOneTo255PrintableAsciiCharactersAreAccepted() {
    for (String key : List.of("k", "order-7", " ", "~", "a b/c:d?e=f", "k".repeat(255))) {
      assertEquals(key, new IdempotencyKey(key).value());
    }
  }

  @Test
  void noKeyIsMissing() {
    assertEquals(IdempotencyKey.Invalid.Reason.MISSING, refused(null));
  }

  @Test
  void emptyLongOrNonAsciiKeysAreMalformed() {
    for (String key : List.of("", "k".repeat(256), "tab\there", "new\nline", "caf\u00e9", "del\u007f", "\u2603")) {
      assertEquals(IdempotencyKey.Invalid.Reason.MALFORMED, refused(key), key);
    }
  }

  private static IdempotencyKey.Invalid.Reason refused(String key) {
    return assertThrows(IdempotencyKey.Invalid.class, () -> new IdempotencyKey(key)).reason();
  }

  // ---- event id ----

  /** Pinned: a changed derivation would give a stored event's key a new, empty entity. */
  @Test
  void eventIdIsStableAcrossReleases() {
    assertEquals("0d1b3ee3-7bf4-3ce7-84a1-541c35e1b2b8", IngestService.eventId(TENANT, "order-7"));
  }

  @Test
  void eventIdIsTheSameForTheSameTenantAndKeyOnly() {
    String id = IngestService.eventId(TENANT, "order-7");
    assertEquals(id, IngestService.eventId(TENANT, "order-7"));
    assertNotEquals(id, IngestService.eventId(TENANT, "order-8"));
    assertNotEquals(id, IngestService.eventId(UUID.randomUUID().toString(), "order-7"));
    // The separator keeps the tenant and the key apart.
    assertNotEquals(IngestService.eventId("ab", "c"), IngestService.eventId("a", "bc"));
    assertEquals(3, UUID.fromString(id).version(), "name-based");
  }

  // ---- fan-out ----

  private static final String ALL = "00000000-0000-4000-8000-00000000000a";
  private static final String USERS = "00000000-0000-4000-8000-00000000000b";
  private static final String PAYMENTS = "00000000-0000-4000-8000-00000000000c";
  private static final List<Subscription> ENABLED =
      List.of(
          new Subscription(ALL, List.of()),
          new Subscription(USERS, List.of("user.*")),
          new Subscription(PAYMENTS, List.of("order.paid")));

  @Test
  void anUntargetedEventGoesToEveryEndpointWhoseFilterMatches() {
    assertEquals(List.of(ALL, USERS), IngestService.targets(ENABLED, "user.created", null));
    assertEquals(List.of(ALL, PAYMENTS), IngestService.targets(ENABLED, "order.paid", null));
    assertEquals(List.of(), IngestService.targets(ENABLED.subList(1, 3), "order.created", null));
    assertEquals(List.of(), IngestService.targets(List.of(), "user.created", null));
  }

  @Test
  void aTargetedEventGoesToItsEndpointWhateverItsFilter() {
    assertEquals(List.of(PAYMENTS), IngestService.targets(ENABLED, "user.created", UUID.fromString(PAYMENTS)));
    // Upper case names the same endpoint.
    assertEquals(List.of(USERS), IngestService.targets(ENABLED, "order.paid", UUID.fromString(USERS.toUpperCase())));
  }

  @Test
  void aTargetedEventGoesNowhereWhenItsEndpointIsNotEnabled() {
    assertEquals(List.of(), IngestService.targets(ENABLED, "user.created", UUID.randomUUID()));
    assertEquals(List.of(), IngestService.targets(List.of(), "user.created", UUID.fromString(ALL)));
  }

  // ---- the entity's answer ----

  private static final NewEvent UNTARGETED = new NewEvent("user.created", "{}", null);
  private static final NewEvent TARGETED = new NewEvent("user.created", "{}", USERS);

  @Test
  void theEntitysAnswerBecomesATypedResult() {
    String id = IngestService.eventId(TENANT, "order-7");
    assertEquals(
        new IngestResult.Accepted(id), IngestService.result(new EventEntity.Accepted(id, false), UNTARGETED));
    assertEquals(
        new IngestResult.Replayed(id), IngestService.result(new EventEntity.Accepted(id, true), UNTARGETED));
    assertEquals(new IngestResult.KeyConflict(id), IngestService.result(new EventEntity.Conflict(id), TARGETED));
  }

  @Test
  void nothingToDeliverToIsNoSubscribersOrAnUnavailableTarget() {
    EventEntity.NoSubscribers none = new EventEntity.NoSubscribers(IngestService.eventId(TENANT, "k"));
    assertEquals(new IngestResult.NoSubscribers("user.created"), IngestService.result(none, UNTARGETED));
    assertEquals(new IngestResult.EndpointUnavailable(USERS), IngestService.result(none, TARGETED));
  }
}
