package io.zyven.app.monitoring;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One scrape of /metrics (Prometheus text format), read back sample by sample. */
final class Scrape {
  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)(?: \\d+)?$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** Samples by name, then by their labels. */
  private final Map<String, Map<Map<String, String>, Double>> samples = new HashMap<>();
  final String text;

  Scrape(String text) {
    this.text = text;
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) continue;
      Matcher m = SAMPLE.matcher(line);
      if (!m.matches()) throw new AssertionError("not a sample line: " + line);
      Map<String, String> labels = new TreeMap<>();
      if (m.group(2) != null) {
        Matcher l = LABEL.matcher(m.group(2));
        while (l.find()) labels.put(l.group(1), l.group(2));
      }
      samples.computeIfAbsent(m.group(1), k -> new HashMap<>()).put(labels, Double.parseDouble(m.group(3)));
    }
  }

  /** The sample with exactly these labels ({@code "name", "value"} pairs), if there is one. */
  Optional<Double> find(String name, String... labelPairs) {
    Map<String, String> labels = new TreeMap<>();
    for (int i = 0; i < labelPairs.length; i += 2) labels.put(labelPairs[i], labelPairs[i + 1]);
    return Optional.ofNullable(samples.getOrDefault(name, Map.of()).get(labels));
  }

  /** The sample's value; 0 when it is not there (a counter not touched yet). */
  double value(String name, String... labelPairs) {
    return find(name, labelPairs).orElse(0.0);
  }

  /** Every sample of a name, by its labels. */
  Map<Map<String, String>, Double> all(String name) {
    return samples.getOrDefault(name, Map.of());
  }
}
