package io.zyven.app.telemetry;

import com.typesafe.config.Config;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's tracing, one per actor system ({@code Tracing.get(system)}). A trace context
 * always flows: from the producer's {@code traceparent} (or a new trace) through ingest,
 * the journal and every delivery attempt to the receiver. Spans are recorded and exported
 * over OTLP/HTTP only when {@code zyven.tracing.otlp-endpoint} ({@code
 * OTEL_EXPORTER_OTLP_ENDPOINT}) is set; otherwise no SDK is started and a span is only a
 * new id in the trace.
 */
public final class Tracing implements Extension {
  private static final Logger log = LoggerFactory.getLogger(Tracing.class);

  public enum Kind {
    SERVER,
    CLIENT,
    INTERNAL
  }

  /** One operation in a trace. Not thread-safe: one owner at a time, ended once. */
  public interface Span {
    /** This span's place in the trace: what to send on as {@code traceparent}. */
    TraceParent context();

    Span attribute(String key, String value);

    Span attribute(String key, long value);

    /** The operation failed, for this reason. */
    Span error(String description);

    void end();
  }

  public static final ExtensionId<Tracing> ID =
      new ExtensionId<>() {
        @Override
        public Tracing createExtension(ActorSystem<?> system) {
          return new Tracing(system);
        }
      };

  public static Tracing get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private final SdkTracerProvider provider;
  private final Tracer tracer;

  private Tracing(ActorSystem<?> system) {
    Config config = system.settings().config();
    String endpoint = config.hasPath("zyven.tracing.otlp-endpoint") ? config.getString("zyven.tracing.otlp-endpoint").trim() : "";
    if (endpoint.isEmpty()) {
      provider = null;
      tracer = null;
      return;
    }
    Config tracing = config.getConfig("zyven.tracing");
    OtlpHttpSpanExporterBuilder exporter =
        OtlpHttpSpanExporter.builder().setEndpoint(tracesUrl(endpoint)).setTimeout(tracing.getDuration("export-timeout"));
    addHeaders(exporter, tracing.getString("otlp-headers"));
    Duration delay = tracing.getDuration("schedule-delay");
    provider =
        SdkTracerProvider.builder()
            .setResource(
                Resource.getDefault()
                    .merge(
                        Resource.create(
                            Attributes.of(
                                AttributeKey.stringKey("service.name"), tracing.getString("service-name"),
                                AttributeKey.stringKey("service.instance.id"), system.address().toString()))))
            .addSpanProcessor(BatchSpanProcessor.builder(exporter.build()).setScheduleDelay(delay).build())
            .build();
    tracer = provider.get("io.zyven");
    // The spans still queued go out when the node stops (bounded: the exporter's timeout).
    system.classicSystem().registerOnTermination(() -> provider.shutdown().join(10, TimeUnit.SECONDS));
    log.info("Tracing: spans are exported over OTLP/HTTP to {}", tracesUrl(endpoint));
  }

  /** True when spans are recorded and exported (an OTLP endpoint is configured). */
  public boolean exporting() {
    return tracer != null;
  }

  /**
   * Starts a span, a child of {@code parent}, or the first of a new trace when {@code parent}
   * is null.
   */
  public Span start(String name, Kind kind, TraceParent parent) {
    if (tracer == null) return new Unrecorded(parent == null ? TraceParent.newTrace(false) : parent.newChild());
    SpanBuilder builder = tracer.spanBuilder(name).setSpanKind(otelKind(kind));
    if (parent == null) {
      builder.setNoParent();
    } else {
      SpanContext remote =
          SpanContext.createFromRemoteParent(
              parent.traceId(), parent.spanId(), parent.sampled() ? TraceFlags.getSampled() : TraceFlags.getDefault(),
              TraceState.getDefault());
      builder.setParent(Context.root().with(io.opentelemetry.api.trace.Span.wrap(remote)));
    }
    return new Recorded(builder.startSpan());
  }

  /** The OTLP/HTTP traces URL for a base endpoint, as the OpenTelemetry specification builds it. */
  static String tracesUrl(String endpoint) {
    return (endpoint.endsWith("/") ? endpoint : endpoint + "/") + "v1/traces";
  }

  /** {@code OTEL_EXPORTER_OTLP_HEADERS}: {@code name=value} pairs, comma-separated, values URL-encoded. */
  private static void addHeaders(OtlpHttpSpanExporterBuilder exporter, String headers) {
    for (String pair : headers.split(",")) {
      int eq = pair.indexOf('=');
      if (eq <= 0) continue;
      exporter.addHeader(
          pair.substring(0, eq).trim(), URLDecoder.decode(pair.substring(eq + 1).trim(), StandardCharsets.UTF_8));
    }
  }

  private static SpanKind otelKind(Kind kind) {
    return switch (kind) {
      case SERVER -> SpanKind.SERVER;
      case CLIENT -> SpanKind.CLIENT;
      case INTERNAL -> SpanKind.INTERNAL;
    };
  }

  /** Tracing off: the context moves on, nothing is recorded. */
  private record Unrecorded(TraceParent context) implements Span {
    @Override
    public Span attribute(String key, String value) {
      return this;
    }

    @Override
    public Span attribute(String key, long value) {
      return this;
    }

    @Override
    public Span error(String description) {
      return this;
    }

    @Override
    public void end() {}
  }

  private static final class Recorded implements Span {
    private final io.opentelemetry.api.trace.Span span;
    private final TraceParent context;

    Recorded(io.opentelemetry.api.trace.Span span) {
      this.span = span;
      SpanContext c = span.getSpanContext();
      this.context = new TraceParent(c.getTraceId(), c.getSpanId(), c.isSampled());
    }

    @Override
    public TraceParent context() {
      return context;
    }

    @Override
    public Span attribute(String key, String value) {
      if (value != null) span.setAttribute(key, value);
      return this;
    }

    @Override
    public Span attribute(String key, long value) {
      span.setAttribute(key, value);
      return this;
    }

    @Override
    public Span error(String description) {
      span.setStatus(StatusCode.ERROR, description == null ? "" : description);
      return this;
    }

    @Override
    public void end() {
      span.end();
    }
  }
}
