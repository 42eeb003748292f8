package io.zyven.app.transform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import io.zyven.app.json.Json;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.EnvironmentAccess;
import org.graalvm.polyglot.HostAccess;
import org.graalvm.polyglot.PolyglotAccess;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.ResourceLimits;
import org.graalvm.polyglot.SandboxPolicy;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.Value;
import org.graalvm.polyglot.io.IOAccess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs endpoints' payload transformations: JavaScript in GraalJS, in a sandbox with no host
 * access, IO, threads, processes, native code, environment or other languages.
 *
 * <p>The contract: the source defines {@code function handler(webhook)}, where {@code
 * webhook} is {@code {type, id, payload, headers: {}}}; it returns that object, changed as it
 * likes. From what it returns, {@code payload} becomes the request body, {@code headers}
 * (string values) are added to the request, and {@code cancel: true} cancels the delivery.
 *
 * <p>Each run gets a fresh context (nothing leaks from one event to the next) on a shared
 * engine, which keeps the parsed sources. A run is bounded by a statement count, by the CPU
 * time and bytes its thread allocates, by wall time and by the size of its output; a
 * watchdog measures the running thread and cancels the context when a bound is passed. Runs
 * happen on a small executor of their own, never on an actor dispatcher.
 */
public final class Transformations implements Extension, AutoCloseable {

  /** The node's one instance, made on first use (a node with no transformation never starts the engine). */
  public static final ExtensionId<Transformations> ID =
      new ExtensionId<>() {
        @Override
        public Transformations createExtension(ActorSystem<?> system) {
          Transformations t = new Transformations(Settings.from(system.settings().config().getConfig("zyven.transformation")));
          system.getWhenTerminated().thenRun(t::close);
          return t;
        }
      };

  public static Transformations get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** Bounds and pool size, from {@code zyven.transformation}. */
  public record Settings(
      Duration cpuTime,
      Duration wallTime,
      long allocatedBytes,
      long statements,
      int maxOutputBytes,
      int threads,
      int queueLimit) {

    public static Settings from(Config c) {
      return new Settings(
          c.getDuration("cpu-time"),
          c.getDuration("wall-time"),
          c.getBytes("allocated-bytes"),
          c.getLong("statement-limit"),
          (int) Math.min(Integer.MAX_VALUE, c.getBytes("max-output")),
          c.getInt("threads"),
          c.getInt("queue-limit"));
    }
  }

  /** What a run came to. */
  public sealed interface Result {}

  /** Send {@code body} (JSON text) with {@code headers} added. */
  public record Transformed(String body, Map<String, String> headers) implements Result {}

  /** The script asked not to send this delivery. */
  public record Cancelled() implements Result {}

  /** The script failed, passed a bound, or returned something Zyven cannot send. */
  public record Failed(String reason) implements Result {}

  /**
   * Every runner is busy: the queue was full, or the run waited in it longer than its wall
   * time. Not the script's fault; try again soon.
   */
  public record Busy() implements Result {}

  /** Why a source cannot be saved. */
  public static final class Invalid extends RuntimeException {
    public Invalid(String message) {
      super(message, null, false, false);
    }
  }

  /** The longest source an endpoint may hold. */
  public static final int MAX_SOURCE_CHARS = 16 * 1024;

  private static final String NAME = "transformation.js";
  // Runs the handler and hands back JSON text: only a string crosses into Java.
  private static final Source RUN =
      Source.create(
          "js",
          "(function (input) {\n"
              + "  if (typeof handler !== 'function') throw new TypeError('the transformation must define function handler(webhook)');\n"
              + "  const out = handler(JSON.parse(input));\n"
              + "  if (out === undefined || out === null || typeof out !== 'object' || Array.isArray(out))\n"
              + "    throw new TypeError('handler must return the webhook object, e.g. return webhook');\n"
              + "  return JSON.stringify({payload: out.payload, headers: out.headers, cancel: out.cancel});\n"
              + "})");
  private static final Source CHECK =
      Source.create("js", "typeof handler === 'function'");

  private static final Logger log = LoggerFactory.getLogger(Transformations.class);
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private static final Duration WATCH_EVERY = Duration.ofMillis(5);

