package io.zyven.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Standard Webhooks signature scheme, against the shared test vectors. */
class SignatureTest {

  private static JsonNode vectors;

  @BeforeAll
  static void loadVectors() throws IOException {
    try (InputStream in = SignatureTest.class.getResourceAsStream("/vectors/standard-webhooks.json")) {
      assertNotNull(in, "vectors/standard-webhooks.json is not on the test classpath");
      vectors = new ObjectMapper().readTree(in);
    }
  }

  private record Vector(String secret, String id, long timestamp, byte[] payload, String signature) {
    static Vector of(JsonNode v) {
      return new Vector(
          v.get("secret").asText(),
          v.get("id").asText(),
          v.get("timestamp").asLong(),
          v.get("payload").asText().getBytes(StandardCharsets.UTF_8),
          v.get("signature").asText());
    }
  }

  @Test
  void everyValidVectorSignsAndVerifies() {
    JsonNode valid = vectors.get("valid");
    assertTrue(valid.size() > 0, "no valid vectors");
    for (JsonNode node : valid) {
      Vector v = Vector.of(node);
      assertEquals(v.signature(), Signature.sign(v.secret(), v.id(), v.timestamp(), v.payload()));
      assertTrue(Signature.verify(v.secret(), v.id(), v.timestamp(), v.payload(), v.signature()));
    }
  }

  @Test
  void noMustNotVerifyVectorVerifies() {
    JsonNode bad = vectors.get("must_not_verify");
    assertTrue(bad.size() > 0, "no must_not_verify vectors");
    for (JsonNode node : bad) {
      Vector v = Vector.of(node);
      assertFalse(
          Signature.verify(v.secret(), v.id(), v.timestamp(), v.payload(), v.signature()),
          () -> "verified, but must not: " + node.path("why").asText());
    }
  }

  @Test
  void anyChangeToIdTimestampOrBodyFailsVerification() {
    Vector v = Vector.of(vectors.get("valid").get(0));
    assertFalse(Signature.verify(v.secret(), v.id() + "x", v.timestamp(), v.payload(), v.signature()));
    assertFalse(Signature.verify(v.secret(), v.id(), v.timestamp() + 1, v.payload(), v.signature()));
    byte[] body = v.payload().clone();
    body[body.length - 1] ^= 1;
    assertFalse(Signature.verify(v.secret(), v.id(), v.timestamp(), body, v.signature()));
  }

  @Test
  void aHeaderWithOneWrongAndOneRightSignatureVerifies() {
    Vector v = Vector.of(vectors.get("valid").get(0));
    String wrong = Vector.of(vectors.get("must_not_verify").get(0)).signature();

    assertTrue(Signature.verify(v.secret(), v.id(), v.timestamp(), v.payload(), wrong + " " + v.signature()));
    assertTrue(Signature.verify(v.secret(), v.id(), v.timestamp(), v.payload(), v.signature() + " " + wrong));
    assertFalse(Signature.verify(v.secret(), v.id(), v.timestamp(), v.payload(), wrong + " " + wrong));
  }

  @Test
  void otherVersionsAreSkippedNotFailed() {
    Vector v = Vector.of(vectors.get("valid").get(0));
    String v2 = "v2," + Base64.getEncoder().encodeToString(new byte[32]);

    assertTrue(Signature.verify(v.secret(), v.id(), v.timestamp(), v.payload(), v2 + " " + v.signature()));
    // The right MAC under another version label is not a v1 signature.
    String relabelled = "v2," + v.signature().substring("v1,".length());
    assertFalse(Signature.verify(v.secret(), v.id(), v.timestamp(), v.payload(), relabelled));
  }

  @Test
  void aHeaderForTwoSecretsCarriesOneSignatureForEach() {
    String a = "whsec_" + Base64.getEncoder().encodeToString("a-secret-of-24-bytes-abc".getBytes(StandardCharsets.US_ASCII));
    String b = "whsec_" + Base64.getEncoder().encodeToString("another-secret-32-bytes-long-xyz".getBytes(StandardCharsets.US_ASCII));
    String id = "msg_2Lq4nB0nSWu6xmV4";
    long ts = 1_740_830_400L;
    byte[] body = "{\"order\":42}".getBytes(StandardCharsets.UTF_8);

    String header = Signature.header(List.of(a, b), id, ts, body);

    String[] entries = header.split(" ");
    assertEquals(2, entries.length, header);
    assertEquals(Signature.sign(a, id, ts, body), entries[0]);
    assertEquals(Signature.sign(b, id, ts, body), entries[1]);
    assertTrue(Signature.verify(a, id, ts, body, entries[0]));
    assertTrue(Signature.verify(b, id, ts, body, entries[1]));
    assertFalse(Signature.verify(a, id, ts, body, entries[1]));
    assertFalse(Signature.verify(b, id, ts, body, entries[0]));
    // Either secret verifies the whole header.
    assertTrue(Signature.verify(a, id, ts, body, header));
    assertTrue(Signature.verify(b, id, ts, body, header));
  }

  @Test
  void theKeyIsTheBase64DecodingAfterThePrefix() {
    byte[] raw = "0123456789abcdef01234567".getBytes(StandardCharsets.US_ASCII);
    String secret = "whsec_" + Base64.getEncoder().encodeToString(raw);
    assertArrayEquals(raw, Signature.key(secret));
  }
}
