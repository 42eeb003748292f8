package io.zyven.app.alert;

import io.zyven.app.alert.AlertChannels.Channel;
import io.zyven.app.alert.AlertMessages.Line;
import io.zyven.app.alert.AlertMessages.OpEvent;
import io.zyven.app.ingest.IdempotencyKey;
import io.zyven.app.ingest.IngestResult;
import io.zyven.app.ingest.IngestService;
import io.zyven.app.ingest.NewEvent;
import io.zyven.app.metrics.Metrics;
import io.zyven.protocol.Signature;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends operational events to a tenant's channels. Webhook, Slack and PagerDuty messages go
 * through Zyven's own delivery path: each is an event ingested for the channel's internal
 * endpoint, with an Idempotency-Key derived from what it carries, so it is journaled,
 * signed, retried, and sent once however often a batch is sent again. Email goes to the
 * SMTP server directly, at least once.
 */
final class AlertSender {
  private static final Logger log = LoggerFactory.getLogger(AlertSender.class);

  /** What a channel was sent: the Zyven event carrying it (path kinds) and how it went. */
  record Sent(UUID eventId, String outcome, String error) {}

  private final AlertChannels channels;
  private final IngestService ingest;
  private final Mailer mailer;
  private final String consoleBase;
  private final GlobalChannel global;
  private final Executor ec;
  private final HttpClient http;

  AlertSender(
      AlertChannels channels, IngestService ingest, Mailer mailer, String consoleBase, GlobalChannel global, Executor ec) {
    this.channels = channels;
    this.ingest = ingest;
    this.mailer = mailer;
    this.consoleBase = consoleBase;
    this.global = global;
    this.ec = ec;
    this.http = HttpClient.newBuilder().connectTimeout(GLOBAL_TIMEOUT).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  private static final Duration GLOBAL_TIMEOUT = Duration.ofSeconds(10);

  /**
   * The batch to the operator's global channel, if one is configured and subscribes to some
   * of it: sent directly (it belongs to no tenant's delivery path), once per batch (recorded
   * as sent). A failure fails the stage, so the batch is sent again next tick, until it is
   * older than the channel's {@code retry-for}: then it is logged and given up.
   */
  CompletionStage<Void> sendGlobal(UUID batchId, Instant claimedAt, List<OpEvent> events) {
    if (global == null) return CompletableFuture.completedFuture(null);
    Channel channel = global.channel();
    List<OpEvent> relevant = events.stream().filter(e -> channel.subscribes(e.type())).toList();
    if (relevant.isEmpty()) return CompletableFuture.completedFuture(null);
    String key = "alert:" + batchId + ":global";
    List<Line> lines = AlertMessages.lines(relevant);
    String summary = "tenant " + relevant.get(0).tenantId() + ": " + AlertMessages.summary(lines);
    return channels.sent(key).thenComposeAsync(done -> {
      if (done) return CompletableFuture.<Void>completedFuture(null);
      CompletionStage<Void> sending = switch (channel.kind()) {
        case "webhook" -> {
          CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
          for (OpEvent e : relevant) {
            String id = UUID.nameUUIDFromBytes((key + ":" + e.id()).getBytes(StandardCharsets.UTF_8)).toString();
            chain = chain.thenComposeAsync(v -> post(channel.url(), AlertMessages.webhook(e, consoleBase), id, e.type()), ec);
          }
          yield chain;
        }
        case "slack" -> post(channel.url(), AlertMessages.slack(lines, consoleBase, "Zyven [" + summary + "]"), null, null);
        case "pagerduty" -> {
          CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
          for (AlertMessages.PagerDutyEvent pd : AlertMessages.pagerDuty(relevant, channel.routingKey(), consoleBase)) {
            chain = chain.thenComposeAsync(v -> post(channel.url(), pd.body(), null, null), ec);
          }
          yield chain;
        }
        default -> mailer == null
            ? CompletableFuture.failedFuture(new IllegalStateException("no SMTP server is configured"))
            : mailer.send(channel.to(), "Zyven: " + summary, AlertMessages.emailBody(lines, consoleBase));
      };
      return sending.handleAsync((v, error) -> {
        if (error == null) {
          Metrics.alertSent(channel.kind(), "sent");
          return channels.record(GlobalChannel.ID, key, Instant.now(), types(relevant), summary, null, "sent", null);
        }
        String why = (error.getCause() != null ? error.getCause() : error).getMessage();
        if (Instant.now().isBefore(claimedAt.plus(global.retryFor()))) {
          return CompletableFuture.<Void>failedFuture(new IllegalStateException("the global alert channel: " + why));
        }
        log.error("Gave up sending batch {} to the global alert channel: {}", batchId, why);
        Metrics.alertSent(channel.kind(), "failed");
        return channels.record(GlobalChannel.ID, key, Instant.now(), types(relevant), summary, null, "failed", why);
      }, ec).thenComposeAsync(stage -> stage, ec);
    }, ec);
  }

  /** One POST of the global channel: 2xx or it failed. {@code webhookId}: sign it (webhook kind). */
  private CompletionStage<Void> post(String url, String body, String webhookId, String type) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
        .timeout(GLOBAL_TIMEOUT)
        .header("Content-Type", "application/json")
        .header("User-Agent", "Zyven")
        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
    if (webhookId != null) {
      long now = Instant.now().getEpochSecond();
      String signature = Signature.sign(global.secret(), webhookId, now, bytes);
      request.header("webhook-id", webhookId).header("webhook-timestamp", Long.toString(now))
          .header("webhook-signature", signature).header("X-Event-Type", type);
    }
    return http.sendAsync(request.build(), HttpResponse.BodyHandlers.discarding()).thenAccept(response -> {
      if (response.statusCode() / 100 != 2) {
        throw new IllegalStateException(url + " answered " + response.statusCode());
      }
    });
  }

