package io.zyven.app.readme;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The README's fenced code blocks, so that tests run what a reader copies. */
final class Readme {
  private Readme() {}

  static String text() throws IOException {
    return Files.readString(Path.of("README.md"));
  }

  /** The text between {@code <!-- name -->} and {@code <!-- /name -->}. */
  static String section(String name) throws IOException {
    String readme = text();
    int start = readme.indexOf("<!-- " + name + " -->");
    int end = readme.indexOf("<!-- /" + name + " -->");
    if (start < 0 || end < start) throw new IllegalStateException("README has no section " + name);
    return readme.substring(start, end);
  }

  /** Every block fenced as {@code ```lang}, in order. */
  static List<String> blocks(String text, String lang) {
    Matcher m = Pattern.compile("```" + Pattern.quote(lang) + "\n(.*?)```", Pattern.DOTALL).matcher(text);
    List<String> blocks = new ArrayList<>();
    while (m.find()) blocks.add(m.group(1));
    return blocks;
  }
}
