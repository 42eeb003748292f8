package io.zyven.app.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import org.junit.jupiter.api.Test;

/** A configured portal signing key: base64 (either alphabet) of at least 256 bits, or the node does not start. */
class PortalKeysTest {

  @Test
  void aConfiguredKeyIsBase64OfAtLeast32Bytes() throws Exception {
    byte[] key = new byte[48];
    for (int i = 0; i < key.length; i++) key[i] = (byte) (i * 7 - 100);
    assertArrayEquals(key, PortalKeys.load(null, Base64.getEncoder().encodeToString(key)));
    assertArrayEquals(key, PortalKeys.load(null, " " + Base64.getUrlEncoder().withoutPadding().encodeToString(key) + "\n"));

    String short31 = Base64.getEncoder().encodeToString(new byte[31]);
    IllegalArgumentException tooShort = assertThrows(IllegalArgumentException.class, () -> PortalKeys.load(null, short31));
    assertTrue(tooShort.getMessage().contains("at least 32 bytes"), tooShort.getMessage());
    assertThrows(IllegalArgumentException.class, () -> PortalKeys.load(null, "not base64!"));
  }
}
