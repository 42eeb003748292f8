package io.zyven.app.ingest;

import com.networknt.schema.Error;
import com.networknt.schema.ExecutionContextCustomizer;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.ValidationLimitExceededException;
import com.networknt.schema.path.NodePath;
import com.networknt.schema.path.PathType;
import com.networknt.schema.regex.RegularExpression;
import com.networknt.schema.regex.RegularExpressionFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Event-type schemas: JSON Schema 2020-12, checked when saved and applied at ingest, with
 * networknt's json-schema-validator. A schema comes from a tenant, so it is kept on a short
 * leash: no {@code $ref} leaves the document (nothing is fetched, no SSRF), an evaluation has
 * a bounded number of steps and depth, and a {@code pattern} gives up after a time limit
 * instead of backtracking for ever on a hostile regex.
 */
public final class EventSchemas {

  /** One violation: where in the payload (RFC 6901 JSON Pointer), and what. */
  public record Violation(String pointer, String message) {}

  /** A schema that is not a valid JSON Schema 2020-12 document; the message says why. */
  public static final class InvalidSchema extends RuntimeException {
    public InvalidSchema(String message) {
      super(message, null, false, false);
    }
  }

  /** A payload the schema could not finish judging within its bounds. */
  public static final class TooComplex extends RuntimeException {
    TooComplex(String message) {
      super(message, null, false, false);
    }
  }

  /** At most this many violations are reported; a payload can have thousands. */
  static final int MAX_VIOLATIONS = 50;
  private static final long MAX_STEPS = 1_000_000;
  private static final int MAX_DEPTH = 200;
  /** How long the {@code pattern}s of one validation may take together, on all its strings. */
  private static final long REGEX_NANOS = 50_000_000L;

  /** The deadline of the validation running on this thread (0: none running; each match gets the whole budget). */
  private static final ThreadLocal<long[]> REGEX_DEADLINE = ThreadLocal.withInitial(() -> new long[1]);

