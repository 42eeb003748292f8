package io.zyven.app.alert;

import com.typesafe.config.Config;
import io.zyven.app.endpoint.TargetGuard;
import io.zyven.app.ingest.IngestService;
import io.zyven.app.store.Database;
import io.zyven.app.store.EndpointIndex;
import io.zyven.app.store.SecretBox;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Operational events and alert channels, wired: the projection of endpoints' health
 * changes into the outbox (dead letters go there from the read-model projection), the
 * dispatcher that sends it, and the service behind {@code /v1/alert-channels}.
 */
public final class Alerts {
  private Alerts() {}

  /** A setting of {@code zyven.alerts} the node cannot work with: it does not start. */
  public static final class BadSetting extends IllegalArgumentException {
    BadSetting(String message) {
      super(message);
    }
  }

  /** Checks {@code zyven.alerts} before anything starts; throws {@link BadSetting}. */
  public static void check(Config alerts) {
    GlobalChannel global = GlobalChannel.fromConfig(alerts.getConfig("global"), alerts.getString("pagerduty-url"));
    if (global != null && global.channel().kind().equals("email") && alerts.getString("smtp.host").isEmpty()) {
      throw new BadSetting("an email global alert channel needs zyven.alerts.smtp.host");
    }
  }

  /** {@code alerts} is {@code zyven.alerts}; {@code consoleBase} is {@code zyven.http.public-url}. */
  public static AlertChannelService start(
      ActorSystem<?> system,
      Config alerts,
      String consoleBase,
      Database db,
      EndpointIndex index,
      SecretBox secrets,
      TargetGuard guard,
      IngestService.Settings ingestSettings,
      AlertChannelService.EndpointDefaults defaults,
      Duration askTimeout) {
    Config smtp = alerts.getConfig("smtp");
    Mailer mailer = smtp.getString("host").isEmpty()
        ? null
        : new Mailer(new Mailer.Settings(
            smtp.getString("host"), smtp.getInt("port"), smtp.getString("from"), smtp.getString("username"),
            smtp.getString("password"), smtp.getBoolean("starttls"), smtp.getDuration("timeout")));
    if (mailer != null) system.classicSystem().registerOnTermination(mailer::close);
    AlertChannels channels = new AlertChannels(db);
    GlobalChannel global = GlobalChannel.fromConfig(alerts.getConfig("global"), alerts.getString("pagerduty-url"));
    AlertSender sender = new AlertSender(
        channels, new IngestService(system, index, ingestSettings), mailer, consoleBase.trim(), global,
        system.executionContext());
    EndpointHealthProjection.init(system, db);
    AlertDispatcher.init(system, new AlertOutbox(db), sender, new AlertDispatcher.Settings(
        alerts.getDuration("tick"), alerts.getDuration("group-wait"), alerts.getDuration("group-interval"),
        alerts.getDuration("keep")));
    return new AlertChannelService(
        system, index, secrets, guard, channels, sender, mailer != null, defaults, askTimeout,
        alerts.getString("pagerduty-url"));
  }
}
