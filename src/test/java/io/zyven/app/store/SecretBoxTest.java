package io.zyven.app.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.TestPostgres;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sealing endpoint secrets: AES-GCM under the master key, bound to the endpoint, rotatable. */
class SecretBoxTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String SECRET = "whsec_" + Base64.getEncoder().encodeToString(bytes(32));

  @Test
  void aSealedSecretOpensForItsEndpointOnlyAndHidesTheSecret() {
    SecretBox box = SecretBox.of(bytes(32), List.of());
    String sealed = box.seal("e-1", SECRET);

    assertTrue(sealed.startsWith("v1:" + box.currentKeyId() + ":"), sealed);
    assertFalse(sealed.contains(SECRET.substring(6)), "neither the secret nor its base64");
    assertNotEquals(sealed, box.seal("e-1", SECRET), "a fresh nonce each time");
    assertEquals(SECRET, box.open("e-1", sealed));
    assertThrows(SecretBox.CannotOpen.class, () -> box.open("e-2", sealed), "bound to its endpoint");
    String tampered = sealed.substring(0, sealed.length() - 2) + (sealed.endsWith("A") ? "BB" : "AA");
    SecretBox.CannotOpen e = assertThrows(SecretBox.CannotOpen.class, () -> box.open("e-1", tampered));
    assertFalse(e.getMessage().contains(SECRET.substring(6)));
  }

  @Test
  void aPreviousKeyOpensButOnlyTheCurrentOneSeals() {
    byte[] a = bytes(32);
    byte[] b = bytes(32);
    SecretBox oldBox = SecretBox.of(a, List.of());
    String underA = oldBox.seal("e", SECRET);

    SecretBox rotated = SecretBox.of(b, List.of(a));
    assertEquals(SECRET, rotated.open("e", underA));
    assertTrue(rotated.needsReseal(underA));
    String underB = rotated.seal("e", SECRET);
    assertFalse(rotated.needsReseal(underB));
    assertEquals(rotated.currentKeyId(), SecretBox.keyIdOf(underB));

    SecretBox onlyB = SecretBox.of(b, List.of());
    assertEquals(SECRET, onlyB.open("e", underB));
    SecretBox.CannotOpen missing = assertThrows(SecretBox.CannotOpen.class, () -> onlyB.open("e", underA));
    assertTrue(missing.getMessage().contains(oldBox.currentKeyId()), "names the missing key: " + missing.getMessage());
  }

  @Test
  void aLegacyPlainSecretOpensAsItselfAndIsToBeResealed() {
    SecretBox box = SecretBox.of(bytes(32), List.of());
    assertEquals(SECRET, box.open("e", SECRET));
    assertTrue(box.needsReseal(SECRET));
    assertNull(SecretBox.keyIdOf(SECRET));
    assertFalse(box.needsReseal(null));
    assertNull(box.open("e", null));
  }

  @Test
  void aConfiguredKeyIsBase64OfExactly32BytesOrTheNodeDoesNotStart() throws Exception {
    TestPostgres pg = TestPostgres.shared();
    Database db = new Database(pg.jdbcUrl(), "postgres", "", 2);
    try {
      db.migrate();
      byte[] key = bytes(32);
      SecretBox box = SecretBox.load(db, Base64.getEncoder().encodeToString(key), "");
      assertEquals(SecretBox.Origin.CONFIGURED, box.origin());
      assertEquals(SecretBox.keyId(key), box.currentKeyId());
      assertEquals(SECRET, SecretBox.of(key, List.of()).open("e", box.seal("e", SECRET)));
      assertEquals(SecretBox.keyId(key),
          SecretBox.load(db, " " + Base64.getUrlEncoder().withoutPadding().encodeToString(key) + "\n", "").currentKeyId());

      IllegalArgumentException shortKey = assertThrows(IllegalArgumentException.class,
          () -> SecretBox.load(db, Base64.getEncoder().encodeToString(bytes(16)), ""));
      assertTrue(shortKey.getMessage().contains("ZYVEN_SECRET_KEY must be base64 of exactly 32 bytes"), shortKey.getMessage());
      assertThrows(IllegalArgumentException.class, () -> SecretBox.load(db, "not base64!", ""));
      IllegalArgumentException badPrevious = assertThrows(IllegalArgumentException.class,
          () -> SecretBox.load(db, Base64.getEncoder().encodeToString(key), "abc"));
      assertTrue(badPrevious.getMessage().startsWith("ZYVEN_SECRET_KEY_PREVIOUS"), badPrevious.getMessage());
    } finally {
      db.close();
    }
  }

  @Test
  void withoutAConfiguredKeyEveryNodeOfADatabaseGetsTheSameDevelopmentKey() throws Exception {
    TestPostgres pg = TestPostgres.shared();
    Database db = new Database(pg.jdbcUrl(), "postgres", "", 2);
    try {
      db.migrate();
      SecretBox first = SecretBox.load(db, "", "");
      SecretBox second = SecretBox.load(db, "", "");
      assertEquals(SecretBox.Origin.DEVELOPMENT, first.origin());
      assertEquals(first.currentKeyId(), second.currentKeyId());
      assertEquals(SECRET, second.open("e", first.seal("e", SECRET)));
      // Leaving development: a configured key still opens what the development key sealed.
      SecretBox configured = SecretBox.load(db, Base64.getEncoder().encodeToString(bytes(32)), "");
      assertEquals(SECRET, configured.open("e", first.seal("e", SECRET)));
      assertTrue(configured.needsReseal(first.seal("e", SECRET)));
    } finally {
      db.close();
    }
  }

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }
}
