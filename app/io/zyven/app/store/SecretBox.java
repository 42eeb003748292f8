package io.zyven.app.store;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals endpoint signing secrets at rest: AES-256-GCM under the master key
 * ({@code ZYVEN_SECRET_KEY}), bound to the endpoint's id (the additional authenticated
 * data), so a sealed secret copied to another endpoint does not open. A sealed secret reads
 * {@code v1:<key id>:<base64url(nonce | ciphertext | tag)>}; the key id (8 hex digits of the
 * key's SHA-256) says which master key opens it, so that a rotated key can still be read
 * while endpoints are resealed under the new one. A value starting {@code whsec_} is a
 * secret from before sealing (a legacy journal): it opens as itself and is resealed.
 *
 * <p>Without a configured key, a development key is generated once per database and kept
 * there: every node of a cluster and every restart then use the same one, at the price that
 * the database holds the key beside what it seals. A node with a configured key still reads
 * that stored key (if any) as a previous key, so leaving development reseals everything.
 */
public final class SecretBox {
  public static final int KEY_BYTES = 32;
  private static final String VERSION = "v1";
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  /** How the master key came about: the start-up log says which. */
  public enum Origin {
    CONFIGURED,
    DEVELOPMENT
  }

  /** A configured master key that is not base64 of 32 bytes: the node does not start. Never holds the key. */
  public static final class BadKey extends IllegalArgumentException {
    BadKey(String message) {
      super(message);
    }
  }

  /** A sealed value this node cannot open: its key id is none of the node's keys, or it was tampered with. */
  public static final class CannotOpen extends RuntimeException {
    CannotOpen(String message) {
      super(message, null, false, false);
    }
  }

  private final String currentId;
  private final Map<String, SecretKeySpec> keys; // by id, the current one first
  private final Origin origin;

  SecretBox(byte[] current, List<byte[]> previous, Origin origin) {
    this.currentId = keyId(current);
    this.keys = new LinkedHashMap<>();
    keys.put(currentId, new SecretKeySpec(current, "AES"));
    for (byte[] p : previous) keys.putIfAbsent(keyId(p), new SecretKeySpec(p, "AES"));
    this.origin = origin;
  }

  /**
   * The node's box: {@code configured} (base64 of 32 bytes) as the current key and each of
   * {@code previous} (comma-separated, the same format) for opening only; without a
   * configured key, the database's development key, generated when there is none yet.
   *
   * @throws BadKey when a configured key is not base64 of 32 bytes
   */
  public static SecretBox load(Database db, String configured, String previous) throws Exception {
    List<byte[]> old = new ArrayList<>();
    for (String p : previous.split(",")) {
      if (!p.isBlank()) old.add(decode(p.trim(), "ZYVEN_SECRET_KEY_PREVIOUS"));
    }
    if (!configured.isBlank()) {
      byte[] key = decode(configured.trim(), "ZYVEN_SECRET_KEY");
      byte[] dev = storedDevelopmentKey(db, null);
      if (dev != null) old.add(dev);
      return new SecretBox(key, old, Origin.CONFIGURED);
    }
    byte[] fresh = new byte[KEY_BYTES];
    RANDOM.nextBytes(fresh);
    return new SecretBox(storedDevelopmentKey(db, fresh), old, Origin.DEVELOPMENT);
  }

  /** A box of given keys (tests, tools). */
  public static SecretBox of(byte[] current, List<byte[]> previous) {
    return new SecretBox(current, previous, Origin.CONFIGURED);
  }

  /** The stored development key; when {@code fresh} is given and none is stored, stores that first. */
  private static byte[] storedDevelopmentKey(Database db, byte[] fresh) throws Exception {
    return Keys.stored(db, "secret_dev_key", fresh);
  }

  static byte[] decode(String base64, String name) {
    byte[] key;
    try {
      key = Keys.decodeBase64(base64);
    } catch (IllegalArgumentException e) {
      throw new BadKey(name + " is not base64 (generate one with: openssl rand -base64 32)");
    }
    if (key.length != KEY_BYTES) {
      throw new BadKey(
          name + " must be base64 of exactly " + KEY_BYTES + " bytes (openssl rand -base64 32); it is " + key.length
              + " bytes");
    }
    return key;
  }

  public Origin origin() {
    return origin;
  }

  /** Whether keys other than the current one are there to open with. */
  public boolean hasPreviousKeys() {
    return keys.size() > 1;
  }

  /** The id of the key that seals: safe to log. */
  public String currentKeyId() {
    return currentId;
  }

  /** {@code secret} (a {@code whsec_…}), sealed for endpoint {@code endpointId} under the current key. */
  public String seal(String endpointId, String secret) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher cipher = cipher(Cipher.ENCRYPT_MODE, keys.get(currentId), nonce, endpointId);
      byte[] sealed = cipher.doFinal(secret.getBytes(StandardCharsets.UTF_8));
      byte[] out = new byte[NONCE_BYTES + sealed.length];
      System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
      System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
      return VERSION + ":" + currentId + ":" + Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  /**
   * The secret in {@code sealed}, sealed for {@code endpointId}; a legacy plain secret as
   * it is; null for null. Never puts the secret in an exception.
   *
   * @throws CannotOpen when none of this node's keys opens it
   */
  public String open(String endpointId, String sealed) {
    if (sealed == null || !isSealed(sealed)) return sealed;
    String[] parts = sealed.split(":", 3);
    SecretKeySpec key = parts.length == 3 ? keys.get(parts[1]) : null;
    if (key == null) {
      throw new CannotOpen("the secret of endpoint " + endpointId + " is sealed under master key "
          + (parts.length == 3 ? parts[1] : "?") + ", which this node does not have (keys: " + keys.keySet()
          + "); every node needs the same ZYVEN_SECRET_KEY, and ZYVEN_SECRET_KEY_PREVIOUS while resealing");
    }
    try {
      byte[] in = Base64.getUrlDecoder().decode(parts[2]);
      Cipher cipher = cipher(Cipher.DECRYPT_MODE, key, java.util.Arrays.copyOf(in, NONCE_BYTES), endpointId);
      return new String(cipher.doFinal(in, NONCE_BYTES, in.length - NONCE_BYTES), StandardCharsets.UTF_8);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new CannotOpen("the sealed secret of endpoint " + endpointId + " does not open under master key "
          + parts[1] + " (tampered with, or sealed for another endpoint)");
    }
  }

  /** Whether {@code value} (null allowed) must be resealed: plain, or sealed under a key that is not the current one. */
  public boolean needsReseal(String value) {
    return value != null && !currentId.equals(keyIdOf(value));
  }

  /** The id of the key {@code value} is sealed under; null for null or a legacy plain secret. */
  public static String keyIdOf(String value) {
    if (value == null || !isSealed(value)) return null;
    String[] parts = value.split(":", 3);
    return parts.length == 3 ? parts[1] : null;
  }

  private static boolean isSealed(String value) {
    return value.startsWith(VERSION + ":");
  }

  private static Cipher cipher(int mode, SecretKeySpec key, byte[] nonce, String endpointId)
      throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
    cipher.updateAAD(("zyven endpoint secret " + endpointId).getBytes(StandardCharsets.UTF_8));
    return cipher;
  }

  /** 8 hex digits of the key's SHA-256: names the key without revealing it. */
  static String keyId(byte[] key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key), 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
