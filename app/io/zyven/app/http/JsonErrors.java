package io.zyven.app.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Says in words what is wrong with a JSON body, and where. Jackson's own messages name its
 * classes, features and source, so none of their text is passed on: each known message is
 * recognised and told in our words, and any other becomes "invalid JSON" at its place. The
 * only text taken from the body is a character or token, quoted by {@link Problems#quote}.
 */
final class JsonErrors {
  private JsonErrors() {}

  private static final Pattern CODE = Pattern.compile("code (\\d+)\\)");
  private static final Pattern LIMIT = Pattern.compile("maximum allowed \\((\\d+)");
  private static final String A_VALUE = "expected a string, number, object, array, true, false or null";

  /** E.g. {@code unexpected character '}' at line 1, column 12: expected a field name in double quotes}. */
  static String describe(JsonProcessingException e) {
    String m = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
    if (e instanceof StreamConstraintsException) return tooBig(m);
    String what;
    String expected = null;
    if (m.startsWith("Unexpected end-of-input")) {
      what = "unexpected end of input" + (m.contains("VALUE_STRING") || m.contains("escape") ? " in a string" : "");
    } else if (m.startsWith("Duplicate field '")) {
      what = "duplicate field " + Problems.quote(quoted(m, "Duplicate field '"));
    } else if (m.startsWith("Unrecognized token '") || m.startsWith("Non-standard token '")) {
      what = "unrecognized token " + Problems.quote(quoted(m, m.substring(0, m.indexOf('\'') + 1)));
      expected = A_VALUE;
    } else if (m.startsWith("Unexpected close marker '")) {
      what = "unexpected " + character(m.charAt("Unexpected close marker '".length()));
      expected = m.contains("expected '}'") ? "expected ',' or '}'"
          : m.contains("expected ']'") ? "expected ',' or ']'"
          : "there is nothing to close";
    } else if (m.startsWith("Unexpected character (")) {
      what = "unexpected " + character(code(m));
      if (m.contains("in numeric value")) {
        what += " in a number";
        expected = m.contains("Decimal point") ? "expected a digit after the decimal point"
            : m.contains("minus sign") ? "expected a digit after '-'"
            : m.contains("Exponent") ? "expected a digit in the exponent"
            : m.contains("plus sign") ? "a number cannot start with '+'"
            : null;
      } else if (m.contains("hex-digit")) {
        what += " in a string";
        expected = "expected 4 hex digits after \\u";
      } else {
        expected = m.contains("double-quote to start field name") ? "expected a field name in double quotes"
            : m.contains("colon to separate field name and value") ? "expected ':' after the field name"
            : m.contains("comma to separate Object entries") ? "expected ',' or '}'"
            : m.contains("comma to separate Array entries") ? "expected ',' or ']'"
            : m.contains("comment") ? "JSON has no comments"
            : m.contains("expected a valid value") ? A_VALUE
            : null;
      }
    } else if (m.startsWith("Illegal unquoted character (")) {
      what = "unescaped " + character(code(m)) + " in a string";
      expected = "control characters must be escaped, e.g. \\n";
    } else if (m.startsWith("Unrecognized character escape")) {
      int c = code(m);
      what = "invalid escape " + (printable(c) ? Problems.quote("\\" + (char) c) + " " : "") + "in a string";
      expected = "the escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\u followed by 4 hex digits";
    } else if (m.startsWith("Invalid numeric value")) {
      what = "invalid number";
      if (m.contains("Leading zeroes")) expected = "a number cannot start with 0 unless it is 0";
    } else if (m.startsWith("Invalid UTF-8")) {
      what = "invalid UTF-8";
      expected = "the body must be UTF-8";
    } else {
      what = "invalid JSON";
    }
    return what + at(e.getLocation()) + (expected == null ? "" : ": " + expected);
  }

  /** " at line L, column C", or nothing when the place is not known. */
  static String at(JsonLocation location) {
    if (location == null || location.getLineNr() < 1 || location.getColumnNr() < 1) return "";
    return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
  }

  /** A limit of the parser's was passed; such messages carry no place. */
  private static String tooBig(String m) {
    Matcher limit = LIMIT.matcher(m);
    String max = limit.find() ? limit.group(1) : null;
    if (max == null) return "the JSON is too large";
    if (m.startsWith("Document nesting depth")) return "the JSON is nested more than " + max + " levels deep";
    if (m.startsWith("Number value length")) return "a number is longer than " + max + " characters";
    if (m.startsWith("String value length")) return "a string is longer than " + max + " characters";
    if (m.startsWith("Name length")) return "a field name is longer than " + max + " characters";
    return "the JSON is too large";
  }

  /** The text between {@code prefix} and the next quote: a field name or token from the body. */
  private static String quoted(String message, String prefix) {
    int end = message.indexOf('\'', prefix.length());
    return message.substring(prefix.length(), end < 0 ? message.length() : end);
  }

  private static int code(String message) {
    Matcher code = CODE.matcher(message);
    return code.find() ? Integer.parseInt(code.group(1)) : -1;
  }

  /**
   * A character the parser stopped at. The parser reads bytes, so past ASCII it knows only
   * the first byte of the character, which is not worth showing.
   */
  private static String character(int c) {
    if (c < 0) return "character";
    if (printable(c)) return "character " + Problems.quote(String.valueOf((char) c));
    if (c < 0x20 || c == 0x7f) return "control character " + String.format("U+%04X", c);
    return "non-ASCII character";
  }

  private static boolean printable(int c) {
    return c >= 0x20 && c < 0x7f;
  }
}