  /** Sends a batch to every channel of the tenant that subscribes to some of it, one channel after another. */
  CompletionStage<Void> send(UUID batchId, UUID tenantId, List<OpEvent> events) {
    return channels.list(tenantId).thenComposeAsync(list -> {
      CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
      for (Channel channel : list) {
        List<OpEvent> relevant = events.stream().filter(e -> channel.subscribes(e.type())).toList();
        if (relevant.isEmpty()) continue;
        chain = chain.thenComposeAsync(v -> sendTo(channel, "alert:" + batchId + ":" + channel.id(), relevant), ec);
      }
      return chain;
    }, ec);
  }

  /** A test message, through the same path as real ones; answered with what it became. */
  CompletionStage<Sent> test(Channel channel) {
    OpEvent test = new OpEvent(0, channel.tenantId(), AlertMessages.TEST_TYPE, channel.id(), null, null,
        "a test sent from the API", Instant.now());
    String key = "alert-test:" + channel.id() + ":" + UUID.randomUUID();
    return switch (channel.kind()) {
      case "webhook" -> viaPath(channel, key, List.of(test.type()), "Test alert", test.type(),
          AlertMessages.webhookTest(test, channel.id()));
      case "email" -> viaMail(channel, key, List.of(test), true);
      default -> sendTo(channel, key, List.of(test))
          .thenCompose(v -> channels.lastSends(channel.id(), channel.endpointId(), 1))
          .thenApply(sends -> sends.isEmpty() ? new Sent(null, "failed", "nothing sent")
              : new Sent(sends.get(0).eventId(), sends.get(0).outcome(), sends.get(0).error()));
    };
  }

