package io.zyven.protocol;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The Standard Webhooks signature scheme: {@code v1,<base64 HMAC-SHA256(key, id + "." +
 * timestamp + "." + body)>}, where the key is the base64-decoded part of a
 * {@code whsec_} secret. While a rotated secret is still valid, the header carries one
 * signature per secret, separated by spaces; a receiver accepts any that matches.
 */
public final class Signature {
  private Signature() {}

  public static final String SECRET_PREFIX = "whsec_";

  // Looking a Mac up is a provider search under a lock; every request signs, so each thread
  // keeps one and only gives it a new key.
  private static final ThreadLocal<Mac> HMAC =
      ThreadLocal.withInitial(
          () -> {
            try {
              return Mac.getInstance("HmacSHA256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("HmacSHA256 unavailable", e);
            }
          });

  /** The {@code webhook-signature} header value for these secrets (newest first). */
  public static String header(List<String> secrets, String msgId, long timestamp, byte[] body) {
    return secrets.stream().map(s -> sign(s, msgId, timestamp, body)).collect(Collectors.joining(" "));
  }

  /** One {@code v1,<base64>} signature. */
  public static String sign(String secret, String msgId, long timestamp, byte[] body) {
    try {
      Mac mac = HMAC.get();
      mac.init(new SecretKeySpec(key(secret), "HmacSHA256")); // also resets it
      mac.update((msgId + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
      return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
    } catch (InvalidKeyException e) {
      throw new IllegalArgumentException("not an HMAC key", e);
    }
  }

  /** Whether any {@code v1} entry of {@code header} is this secret's signature (constant time). */
  public static boolean verify(String secret, String msgId, long timestamp, byte[] body, String header) {
    byte[] expected = sign(secret, msgId, timestamp, body).getBytes(StandardCharsets.US_ASCII);
    boolean match = false;
    for (String candidate : header.trim().split(" +")) {
      if (!candidate.startsWith("v1,")) continue; // other versions are skipped, not failed
      match |= MessageDigest.isEqual(expected, candidate.getBytes(StandardCharsets.US_ASCII));
    }
    return match;
  }

  /** The HMAC key: the base64 decoding of what follows {@code whsec_}. */
  public static byte[] key(String secret) {
    String encoded = secret.startsWith(SECRET_PREFIX) ? secret.substring(SECRET_PREFIX.length()) : secret;
    return Base64.getDecoder().decode(encoded);
  }
}
