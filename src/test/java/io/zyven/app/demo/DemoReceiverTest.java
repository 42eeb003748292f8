package io.zyven.app.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zyven.protocol.Signature;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The demo receiver: it verifies as a real receiver must, and prints strangers' text safely. */
class DemoReceiverTest {
  private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  private static final byte[] BODY = "{\"id\":42}".getBytes(StandardCharsets.UTF_8);

  @Test
  void theStandardWebhooksVectorsVerifyAndTheirCorruptionsDoNot() throws Exception {
    JsonNode vectors;
    try (InputStream in = getClass().getResourceAsStream("/vectors/standard-webhooks.json")) {
      vectors = new ObjectMapper().readTree(in);
    }
    assertTrue(vectors.get("valid").size() > 0 && vectors.get("must_not_verify").size() > 0, "vectors are there");
    for (JsonNode v : vectors.get("valid")) assertNull(check(v), v.toString());
    for (JsonNode v : vectors.get("must_not_verify")) assertEquals("signature does not match", check(v));
  }

  private static String check(JsonNode v) {
    long ts = v.get("timestamp").asLong();
    Clock then = Clock.fixed(Instant.ofEpochSecond(ts), ZoneOffset.UTC);
    return DemoReceiver.check(v.get("secret").asText(), v.get("id").asText(), Long.toString(ts),
        v.get("signature").asText(), v.get("payload").asText().getBytes(StandardCharsets.UTF_8), then);
  }

  @Test
  void aTimestampMoreThanFiveMinutesAwayIsNotVerified() {
    Clock clock = Clock.systemUTC();
    long old = clock.instant().getEpochSecond() - 301;
    String signature = Signature.sign(SECRET, "evt", old, BODY);
    assertEquals("timestamp more than 5 minutes from now",
        DemoReceiver.check(SECRET, "evt", Long.toString(old), signature, BODY, clock));
    assertEquals("missing webhook-* headers", DemoReceiver.check(SECRET, "evt", null, signature, BODY, clock));
    long recent = clock.instant().getEpochSecond() - 290;
    assertNull(DemoReceiver.check(SECRET, "evt", Long.toString(recent), Signature.sign(SECRET, "evt", recent, BODY), BODY, clock));
  }

  @Test
  void controlCharactersFromStrangersNeverReachTheTerminal() {
    String hostile = "ok\u001b[2J\u001b]0;pwned\u0007\r\nnext";
    String shown = DemoReceiver.printable(hostile, 300);
    assertFalse(shown.chars().anyMatch(c -> c < 0x20 || c == 0x7f), shown);
    assertEquals("ok\\u001b[2J\\u001b]0;pwned\\u0007\\u000d\\nnext", shown);
    assertEquals("abc…", DemoReceiver.printable("abcdef", 3));
  }

