package io.zyven.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises a JFR recording of the node for RESULTS.md: CPU samples (jdk.ExecutionSample)
 * by library (the nearest frame that is not JDK or Scala library code, so that a HashMap
 * lookup done for Typesafe Config counts as Typesafe Config), by top frame (self), by
 * method anywhere on the stack (inclusive), by thread; GC pauses; allocation by site; and
 * the JVM's and machine's CPU load.
 *
 * <p>Usage: {@code JfrTop <file.jfr> [rows]}
 */
public final class JfrTop {
  private static final String[][] LIBRARIES = {
    {"io.zyven.", "Zyven"},
    {"org.postgresql.", "pgjdbc (JDBC driver)"},
    {"slick.", "Slick"},
    {"com.zaxxer.hikari.", "HikariCP"},
    {"org.apache.pekko.persistence.jdbc.", "pekko-persistence-jdbc"},
    {"org.apache.pekko.persistence.", "pekko-persistence"},
    {"org.apache.pekko.projection.", "pekko-projection"},
    {"org.apache.pekko.http.", "pekko-http"},
    {"org.apache.pekko.stream.", "pekko-stream"},
    {"org.apache.pekko.cluster.", "pekko-cluster/sharding"},
    {"org.apache.pekko.remote.", "pekko-remote"},
    {"org.apache.pekko.serialization.", "pekko-serialization"},
    {"org.apache.pekko.", "pekko-actor (other)"},
    {"com.fasterxml.jackson.", "Jackson"},
    {"com.typesafe.config.", "Typesafe Config"},
    {"ch.qos.logback.", "logging"},
    {"org.slf4j.", "logging"},
  };

  /**
   * Pipeline stages, most specific first: a sample belongs to the first stage with a frame
   * (anywhere on its stack) whose class name contains one of the stage's markers.
   */
  private static final String[][] STAGES = {
    {"read-model projection (pekko-projection-jdbc, ReadModelSession, JDBC)",
        "org.apache.pekko.projection.", "io.zyven.app.readmodel.EventProjection", "io.zyven.app.readmodel.ReadModelSession"},
    {"read journal: eventsByTag polling and sequence tracking",
        "org.apache.pekko.persistence.jdbc.query."},
    {"waker", "io.zyven.app.readmodel.Waker"},
    {"journal: writes and recovery queries (pekko-persistence-jdbc, Slick, JDBC, serialization)",
        "org.apache.pekko.persistence.jdbc.journal.", "org.apache.pekko.persistence.journal."},
    {"entity start-up and recovery (persistence-typed)",
        "org.apache.pekko.persistence.typed.internal.ReplayingEvents", "org.apache.pekko.persistence.typed.internal.ReplayingSnapshot",
        "org.apache.pekko.persistence.typed.internal.RequestingRecoveryPermit", "org.apache.pekko.persistence.typed.internal.EventSourcedSettings",
        "org.apache.pekko.persistence.typed.internal.EventSourcedBehaviorImpl$$anon$1.aroundStart",
        "org.apache.pekko.persistence.typed.internal.EventSourcedBehaviorImpl.$anonfun$apply",
        "org.apache.pekko.persistence.RecoveryPermitter"},
    {"actor creation and termination (an entity per event)",
        "org.apache.pekko.actor.ActorCell.create", "org.apache.pekko.actor.ActorCell.newActor",
        "org.apache.pekko.actor.dungeon.Children", "org.apache.pekko.actor.dungeon.FaultHandling"},
    {"delivery: endpoint entity, webhook client (signing, request)",
        "io.zyven.app.endpoint."},
    {"HTTP client (outbound webhooks: pool, request rendering, response parsing)",
        "org.apache.pekko.http.impl.engine.client.", "HttpResponseParser", "HttpRequestRendererFactory", "OutgoingConnectionBlueprint"},
    {"event entity: command and event handling, persist (persistence-typed)",
        "io.zyven.app.event.", "org.apache.pekko.persistence.typed."},
    {"ingest and API routes (auth, body, JSON, endpoint lookup)",
        "io.zyven.app.http.", "io.zyven.app.store."},
    {"HTTP server (request parsing, routing DSL, response rendering)",
        "org.apache.pekko.http.impl.engine.server.", "HttpRequestParser", "HttpResponseRendererFactory",
        "org.apache.pekko.http.scaladsl.server.", "org.apache.pekko.http.javadsl.server."},
    {"cluster sharding", "org.apache.pekko.cluster.sharding."},
    {"cluster and remoting", "org.apache.pekko.cluster.", "org.apache.pekko.remote."},
    {"TCP and streams I/O", "org.apache.pekko.stream.impl.io.", "org.apache.pekko.io."},
    {"JDBC outside the above (HikariCP, Slick, pgjdbc)", "org.postgresql.", "slick.", "com.zaxxer."},
  };