  /** Reads what ingest accepted: JSON nested up to 1000 levels (Jackson 3's default is 500). */
  private static final ObjectMapper MAPPER =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(1000).build())
                  .build())
          .build();
  private static final String META_SCHEMA = "https://json-schema.org/draft/2020-12/schema";

  private static final SchemaRegistry REGISTRY =
      SchemaRegistry.withDefaultDialect(
          SpecificationVersion.DRAFT_2020_12,
          b -> b
              // Only the meta-schemas in the jar resolve; a remote $ref is an error, never a request.
              .schemaLoader(l -> l.fetchRemoteResources(false))
              .schemaRegistryConfig(
                  SchemaRegistryConfig.builder()
                      .pathType(PathType.JSON_POINTER)
                      .regularExpressionFactory(new BoundedRegex())
                      .build()));

  private static final ExecutionContextCustomizer BOUNDS =
      (context, validationContext) -> context.executionConfig(
          c -> c.maxEvaluationSteps(MAX_STEPS).maxEvaluationDepth(MAX_DEPTH));

  private static final Schema META = REGISTRY.getSchema(SchemaLocation.of(META_SCHEMA));

  private EventSchemas() {}

  /**
   * The schema, compiled; {@link InvalidSchema} when {@code text} is not JSON, not an object
   * or boolean, not valid against the 2020-12 meta-schema, or refers outside itself.
   */
  public static Schema compile(String text) {
    JsonNode node;
    try {
      node = MAPPER.readTree(text);
    } catch (RuntimeException e) {
      throw new InvalidSchema("the schema is not JSON");
    }
    if (node == null || !(node.isObject() || node.isBoolean())) {
      throw new InvalidSchema("a schema must be a JSON object (or true/false)");
    }
    List<Error> metaErrors;
    try {
      metaErrors = META.validate(node, BOUNDS);
    } catch (ValidationLimitExceededException e) {
      throw new InvalidSchema("the schema is too large or too deep to check");
    }
    if (!metaErrors.isEmpty()) {
      Error first = metaErrors.get(0);
      String at = first.getInstanceLocation() == null ? "" : pointer(first.getInstanceLocation(), null);
      throw new InvalidSchema(
          "not a valid JSON Schema 2020-12" + (at.isEmpty() ? "" : " at " + at) + ": " + first.getMessage());
    }
    try {
      Schema schema = REGISTRY.getSchema(node);
      schema.initializeValidators(); // resolves every $ref now, so a dangling one fails here and not at ingest
      return schema;
    } catch (RuntimeException e) {
      throw new InvalidSchema("the schema cannot be used: " + reason(e));
    }
  }

  /** Why the library could not build a schema, without its internals (class names, stack). */
  private static String reason(RuntimeException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.io.IOException) {
        return "a $ref does not resolve within the schema (references to other documents are not fetched)";
      }
      if (t instanceof java.util.regex.PatternSyntaxException p) return "a pattern is not a valid regular expression: " + p.getDescription();
    }
    String m = e.getMessage();
    return m == null || m.contains("Exception") ? "it does not compile" : m;
  }

  /** The payload's violations of the schema, at most {@link #MAX_VIOLATIONS}; empty when it is valid. */
  public static List<Violation> validate(Schema schema, String payloadJson) {
    JsonNode payload;
    try {
      payload = MAPPER.readTree(payloadJson);
    } catch (RuntimeException e) {
      throw new TooComplex("the payload could not be read for validation");
    }
    List<Error> errors;
    long[] deadline = REGEX_DEADLINE.get();
    deadline[0] = System.nanoTime() + REGEX_NANOS;
    try {
      errors = schema.validate(payload, BOUNDS);
    } catch (ValidationLimitExceededException | RegexTimeout e) {
      throw new TooComplex("the payload could not be checked against its schema within the limits");
    } finally {
      deadline[0] = 0;
    }
    Map<String, Violation> unique = new LinkedHashMap<>();
    for (Error e : errors) {
      String pointer = pointer(e.getInstanceLocation(), e);
      unique.putIfAbsent(pointer + "\n" + e.getMessage(), new Violation(pointer, message(e)));
      if (unique.size() >= MAX_VIOLATIONS) break;
    }
    return new ArrayList<>(unique.values());
  }

  /**
   * The JSON Pointer of an error. For {@code required} and {@code additionalProperties} the
   * error is about a member of the object at the instance location: point at that member.
   */
  static String pointer(NodePath at, Error e) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < at.getNameCount(); i++) {
      Object el = at.getElement(i);
      sb.append('/').append(escape(String.valueOf(el)));
    }
    if (e != null && e.getProperty() != null
        && ("required".equals(e.getKeyword()) || "additionalProperties".equals(e.getKeyword())
            || "dependentRequired".equals(e.getKeyword()))) {
      String member = "/" + escape(e.getProperty());
      if (!sb.toString().endsWith(member)) sb.append(member);
    }
    return sb.toString();
  }

  private static String escape(String token) {
    return token.replace("~", "~0").replace("/", "~1");
  }

  /** The library's message starts with the instance location; the pointer says that already. */
  private static String message(Error e) {
    String m = e.getMessage();
    return m == null ? e.getKeyword() : m;
  }

  /** A regex that fails the evaluation after {@link #REGEX_NANOS} rather than backtrack for ever. */
  static final class RegexTimeout extends RuntimeException {
    RegexTimeout() {
      super("pattern took too long", null, false, false);
    }
  }

  /**
   * JDK regexes, as the library's default, with a deadline: the matcher reads its input
   * through a CharSequence that checks the clock every few thousand reads. Within a
   * validation the deadline is the validation's, so many strings cannot add up to more.
   */
  static final class BoundedRegex implements RegularExpressionFactory {
    @Override
    public RegularExpression getRegularExpression(String regex) {
      Pattern pattern = Pattern.compile(regex);
      return value -> {
        long deadline = REGEX_DEADLINE.get()[0];
        return pattern.matcher(new Deadline(value, deadline != 0 ? deadline : System.nanoTime() + REGEX_NANOS)).find();
      };
    }
  }

  private static final class Deadline implements CharSequence {
    private final CharSequence inner;
    private final long deadline;
    private int reads;

    Deadline(CharSequence inner, long deadline) {
      this.inner = inner;
      this.deadline = deadline;
    }

    @Override
    public char charAt(int index) {
      if ((++reads & 0xFFF) == 0 && System.nanoTime() > deadline) throw new RegexTimeout();
      return inner.charAt(index);
    }

    @Override
    public int length() {
      return inner.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return new Deadline(inner.subSequence(start, end), deadline);
    }

    @Override
    public String toString() {
      return inner.toString();
    }
  }
}