  @Test
  void optionsAreCheckedWithAUsageLine() {
    assertEquals(new DemoReceiver.Options(9000, SECRET, 503),
        DemoReceiver.Options.parse(new String[] {"--port", "9000", "--secret", SECRET, "--status", "503"}));
    assertEquals(200, DemoReceiver.Options.parse(new String[] {"--port", "1", "--secret", SECRET}).status());
    for (String[] bad : List.of(
        new String[] {"--port", "9000"},
        new String[] {"--port", "x", "--secret", SECRET},
        new String[] {"--port", "9000", "--secret", "whsec_!!!"},
        new String[] {"--port", "9000", "--secret", SECRET, "--status", "42"},
        new String[] {"--port", "9000", "--secret", SECRET, "--color"})) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DemoReceiver.Options.parse(bad));
      assertTrue(e.getMessage().contains("usage: zyven receiver"), e.getMessage());
    }
  }

  @Test
  void aSignedVerificationChallengeIsEchoedAndAForgedOneIsNot() throws Exception {
    byte[] challenge = "{\"type\":\"webhook.verification\",\"challenge\":\"c-123_abc\"}".getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    try (DemoReceiver receiver = DemoReceiver.start(
        new DemoReceiver.Options(0, SECRET, 200), new PrintStream(printed, true, StandardCharsets.UTF_8), Clock.systemUTC())) {
      HttpClient http = HttpClient.newHttpClient();
      URI uri = URI.create("http://127.0.0.1:" + receiver.port() + "/hooks");
      long ts = Instant.now().getEpochSecond();
      HttpResponse<String> signed = http.send(
          HttpRequest.newBuilder(uri)
              .header("webhook-id", "ver-1").header("webhook-timestamp", Long.toString(ts))
              .header("webhook-signature", Signature.sign(SECRET, "ver-1", ts, challenge))
              .header("X-Event-Type", "webhook.verification")
              .POST(HttpRequest.BodyPublishers.ofByteArray(challenge)).build(),
          HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> forged = http.send(
          HttpRequest.newBuilder(uri)
              .header("webhook-id", "ver-2").header("webhook-timestamp", Long.toString(ts))
              .header("webhook-signature", Signature.sign("whsec_" + "A".repeat(32), "ver-2", ts, challenge))
              .header("X-Event-Type", "webhook.verification")
              .POST(HttpRequest.BodyPublishers.ofByteArray(challenge)).build(),
          HttpResponse.BodyHandlers.ofString());

      assertEquals(200, signed.statusCode());
      assertEquals("c-123_abc", new ObjectMapper().readTree(signed.body()).get("challenge").asText(), signed.body());
      assertEquals("{\"status\":200}", forged.body());
    }
    List<String> lines = printed.toString(StandardCharsets.UTF_8).lines().toList();
    assertTrue(lines.get(1).contains("ver-1 webhook.verification verified -> 200") && lines.get(1).endsWith("(challenge echoed)"),
        lines.get(1));
    assertFalse(lines.get(2).contains("echoed"), lines.get(2));
  }

  @Test
  void itAnswersWithTheChosenStatusAndPrintsOneLinePerWebhook() throws Exception {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
    try (DemoReceiver receiver =
        DemoReceiver.start(new DemoReceiver.Options(0, SECRET, 503), out, Clock.systemUTC())) {
      HttpClient http = HttpClient.newHttpClient();
      URI uri = URI.create("http://127.0.0.1:" + receiver.port() + "/hooks");
      long ts = Instant.now().getEpochSecond();
      HttpResponse<String> signed = http.send(
          HttpRequest.newBuilder(uri)
              .header("webhook-id", "evt-1").header("webhook-timestamp", Long.toString(ts))
              .header("webhook-signature", Signature.sign(SECRET, "evt-1", ts, BODY))
              .header("X-Event-Type", "user.created")
              .POST(HttpRequest.BodyPublishers.ofByteArray(BODY)).build(),
          HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> forged = http.send(
          HttpRequest.newBuilder(uri)
              .header("webhook-id", "evt-2").header("webhook-timestamp", Long.toString(ts))
              .header("webhook-signature", Signature.sign("whsec_" + "A".repeat(32), "evt-2", ts, BODY))
              .header("X-Event-Type", "user.created")
              .POST(HttpRequest.BodyPublishers.ofByteArray(BODY)).build(),
          HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> probe = http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());

      assertEquals(503, signed.statusCode());
      assertEquals(503, forged.statusCode());
      assertEquals(204, probe.statusCode());
    }
    List<String> lines = printed.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(3, lines.size(), "a start line and one line per webhook, none for the probe: " + lines);
    assertTrue(lines.get(1).matches("\\d\\d:\\d\\d:\\d\\d evt-1 user\\.created verified -> 503 \\{\"id\":42}"), lines.get(1));
    assertTrue(lines.get(2).contains("evt-2 user.created NOT verified (signature does not match) -> 503"), lines.get(2));
  }
}