  private final Settings settings;
  private Engine engine; // built by the first run, on a runner thread: see engine()
  private final ResourceLimits limits;
  private final ThreadPoolExecutor runners;
  private final ScheduledExecutorService watchdog;
  private final Map<Run, Boolean> running = new ConcurrentHashMap<>();
  /** When the warm-up ended (far in the future until then): waiting in the queue counts from here. */
  private volatile long warmedAt = Long.MAX_VALUE;

  public Transformations(Settings settings) {
    this.settings = settings;
    // One instance for every context of the shared engine.
    this.limits = ResourceLimits.newBuilder().statementLimit(settings.statements(), null).build();
    AtomicInteger n = new AtomicInteger();
    this.runners =
        new ThreadPoolExecutor(
            settings.threads(), settings.threads(), 0, TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(settings.queueLimit()),
            r -> daemon(r, "zyven-transform-" + n.incrementAndGet()));
    this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "zyven-transform-watchdog"));
    watchdog.scheduleWithFixedDelay(this::watch, WATCH_EVERY.toMillis(), WATCH_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    warmUp();
  }

  /**
   * The engine's first context initializes the JavaScript realm's built-ins, which costs far
   * more CPU than a run may: done here, outside any run's bounds, once per runner thread.
   */
  private void warmUp() {
    AtomicInteger left = new AtomicInteger(settings.threads());
    for (int i = 0; i < settings.threads(); i++) {
      runners.execute(() -> {
        try (Context c = newContext()) {
          c.eval(source("function handler(w) { return w; }"));
          c.eval(RUN).execute("{\"payload\":{}}");
        } catch (RuntimeException e) {
          log.warn("Warming up the transformation engine failed", e);
        } finally {
          if (left.decrementAndGet() == 0) warmedAt = System.nanoTime();
        }
      });
    }
  }

  /**
   * The shared engine, built on first use by a runner thread (its warm-up), so that neither
   * the node's start nor the thread that asks for a run pays for it.
   */
  private synchronized Engine engine() {
    if (engine == null) {
      engine =
          Engine.newBuilder("js")
              .sandbox(SandboxPolicy.CONSTRAINED)
              .out(OutputStream.nullOutputStream())
              .err(OutputStream.nullOutputStream())
              // A stock JDK has no Graal compiler: the interpreter is expected, not a problem.
              .option("engine.WarnInterpreterOnly", "false")
              // Plain ECMAScript: no shell built-ins. (Java's global stays, but finds no class.)
              .option("js.load", "false")
              .option("js.print", "false")
              .build();
    }
    return engine;
  }

  private Context newContext() {
    return Context.newBuilder("js")
        .engine(engine())
        .sandbox(SandboxPolicy.CONSTRAINED)
        .allowAllAccess(false)
        // CONSTRAINED's own host access: only members annotated for export, and Zyven exports none.
        .allowHostAccess(HostAccess.CONSTRAINED)
        .allowHostClassLookup(name -> false)
        .allowIO(IOAccess.NONE)
        .allowCreateThread(false)
        .allowCreateProcess(false)
        .allowNativeAccess(false)
        .allowPolyglotAccess(PolyglotAccess.NONE)
        .allowEnvironmentAccess(EnvironmentAccess.NONE)
        .resourceLimits(limits)
        .out(OutputStream.nullOutputStream())
        .err(OutputStream.nullOutputStream())
        .build();
  }

  public Settings settings() {
    return settings;
  }

  /** Transforms one delivery: {@code payload} is the event's JSON text. */
  public CompletionStage<Result> apply(String source, String eventType, String eventId, String payload) {
    ObjectNode webhook = JsonNodeFactory.instance.objectNode();
    webhook.put("type", eventType);
    webhook.put("id", eventId);
    try {
      webhook.set("payload", Json.MAPPER.readTree(payload));
    } catch (Exception e) {
      return CompletableFuture.completedFuture(new Failed("the payload is not JSON"));
    }
    webhook.set("headers", JsonNodeFactory.instance.objectNode());
    String input = webhook.toString();
    CompletableFuture<Result> result = new CompletableFuture<>();
    long queuedAt = System.nanoTime();
    try {
      runners.execute(() -> {
        try {
          // Waited its whole time in the queue: not the script's fault, so not run late and
          // judged by a shorter bound, but handed back to come again.
          // The engine's warm-up is not counted: the first runs after it would all be deferred.
          if (System.nanoTime() - Math.max(queuedAt, warmedAt) > settings.wallTime().toNanos()) {
            result.complete(new Busy());
            return;
          }
          result.complete(run(source, input));
        } catch (Throwable e) { // the engine itself failed: the future must still end
          result.complete(new Failed("transformation could not run: " + e.getClass().getSimpleName()));
          log.error("A transformation could not run", e);
        }
      });
    } catch (RejectedExecutionException full) {
      result.complete(new Busy());
    }
    return result;
  }

  /**
   * Checks a source before it is saved: within the size bound, it compiles, its top level
   * runs within the bounds, and it defines {@code handler}. Fails with {@link Invalid} when
   * it does not, {@link Unavailable} when every runner is busy.
   */
  public CompletionStage<Void> check(String source) {
    CompletableFuture<Void> checked = new CompletableFuture<>();
    if (source.length() > MAX_SOURCE_CHARS) {
      checked.completeExceptionally(new Invalid("transformation must be at most " + MAX_SOURCE_CHARS + " characters"));
      return checked;
    }
    try {
      runners.execute(() -> {
        try {
          String problem = problemOf(source);
          if (problem == null) checked.complete(null);
          else checked.completeExceptionally(new Invalid(problem));
        } catch (Throwable e) { // the engine itself failed: the future must still end
          checked.completeExceptionally(e);
          log.error("A transformation could not be checked", e);
        }
      });
    } catch (RejectedExecutionException full) {
      checked.completeExceptionally(new Unavailable());
    }
    return checked;
  }

  /** Every runner is busy and the queue is full. */
  public static final class Unavailable extends RuntimeException {
    public Unavailable() {
      super("every transformation runner is busy", null, false, false);
    }
  }

  private String problemOf(String source) {
    try (Run run = new Run()) {
      try {
        run.context.eval(source(source));
        return run.context.eval(CHECK).asBoolean() ? null : "transformation must define function handler(webhook)";
      } catch (PolyglotException e) {
        return run.describe(e);
      } catch (RuntimeException e) {
        return "transformation cannot be checked: " + e.getClass().getSimpleName();
      }
    }
  }

  private Result run(String source, String input) {
    try (Run run = new Run()) {
      String output;
      try {
        run.context.eval(source(source));
        output = run.context.eval(RUN).execute(input).asString();
      } catch (PolyglotException e) {
        return new Failed(run.describe(e));
      } catch (RuntimeException e) {
        return new Failed("transformation failed: " + e.getClass().getSimpleName());
      }
      if (output.length() > settings.maxOutputBytes()) {
        return new Failed("transformation output is over " + settings.maxOutputBytes() + " bytes");
      }
      return read(output);
    }
  }

  /** The handler's JSON output as a result, or why it cannot be sent. */
  private Result read(String output) {
    JsonNode out;
    try {
      out = Json.MAPPER.readTree(output);
    } catch (Exception e) {
      return new Failed("transformation returned something that is not JSON");
    }
    JsonNode cancel = out.get("cancel");
    if (cancel != null && !cancel.isNull() && !cancel.isBoolean()) {
      return new Failed("transformation returned cancel that is not true or false");
    }
    if (cancel != null && cancel.asBoolean()) return new Cancelled();
    JsonNode payload = out.get("payload");
    if (payload == null || payload.isNull()) {
      return new Failed("transformation returned no payload");
    }
    String body = payload.toString();
    if (body.getBytes(StandardCharsets.UTF_8).length > settings.maxOutputBytes()) {
      return new Failed("transformation output is over " + settings.maxOutputBytes() + " bytes");
    }
    JsonNode headers = out.get("headers");
    Map<String, String> extra = new LinkedHashMap<>();
    if (headers != null && !headers.isNull()) {
      if (!headers.isObject()) return new Failed("transformation returned headers that are not an object");
      if (headers.size() > HeaderRules.MAX_HEADERS) {
        return new Failed("transformation returned more than " + HeaderRules.MAX_HEADERS + " headers");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = headers.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> h = it.next();
        String problem =
            HeaderRules.problem(h.getKey(), h.getValue().isTextual() ? h.getValue().asText() : null, extra.keySet());
        if (problem != null) return new Failed("transformation returned " + problem);
        extra.put(h.getKey(), h.getValue().asText());
      }
    }
    return new Transformed(body, Map.copyOf(extra));
  }

  private static Source source(String text) {
    // Cached: the engine keeps its parse across contexts.
    return Source.newBuilder("js", text, NAME).cached(true).buildLiteral();
  }

  // ---- the watchdog ----

  /** Which bound a run passed. */
  private enum Bound {
    CPU, MEMORY, WALL
  }

  /** One context on the thread running it, with what that thread had spent when it began. */
  private final class Run implements AutoCloseable {
    final Context context;
    final long threadId = Thread.currentThread().getId();
    final long cpuAtStart = THREADS.getThreadCpuTime(threadId);
    final long bytesAtStart = THREADS.getThreadAllocatedBytes(threadId);
    final long startedAt = System.nanoTime();
    volatile Bound passed;

    Run() {
      context = newContext();
      running.put(this, Boolean.TRUE);
    }

    /** Cancels the run if it passed a bound. Called by the watchdog thread. */
    void check() {
      Bound over = null;
      if (System.nanoTime() - startedAt > settings.wallTime().toNanos()) over = Bound.WALL;
      else if (THREADS.getThreadCpuTime(threadId) - cpuAtStart > settings.cpuTime().toNanos()) over = Bound.CPU;
      else if (THREADS.getThreadAllocatedBytes(threadId) - bytesAtStart > settings.allocatedBytes()) over = Bound.MEMORY;
      if (over == null) return;
      passed = over;
      running.remove(this);
      try {
        context.close(true); // cancels the running script; it ends with a cancelled PolyglotException
      } catch (RuntimeException ignored) {
        // closing from another thread while it ends on its own: it has ended
      }
    }

    String describe(PolyglotException e) {
      Bound over = passed;
      if (over == Bound.CPU) return "transformation exceeded its CPU time of " + settings.cpuTime().toMillis() + " ms";
      if (over == Bound.WALL) return "transformation exceeded its time of " + settings.wallTime().toMillis() + " ms";
      if (over == Bound.MEMORY) {
        return "transformation exceeded its memory of " + settings.allocatedBytes() / (1024 * 1024) + " MiB allocated";
      }
      if (e.isResourceExhausted() || e.isCancelled()) {
        return "transformation exceeded its limit of " + settings.statements() + " statements";
      }
      if (e.isSyntaxError()) {
        // GraalJS adds the source line and a caret below the first line; the first line has the position.
        String message = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
        return "transformation has a syntax error: " + clip(message.replace(NAME + ":", "at "));
      }
      if (e.isHostException() || e.isInternalError()) return "transformation failed inside the engine";
      return "transformation threw " + clip(e.getMessage()) + where(e);
    }

    @Override
    public void close() {
      running.remove(this);
      try {
        context.close(true);
      } catch (RuntimeException ignored) {
        // cancelled already
      }
    }
  }

  /** The line of the transformation's own source where it failed, when there is one. */
  private static String where(PolyglotException e) {
    if (e.getSourceLocation() != null && NAME.equals(e.getSourceLocation().getSource().getName())) {
      return " (line " + e.getSourceLocation().getStartLine() + ")";
    }
    for (PolyglotException.StackFrame frame : e.getPolyglotStackTrace()) {
      if (frame.isGuestFrame() && frame.getSourceLocation() != null
          && NAME.equals(frame.getSourceLocation().getSource().getName())) {
        return " (line " + frame.getSourceLocation().getStartLine() + ")";
      }
    }
    return "";
  }

  private static String clip(String message) {
    String m = message == null ? "an error" : message;
    return m.length() > 300 ? m.substring(0, 300) + "…" : m;
  }

  private void watch() {
    for (Run run : running.keySet()) {
      try {
        run.check();
      } catch (RuntimeException e) {
        // the watchdog must keep watching
      }
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  @Override
  public void close() {
    watchdog.shutdownNow();
    runners.shutdownNow();
    for (Run run : running.keySet()) run.close();
    synchronized (this) {
      if (engine != null) engine.close(true);
    }
  }
}
