package io.zyven.app.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
/** The sandbox itself, without a node: the contract, the bounds, and what it refuses. */
class TransformationsTest {
  static final Transformations.Settings SETTINGS =
      new Transformations.Settings(
          Duration.ofMillis(500), Duration.ofSeconds(2), 128L << 20, 10_000_000, 1 << 20, 2, 100);
  static final Transformations T = new Transformations(SETTINGS);

  @AfterAll
  static void close() {
    T.close();
  }

  static Transformations.Result run(String source, String payload) throws Exception {
    return T.apply(source, "order.created", "evt_1", payload).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void reshapesTheBodyAndAddsHeaders() throws Exception {
    Transformations.Result r =
        run(
            "function handler(webhook) {\n"
                + "  webhook.payload = {text: webhook.type + ' ' + webhook.payload.id, event: webhook.id};\n"
                + "  webhook.headers['X-Tenant'] = 'acme';\n"
                + "  return webhook;\n"
                + "}",
            "{\"id\":42}");
    Transformations.Transformed t = assertInstanceOf(Transformations.Transformed.class, r);
    assertEquals("{\"text\":\"order.created 42\",\"event\":\"evt_1\"}", t.body());
    assertEquals(Map.of("X-Tenant", "acme"), t.headers());
  }

  @Test
  void cancels() throws Exception {
    assertInstanceOf(
        Transformations.Cancelled.class,
        run("function handler(w) { if (w.payload.test) w.cancel = true; return w; }", "{\"test\":true}"));
  }

  @Test
  void aThrowingScriptFailsWithItsMessageAndLine() throws Exception {
    Transformations.Failed f =
        assertInstanceOf(
            Transformations.Failed.class, run("function handler(w) {\n  throw new Error('no amount');\n}", "{}"));
    assertEquals("transformation threw Error: no amount (line 2)", f.reason());
  }

  @Test
  void anInfiniteLoopIsStoppedWithinItsCpuTime() throws Exception {
    long t0 = System.nanoTime();
    Transformations.Failed f =
        assertInstanceOf(Transformations.Failed.class, run("function handler(w) { for (;;) {} }", "{}"));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(f.reason().startsWith("transformation exceeded its"), f.reason());
    assertTrue(ms < 3_000, "stopped after " + ms + " ms");
  }

  @Test
  void unboundedAllocationIsStoppedWithinItsMemory() throws Exception {
    long t0 = System.nanoTime();
    Transformations.Failed f =
        assertInstanceOf(
            Transformations.Failed.class,
            run("function handler(w) { const a = []; for (;;) a.push(new Array(100000).fill(1)); }", "{}"));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(f.reason().startsWith("transformation exceeded its"), f.reason());
    assertTrue(ms < 3_000, "stopped after " + ms + " ms");
  }

  @Test
  void aCatastrophicRegexIsStoppedWithinItsBounds() throws Exception {
    long t0 = System.nanoTime();
    // The backreference forces a backtracking matcher, exponential on this input.
    Transformations.Failed f =
        assertInstanceOf(
            Transformations.Failed.class,
            run("function handler(w) { w.payload = {m: /^(a+)+\\1$/.test('a'.repeat(40) + 'b')}; return w; }", "{}"));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(f.reason().startsWith("transformation exceeded its"), f.reason());
    assertTrue(ms < 3_000, "stopped after " + ms + " ms");
  }

  @Test
  void reservedHeadersAndGarbageAreRefused() throws Exception {
    assertEquals(
        "transformation returned header 'webhook-signature' is not allowed",
        ((Transformations.Failed) run("function handler(w) { w.headers['webhook-signature'] = 'x'; return w; }", "{}")).reason());
    assertInstanceOf(Transformations.Failed.class, run("function handler(w) { return 7; }", "{}"));
    assertInstanceOf(Transformations.Failed.class, run("function handler(w) { w.payload = undefined; return w; }", "{}"));
  }

  @Test
  void theSandboxHasNoHostAccess() throws Exception {
    // The Java object is there, but it finds no class: host class lookup is off.
    Transformations.Failed f =
        assertInstanceOf(
            Transformations.Failed.class,
            run("function handler(w) { Java.type('java.lang.System').exit(1); return w; }", "{}"));
    assertTrue(f.reason().startsWith("transformation threw"), f.reason());
    Transformations.Transformed t =
        assertInstanceOf(
            Transformations.Transformed.class,
            run("function handler(w) { w.payload = {polyglot: typeof Polyglot, load: typeof load, print: typeof print,"
                + " require: typeof require, process: typeof process}; return w; }", "{}"));
    assertEquals(
        "{\"polyglot\":\"undefined\",\"load\":\"undefined\",\"print\":\"undefined\",\"require\":\"undefined\",\"process\":\"undefined\"}",
        t.body());
  }

  @Test
  void checkRefusesBrokenSources() {
    CompletionException syntax =
        assertThrows(CompletionException.class, () -> T.check("function handler(w) { return w").toCompletableFuture().join());
    assertInstanceOf(Transformations.Invalid.class, syntax.getCause());
    assertEquals("transformation has a syntax error: SyntaxError: at 1:30 Expected } but found eof", syntax.getCause().getMessage());
    CompletionException noHandler =
        assertThrows(CompletionException.class, () -> T.check("function handle(w) { return w }").toCompletableFuture().join());
    assertEquals("transformation must define function handler(webhook)", noHandler.getCause().getMessage());
    T.check("function handler(w) { return w }").toCompletableFuture().join();
  }
}
