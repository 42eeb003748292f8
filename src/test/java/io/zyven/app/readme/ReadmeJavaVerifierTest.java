package io.zyven.app.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.protocol.Signature;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The README's Java verification snippet, compiled as a reader would paste it into a class,
 * checked against webhooks signed the way Zyven signs them.
 */
class ReadmeJavaVerifierTest {
  private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  private static final byte[] BODY = "{\"id\":42}".getBytes(StandardCharsets.UTF_8);

  private static Method verify;

  @BeforeAll
  static void compileTheSnippet() throws Exception {
    List<String> snippets = Readme.blocks(Readme.text(), "java");
    assertEquals(1, snippets.size(), "the README has one Java snippet");
    List<String> lines = snippets.get(0).lines().toList();
    String imports = lines.stream().filter(l -> l.startsWith("import ")).collect(Collectors.joining("\n"));
    String body = lines.stream().filter(l -> !l.startsWith("import ")).collect(Collectors.joining("\n"));
    assertTrue(lines.size() <= 20, "a short snippet: " + lines.size() + " lines");

    Path dir = Files.createTempDirectory("readme-snippet");
    Path source = dir.resolve("ReadmeVerifier.java");
    Files.writeString(source, imports + "\npublic class ReadmeVerifier {\n" + body + "\n}\n");
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertEquals(0, javac.run(null, null, null, "-d", dir.toString(), source.toString()), "the snippet compiles");
    Class<?> type = new URLClassLoader(new URL[] {dir.toUri().toURL()}).loadClass("ReadmeVerifier");
    verify = type.getDeclaredMethod("verify", String.class, String.class, String.class, String.class, byte[].class);
    verify.setAccessible(true);
  }

  private static boolean verify(String id, long timestamp, String signatures, byte[] body) throws Exception {
    return (boolean) verify.invoke(null, SECRET, id, Long.toString(timestamp), signatures, body);
  }

  private static long now() {
    return System.currentTimeMillis() / 1000;
  }

  @Test
  void acceptsAWebhookSignedAsZyvenSignsIt() throws Exception {
    long ts = now();
    assertTrue(verify("evt-1", ts, Signature.sign(SECRET, "evt-1", ts, BODY), BODY));
  }

  @Test
  void acceptsAnyOfSeveralSignaturesWhileASecretRotates() throws Exception {
    long ts = now();
    String header = Signature.header(List.of("whsec_" + "A".repeat(32), SECRET), "evt-1", ts, BODY);
    assertTrue(header.contains(" "), "two signatures");
    assertTrue(verify("evt-1", ts, header, BODY));
  }

  @Test
  void refusesAChangedBodyIdOrTimestamp() throws Exception {
    long ts = now();
    String signature = Signature.sign(SECRET, "evt-1", ts, BODY);
    assertFalse(verify("evt-1", ts, signature, "{\"id\":43}".getBytes(StandardCharsets.UTF_8)));
    assertFalse(verify("evt-2", ts, signature, BODY));
    assertFalse(verify("evt-1", ts - 1, signature, BODY));
  }

  @Test
  void refusesATimestampMoreThanFiveMinutesOldButNotOneJustUnder() throws Exception {
    long old = now() - 301;
    assertFalse(verify("evt-1", old, Signature.sign(SECRET, "evt-1", old, BODY), BODY));
    long recent = now() - 290;
    assertTrue(verify("evt-1", recent, Signature.sign(SECRET, "evt-1", recent, BODY), BODY));
  }
}
