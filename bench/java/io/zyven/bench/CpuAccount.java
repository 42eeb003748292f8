package io.zyven.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the machine's CPU went between two snapshots of /proc, by role: the Zyven node,
 * its PostgreSQL (the postmaster and its children), wrk, the receiver, the ceiling servers,
 * and everything else (other users of the machine: their share tells whether a figure was
 * disturbed).
 *
 * <p>A snapshot is written by run.sh: a line {@code T <epoch-ms>}, the first line of
 * /proc/stat, then every /proc/[pid]/stat line.
 *
 * <p>Usage: {@code CpuAccount <clk-tck> <before> <after> role=pid ... [+role=cpu-seconds ...]};
 * a role whose pid is 0 is skipped; {@code postgres=0} counts every process named postgres
 * instead; {@code +wrk=3.2} adds CPU seconds measured otherwise (a process that exited before
 * the second snapshot, as wrk does). Prints one
 * line: each role's CPU as % of one core over the interval (the machine has nproc x 100 %),
 * then the busiest other processes.
 */
public final class CpuAccount {
  record Proc(long pid, long ppid, String comm, long ticks) {}

  record Snap(long timeMs, long busy, long total, Map<String, Proc> procs, Map<Long, Proc> byPid) {}

  public static void main(String[] args) throws Exception {
    if (args[0].equals("threads")) {
      threads(Double.parseDouble(args[1]), read(Path.of(args[2])), read(Path.of(args[3])));
      return;
    }
    double hz = Double.parseDouble(args[0]);
    Snap a = read(Path.of(args[1]));
    Snap b = read(Path.of(args[2]));
    Map<String, Long> roles = new LinkedHashMap<>();
    Map<String, Double> extraSeconds = new LinkedHashMap<>();
    for (int i = 3; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      if (kv[0].startsWith("+")) extraSeconds.put(kv[0].substring(1), Double.parseDouble(kv[1]));
      else roles.put(kv[0], Long.parseLong(kv[1]));
    }
    double seconds = (b.timeMs - a.timeMs) / 1000.0;
    Map<String, Double> byRole = new LinkedHashMap<>();
    roles.keySet().forEach(r -> byRole.put(r, 0.0));
    byRole.put("wrk", 0.0);
    Map<String, Double> others = new HashMap<>();
    double attributed = 0;
    // Processes that exited before the second snapshot (wrk) are measured by run.sh itself.
    for (Map.Entry<String, Double> e : extraSeconds.entrySet()) {
      double pct = e.getValue() / seconds * 100;
      byRole.merge(e.getKey(), pct, Double::sum);
      attributed += pct;
    }
    for (Map.Entry<String, Proc> e : b.procs.entrySet()) {
      Proc p = e.getValue();
      Proc before = a.procs.get(e.getKey());
      long delta = p.ticks - (before == null ? 0 : before.ticks);
      if (delta <= 0) continue;
      double pct = delta / hz / seconds * 100;
      String role = roleOf(p, b, roles);
      if (role != null) {
        byRole.merge(role, pct, Double::sum);
        attributed += pct;
      } else {
        others.merge(p.comm, pct, Double::sum);
      }
    }
    double busyPct = (b.busy - a.busy) / hz / seconds * 100;
    StringBuilder out = new StringBuilder();
    byRole.forEach((r, v) -> out.append(r).append('=').append(String.format("%.0f%%", v)).append(' '));
    out.append("other=").append(String.format("%.0f%%", Math.max(0, busyPct - attributed)));
    out.append(" machine_busy=").append(String.format("%.0f%%", busyPct));
    List<Map.Entry<String, Double>> top = new ArrayList<>(others.entrySet());
    top.sort((x, y) -> Double.compare(y.getValue(), x.getValue()));
    StringBuilder tops = new StringBuilder();
    for (int i = 0; i < Math.min(3, top.size()); i++) {
      if (top.get(i).getValue() < 1) break;
      tops.append(tops.length() == 0 ? "" : ", ")
          .append(top.get(i).getKey()).append(' ').append(String.format("%.0f%%", top.get(i).getValue()));
    }
    if (tops.length() > 0) out.append(" (busiest others: ").append(tops).append(')');
    System.out.println(out);
  }

  /**
   * {@code CpuAccount threads <clk-tck> <before> <after>} on snapshots of one process's
   * /proc/[pid]/task/[tid]/stat: CPU by thread name (digits folded), so that JIT compiler
   * and GC threads, which a JFR execution sample never shows, are accounted too.
   */
  private static void threads(double hz, Snap a, Snap b) {
    double seconds = (b.timeMs - a.timeMs) / 1000.0;
    Map<String, Double> byName = new HashMap<>();
    double total = 0;
    for (Map.Entry<String, Proc> e : b.procs.entrySet()) {
      Proc before = a.procs.get(e.getKey());
      long delta = e.getValue().ticks - (before == null ? 0 : before.ticks);
      if (delta <= 0) continue;
      double pct = delta / hz / seconds * 100;
      byName.merge(e.getValue().comm.replaceAll("(?<=[-#_ .])[0-9]+|[0-9]+$", "N"), pct, Double::sum);
      total += pct;
    }
    List<Map.Entry<String, Double>> list = new ArrayList<>(byName.entrySet());
    list.sort((x, y) -> Double.compare(y.getValue(), x.getValue()));
    StringBuilder out = new StringBuilder(String.format("total %.0f%%:", total));
    for (int i = 0; i < Math.min(10, list.size()); i++) {
      if (list.get(i).getValue() < 0.5) break;
      out.append(String.format(" %s %.0f%%,", list.get(i).getKey(), list.get(i).getValue()));
    }
    System.out.println(out.substring(0, out.length() - 1));
  }

  private static String roleOf(Proc p, Snap s, Map<String, Long> roles) {
    for (Map.Entry<String, Long> r : roles.entrySet()) {
      long root = r.getValue();
      if (root == 0) {
        if (r.getKey().equals("postgres") && p.comm.startsWith("postgres")) return "postgres";
        continue;
      }
      Proc q = p;
      for (int depth = 0; q != null && depth < 20; depth++) {
        if (q.pid == root) return r.getKey();
        q = s.byPid.get(q.ppid);
      }
    }
    return null;
  }

  private static Snap read(Path file) throws Exception {
    long time = 0, busy = 0, total = 0;
    Map<String, Proc> procs = new HashMap<>();
    Map<Long, Proc> byPid = new HashMap<>();
    for (String line : Files.readAllLines(file)) {
      if (line.startsWith("T ")) {
        time = Long.parseLong(line.substring(2).trim());
      } else if (line.startsWith("cpu ")) {
        String[] f = line.trim().split("\\s+");
        for (int i = 1; i < f.length && i <= 8; i++) {
          long v = Long.parseLong(f[i]);
          total += v;
          if (i != 4 && i != 5) busy += v; // idle, iowait
        }
      } else {
        int open = line.indexOf('(');
        int close = line.lastIndexOf(')');
        if (open < 0 || close < 0) continue;
        long pid = Long.parseLong(line.substring(0, open).trim());
        String comm = line.substring(open + 1, close);
        String[] f = line.substring(close + 2).split(" ");
        long ppid = Long.parseLong(f[1]);
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        String start = f[19];
        Proc p = new Proc(pid, ppid, comm, ticks);
        procs.put(pid + "/" + start, p);
        byPid.put(pid, p);
      }
    }
    return new Snap(time, busy, total, procs, byPid);
  }
}