  /** The messages of one channel for these events. {@code key} is unique to the batch and channel. */
  private CompletionStage<Void> sendTo(Channel channel, String key, List<OpEvent> events) {
    List<Line> lines = AlertMessages.lines(events);
    switch (channel.kind()) {
      case "webhook": {
        // Machines get every operational event on its own, each once (keyed by its row).
        CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
        for (OpEvent e : events) {
          chain = chain.thenComposeAsync(v -> viaPath(channel, "alert:" + channel.id() + ":" + e.id(),
              List.of(e.type()), AlertMessages.describe(new Line(e, 1)), e.type(),
              AlertMessages.webhook(e, consoleBase)).thenApply(s -> null), ec);
        }
        return chain;
      }
      case "slack":
        return viaPath(channel, key, types(events), AlertMessages.summary(lines), eventType(lines),
            AlertMessages.slack(lines, consoleBase, "Zyven: " + AlertMessages.summary(lines))).thenApply(s -> null);
      case "pagerduty": {
        CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
        int n = 0;
        for (AlertMessages.PagerDutyEvent pd : AlertMessages.pagerDuty(events, channel.routingKey(), consoleBase)) {
          String pdKey = key + ":" + n++;
          chain = chain.thenComposeAsync(v -> viaPath(channel, pdKey, List.of(pd.about().type()),
              pd.action() + " " + pd.dedupKey(), pd.about().type(), pd.body()).thenApply(s -> null), ec);
        }
        return chain;
      }
      case "email":
        return viaMail(channel, key, events, false).thenApply(s -> null);
      default:
        return CompletableFuture.completedFuture(null);
    }
  }

  private static List<String> types(List<OpEvent> events) {
    return events.stream().map(OpEvent::type).distinct().toList();
  }

  private static String eventType(List<Line> lines) {
    return lines.size() == 1 ? lines.get(0).last().type() : "alert.digest";
  }

  /** An event for the channel's own endpoint; recorded with the event id that carries it. */
  private CompletionStage<Sent> viaPath(
      Channel channel, String key, List<String> types, String summary, String type, String payload) {
    byte[] body = payload.getBytes(StandardCharsets.UTF_8);
    return ingest
        .ingest(channel.tenantId().toString(), new IdempotencyKey(key),
            new NewEvent(type, payload, channel.endpointId().toString()), body, null, IngestService.Origin.ALERT)
        .thenComposeAsync(result -> {
          Sent sent;
          if (result instanceof IngestResult.Accepted a) {
            sent = new Sent(UUID.fromString(a.eventId()), "accepted", null);
            Metrics.alertSent(channel.kind(), "sent"); // a replay (the batch sent again) is not counted again
          } else if (result instanceof IngestResult.Replayed r) {
            sent = new Sent(UUID.fromString(r.eventId()), "accepted", null);
          } else {
            Metrics.alertSent(channel.kind(), "failed");
            // Its endpoint was disabled (a 410 from the receiver, or failing for days): the
            // message is not sent; recorded so that the channel's sends show why.
            log.warn("Alert channel {} could not take a message: {}", channel.id(), result);
            sent = new Sent(null, "failed", "the channel's endpoint is disabled; PATCH the channel's url to enable it again");
          }
          return channels.record(channel.id(), key, Instant.now(), types, summary, sent.eventId(), sent.outcome(),
              sent.error()).thenApply(v -> sent);
        }, ec);
  }

  private CompletionStage<Sent> viaMail(Channel channel, String key, List<OpEvent> events, boolean test) {
    List<Line> lines = AlertMessages.lines(events);
    String summary = AlertMessages.summary(lines);
    Supplier<CompletionStage<Sent>> send = () -> {
      if (mailer == null) return CompletableFuture.completedFuture(new Sent(null, "failed", "no SMTP server is configured"));
      return mailer.send(channel.to(), "Zyven: " + summary, AlertMessages.emailBody(lines, consoleBase))
          .handle((v, error) -> error == null
              ? new Sent(null, "sent", null)
              : new Sent(null, "failed", String.valueOf(error.getCause() != null ? error.getCause().getMessage() : error.getMessage())));
    };
    // A batch sent again after a crash skips mail it already sent; one cut short between
    // the SMTP answer and this record goes again (at least once).
    CompletionStage<Boolean> already = test ? CompletableFuture.completedFuture(false) : channels.sent(key);
    return already.thenComposeAsync(done -> done
        ? CompletableFuture.completedFuture(new Sent(null, "sent", null))
        : send.get().thenComposeAsync(sent -> {
          Metrics.alertSent(channel.kind(), sent.outcome().equals("sent") ? "sent" : "failed");
          return channels.record(channel.id(), key, Instant.now(), types(events), summary,
              null, sent.outcome(), sent.error()).thenApply(v -> sent);
        }, ec), ec);
  }
}
