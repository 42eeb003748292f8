package io.zyven.app.alert;

import jakarta.mail.Authenticator;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.PasswordAuthentication;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Email alerts over SMTP (Jakarta Mail, Angus Mail's implementation), configured in
 * {@code zyven.alerts.smtp}. SMTP blocks, so sends run on a thread of their own, one at a
 * time, with bounded timeouts.
 */
final class Mailer {

  record Settings(
      String host, int port, String from, String username, String password, boolean startTls, Duration timeout) {}

  private final Settings settings;
  private final Session session;
  private final ExecutorService executor =
      new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(1000), r -> {
        Thread t = new Thread(r, "zyven-smtp");
        t.setDaemon(true);
        return t;
      });

  Mailer(Settings settings) {
    this.settings = settings;
    Properties p = new Properties();
    String millis = Long.toString(settings.timeout().toMillis());
    p.put("mail.smtp.host", settings.host());
    p.put("mail.smtp.port", Integer.toString(settings.port()));
    p.put("mail.smtp.connectiontimeout", millis);
    p.put("mail.smtp.timeout", millis);
    p.put("mail.smtp.writetimeout", millis);
    p.put("mail.smtp.starttls.enable", Boolean.toString(settings.startTls()));
    p.put("mail.smtp.starttls.required", Boolean.toString(settings.startTls()));
    boolean auth = !settings.username().isEmpty();
    p.put("mail.smtp.auth", Boolean.toString(auth));
    this.session = auth
        ? Session.getInstance(p, new Authenticator() {
            @Override
            protected PasswordAuthentication getPasswordAuthentication() {
              return new PasswordAuthentication(settings.username(), settings.password());
            }
          })
        : Session.getInstance(p);
  }

  /** Whether an address is one this mailer would take (RFC 822, no personal name). */
  static boolean validAddress(String address) {
    try {
      InternetAddress a = new InternetAddress(address, true);
      return a.getPersonal() == null && address.equals(a.getAddress()) && address.contains("@");
    } catch (MessagingException e) {
      return false;
    }
  }

  CompletionStage<Void> send(List<String> to, String subject, String text) {
    return CompletableFuture.runAsync(() -> {
      try {
        MimeMessage message = new MimeMessage(session);
        message.setFrom(new InternetAddress(settings.from()));
        for (String address : to) message.addRecipient(Message.RecipientType.TO, new InternetAddress(address));
        message.setSubject(subject, StandardCharsets.UTF_8.name());
        message.setText(text, StandardCharsets.UTF_8.name());
        message.setSentDate(new Date());
        Transport.send(message);
      } catch (MessagingException e) {
        throw new IllegalStateException("SMTP: " + e.getMessage(), e);
      }
    }, executor);
  }

  void close() {
    executor.shutdownNow();
  }
}
