package io.zyven.app.alert;

import io.zyven.app.alert.AlertChannels.Channel;
import io.zyven.app.alert.AlertMessages.Line;
import io.zyven.app.alert.AlertMessages.OpEvent;
import io.zyven.app.ingest.IdempotencyKey;
import io.zyven.app.ingest.IngestResult;
import io.zyven.app.ingest.IngestService;
import io.zyven.app.ingest.NewEvent;
import java.nio.charset.StandardCharsets;
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
  private final Executor ec;

  AlertSender(AlertChannels channels, IngestService ingest, Mailer mailer, String consoleBase, Executor ec) {
    this.channels = channels;
    this.ingest = ingest;
    this.mailer = mailer;
    this.consoleBase = consoleBase;
    this.ec = ec;
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
            AlertMessages.slack(lines, consoleBase)).thenApply(s -> null);
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
            new NewEvent(type, payload, channel.endpointId().toString()), body, null, true)
        .thenComposeAsync(result -> {
          Sent sent;
          if (result instanceof IngestResult.Accepted a) sent = new Sent(UUID.fromString(a.eventId()), "accepted", null);
          else if (result instanceof IngestResult.Replayed r) sent = new Sent(UUID.fromString(r.eventId()), "accepted", null);
          else {
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
        : send.get().thenComposeAsync(sent -> channels.record(channel.id(), key, Instant.now(), types(events), summary,
            null, sent.outcome(), sent.error()).thenApply(v -> sent), ec), ec);
  }
}