  private static String stageOf(List<RecordedFrame> frames) {
    for (String[] stage : STAGES) {
      for (RecordedFrame f : frames) {
        String cls = f.getMethod().getType().getName();
        for (int i = 1; i < stage.length; i++) {
          if (cls.contains(stage[i]) || (stage[i].contains(".") && (cls + "." + f.getMethod().getName()).startsWith(stage[i]))) {
            return stage[0];
          }
        }
      }
    }
    return "other: mailboxes, futures, stream callbacks (no stage on the stack)";
  }

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int rows = args.length > 1 ? Integer.parseInt(args[1]) : 15;
    Map<String, Long> self = new HashMap<>();
    Map<String, Long> inclusive = new HashMap<>();
    Map<String, Long> library = new HashMap<>();
    Map<String, Long> stages = new HashMap<>();
    Map<String, Long> otherStage = new HashMap<>();
    Map<String, Long> threads = new HashMap<>();
    Map<String, Long> allocBySite = new HashMap<>();
    Map<String, Long> allocByClass = new HashMap<>();
    Map<String, Long> threadStarts = new HashMap<>();
    long threadsStarted = 0;
    long samples = 0, gcCount = 0, allocTotal = 0;
    Duration gcPause = Duration.ZERO;
    double jvmCpu = 0, machineCpu = 0;
    long cpuEvents = 0;
    try (RecordingFile rf = new RecordingFile(file)) {
      while (rf.hasMoreEvents()) {
        RecordedEvent e = rf.readEvent();
        String type = e.getEventType().getName();
        switch (type) {
          case "jdk.ExecutionSample" -> {
            RecordedStackTrace st = e.getStackTrace();
            if (st == null || st.getFrames().isEmpty()) continue;
            samples++;
            List<RecordedFrame> frames = st.getFrames();
            self.merge(name(frames.get(0)), 1L, Long::sum);
            Set<String> seen = new HashSet<>();
            for (RecordedFrame f : frames) {
              String n = name(f);
              if (seen.add(n)) inclusive.merge(n, 1L, Long::sum);
            }
            library.merge(libraryOf(frames), 1L, Long::sum);
            String stage = stageOf(frames);
            stages.merge(stage, 1L, Long::sum);
            if (stage.startsWith("other")) otherStage.merge(describeOther(frames), 1L, Long::sum);
            String thread = e.getThread("sampledThread") == null ? "?" : e.getThread("sampledThread").getJavaName();
            threads.merge(thread == null ? "?" : thread.replaceAll("(?<=[-#_ .])[0-9]+|[0-9]+$", "N"), 1L, Long::sum);
          }
          case "jdk.GarbageCollection" -> {
            gcCount++;
            gcPause = gcPause.plus(e.getDuration("sumOfPauses"));
          }
          case "jdk.ObjectAllocationSample" -> {
            long w = e.getLong("weight");
            allocTotal += w;
            RecordedStackTrace st = e.getStackTrace();
            String site = st == null || st.getFrames().isEmpty() ? "?" : nearestNonJdk(st.getFrames());
            allocBySite.merge(site, w, Long::sum);
            allocByClass.merge(e.getClass("objectClass").getName(), w, Long::sum);
          }
          case "jdk.ThreadStart" -> {
            threadsStarted++;
            RecordedStackTrace st = e.getStackTrace();
            if (st != null) threadStarts.merge(starter(st.getFrames()), 1L, Long::sum);
          }
          case "jdk.CPULoad" -> {
            jvmCpu += e.getFloat("jvmUser") + e.getFloat("jvmSystem");
            machineCpu += e.getFloat("machineTotal");
            cpuEvents++;
          }
          default -> {}
        }
      }
    }
    System.out.printf("CPU samples: %d. JVM CPU load %.0f%% of the machine, machine total %.0f%% (jdk.CPULoad averages).%n",
        samples, cpuEvents == 0 ? 0 : 100 * jvmCpu / cpuEvents, cpuEvents == 0 ? 0 : 100 * machineCpu / cpuEvents);
    System.out.printf("GC: %d collections, %d ms of pauses in total.%n", gcCount, gcPause.toMillis());
    System.out.printf("Threads started during the recording: %d.%n", threadsStarted);
    if (threadsStarted > 0) print("  started from (first frames that are not CompletableFuture or Scala future plumbing)", threadStarts, threadsStarted, 3);
    print("CPU samples by pipeline stage (first matching stage, in this order of precedence)", stages, samples, STAGES.length + 1);
    print("  of which 'other' (by the first non-scaffolding frame from the thread's root)", otherStage, samples, 8);
    print("CPU samples by library (nearest non-JDK, non-Scala frame)", library, samples, rows);
    print("CPU samples by thread", threads, samples, 8);
    print("Top frames (self)", self, samples, rows);
    // Thread, executor, mailbox and stream-interpreter frames are on most stacks and say
    // nothing about where the work is: leave them out of the inclusive list.
    Map<String, Long> informative = new LinkedHashMap<>();
    for (Map.Entry<String, Long> e : inclusive.entrySet()) {
      if (!isScaffolding(e.getKey())) informative.put(e.getKey(), e.getValue());
    }
    print("Methods anywhere on the stack (inclusive; JDK, Scala, dispatcher, actor-cell and stream-interpreter frames left out)",
        informative, samples, rows + 10);
    print("Allocation by site (nearest non-JDK frame, sampled weight)", allocBySite, allocTotal, 10);
    print("Allocation by class", allocByClass, allocTotal, 8);
  }

  private static void print(String title, Map<String, Long> counts, long total, int rows) {
    System.out.println();
    System.out.println(title + ":");
    List<Map.Entry<String, Long>> list = new ArrayList<>(counts.entrySet());
    list.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
    for (int i = 0; i < Math.min(rows, list.size()); i++) {
      System.out.printf("  %5.1f%%  %s%n", total == 0 ? 0 : 100.0 * list.get(i).getValue() / total, list.get(i).getKey());
    }
  }

  private static String name(RecordedFrame f) {
    // Lambdas' hidden classes carry a per-run number: drop it so the same code aggregates.
    String cls = f.getMethod().getType().getName().replaceAll("\\$\\$Lambda.*", "\\$\\$Lambda");
    return cls + "." + f.getMethod().getName();
  }

  private static boolean isPlatform(String cls) {
    return cls.startsWith("java.") || cls.startsWith("javax.") || cls.startsWith("jdk.") || cls.startsWith("sun.")
        || cls.startsWith("scala.") || cls.startsWith("com.sun.");
  }

  private static boolean isScaffolding(String method) {
    return isPlatform(method)
        || method.startsWith("org.apache.pekko.dispatch.")
        || method.startsWith("org.apache.pekko.actor.")
        || method.startsWith("org.apache.pekko.stream.impl.fusing.")
        || method.startsWith("org.apache.pekko.japi.");
  }

  /** For samples of no stage: the outermost frame that is not thread, executor or actor plumbing. */
  private static String describeOther(List<RecordedFrame> frames) {
    for (int i = frames.size() - 1; i >= 0; i--) {
      String n = name(frames.get(i));
      if (!isScaffolding(n)) return n;
    }
    return name(frames.get(0));
  }

  /** Where a thread was started: the first frames past the executor and future plumbing. */
  private static String starter(List<RecordedFrame> frames) {
    StringBuilder sb = new StringBuilder();
    String executor = null;
    int k = 0;
    for (RecordedFrame f : frames) {
      String n = name(f);
      if (executor == null && n.contains("Executor")) executor = n;
      if (n.startsWith("java.util.concurrent.") || n.startsWith("scala.concurrent.") || n.startsWith("java.lang.Thread")) continue;
      sb.append(k == 0 ? "" : " < ").append(n);
      if (++k == 3) break;
    }
    return (executor == null ? "" : executor + ": ") + sb;
  }

  private static String libraryOf(List<RecordedFrame> frames) {
    for (RecordedFrame f : frames) {
      String cls = f.getMethod().getType().getName();
      if (isPlatform(cls)) continue;
      for (String[] lib : LIBRARIES) {
        if (cls.startsWith(lib[0])) return lib[1];
      }
      return "other: " + cls.substring(0, Math.max(0, cls.lastIndexOf('.')));
    }
    String top = frames.get(0).getMethod().getType().getName();
    return "JDK only: " + top.substring(0, Math.max(0, top.lastIndexOf('.')));
  }

  private static String nearestNonJdk(List<RecordedFrame> frames) {
    for (RecordedFrame f : frames) {
      if (!isPlatform(f.getMethod().getType().getName())) return name(f);
    }
    return name(frames.get(0));
  }
}
