package io.zyven.app.testing;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A receiver's signature check, written from the Standard Webhooks spec and independent of
 * Zyven's own signing code: HMAC-SHA256 over {@code id.timestamp.body} with the
 * base64-decoded secret after {@code whsec_}; the header is a space-separated list and any
 * {@code v1} entry may match; timestamps older or newer than 5 minutes are refused.
 */
public final class WebhookVerifier {
  private WebhookVerifier() {}

  public static boolean verify(String secret, String id, String timestamp, byte[] body, String header, long nowSeconds) {
    if (Math.abs(nowSeconds - Long.parseLong(timestamp)) > 300) return false;
    byte[] expected = ("v1," + hmac(secret, id + "." + timestamp + ".", body)).getBytes(StandardCharsets.US_ASCII);
    for (String entry : header.split(" ")) {
      if (entry.startsWith("v1,") && MessageDigest.isEqual(expected, entry.getBytes(StandardCharsets.US_ASCII))) {
        return true;
      }
    }
    return false;
  }

  static String hmac(String secret, String prefix, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
      mac.update(prefix.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(mac.doFinal(body));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
