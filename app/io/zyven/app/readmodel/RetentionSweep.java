package io.zyven.app.readmodel;

import io.zyven.app.event.EventEntity;
import io.zyven.app.store.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.stream.ThrottleMode;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention: a cluster singleton that, every {@code interval}, finds finished events whose
 * last change is older than their tenant's retention period (in the read model, oldest
 * first, at most {@code batch} per run) and asks each one's entity to retire. The entity
 * checks for itself and has its rows removed ({@link EventRemoval}); an event with a
 * delivery under way stays, however old. Each run is logged with its counts and leaves its
 * figures in {@code retention_sweep}, which {@code /metrics} shows on every node.
 */
public final class RetentionSweep {
  private static final Logger log = LoggerFactory.getLogger(RetentionSweep.class);

  /**
   * {@code period}: how long a finished event is kept after its last change, unless its
   * tenant has its own {@code retention_period_days}; {@code batch}: events looked at per
   * run, at most; {@code maxInFlight}: entities asked at once; {@code maxPerSecond} and
   * {@code minPerSecond}: entities asked per second while the machine has room, and while
   * its CPU load is above {@code busyCpu} ({@link RetentionPace}; a max of 0: no limit);
   * {@code askTimeout}: how long one may take to answer.
   */
  public record Settings(
      Duration period, Duration interval, int batch, int maxInFlight, int maxPerSecond, int minPerSecond,
      double busyCpu, Duration askTimeout) {}

  /** Each tenant's cutoff (now, then the node's period in seconds): its own period or the node's. */
  private static final String TENANT_CUTOFFS =
      " (SELECT id, ?::timestamptz - make_interval(secs => COALESCE(retention_period_days * 86400.0, ?))"
          + " AS cutoff FROM tenants) t";

  /** A finished event old enough to go, and its tenant's cutoff. */
  record Candidate(String eventId, String tenantId, Instant cutoff) {}

  /** What one run did. */
  record Run(Instant at, int candidates, int removed, Map<EventEntity.KeptBecause, Integer> kept, int unanswered,
      Instant oldestEventAt, long millis) {}

  private interface Message {}

  private enum Tick implements Message {
    INSTANCE
  }

  private record Done(Run run, Throwable error) implements Message {}

  public static void init(ActorSystem<?> system, Database db, Settings settings) {
    ClusterSingleton.get(system)
        .init(
            SingletonActor.of(
                Behaviors.supervise(create(db, settings)).onFailure(SupervisorStrategy.restart()),
                "retention-sweep"));
  }

  static Behavior<Message> create(Database db, Settings settings) {
    return Behaviors.setup(
        ctx -> {
          // One pace for the singleton's life: each run starts at the rate the last one left.
          Optional<RetentionPace> pace = settings.maxPerSecond() <= 0 ? Optional.empty()
              : Optional.of(RetentionPace.ofMachine(
                  Math.min(settings.minPerSecond(), settings.maxPerSecond()), settings.maxPerSecond(), settings.busyCpu()));
          // The start of the last run: the events that passed their period since then are
          // the flow the sweep must keep up with.
          Instant[] lastRun = {Instant.now().minus(settings.interval())};
          return Behaviors.withTimers(
              timers -> {
                timers.startSingleTimer(Tick.INSTANCE, settings.interval());
                return Behaviors.receive(Message.class)
                    .onMessageEquals(
                        Tick.INSTANCE,
                        () -> {
                          Instant now = Instant.now();
                          ctx.pipeToSelf(run(ctx.getSystem(), db, settings, pace, lastRun[0], now), Done::new);
                          lastRun[0] = now;
                          return Behaviors.same();
                        })
                    .onMessage(
                        Done.class,
                        done -> {
                          if (done.error() != null) {
                            log.warn("Retention sweep failed, tries again in {}: {}", settings.interval(), done.error().toString());
                          } else {
                            logRun(done.run());
                          }
                          Duration wait = done.error() != null ? settings.interval() : untilNextRun(done.run(), settings);
                          if (wait.isZero()) ctx.getSelf().tell(Tick.INSTANCE);
                          else timers.startSingleTimer(Tick.INSTANCE, wait);
                          return Behaviors.same();
                        })
                    .build();
              });
        });
  }

  /**
   * When the next run starts after {@code run} ended: an interval after {@code run}
   * started, or at once if it took longer (runs never overlap), or found a full batch and
   * removed some. Counted from the start, not the end: a run that takes most of an
   * interval (the sweep at its keep-up pace on a busy node) must not be followed by a
   * whole idle interval, or removal falls behind the flow by that much every cycle and
   * what is kept grows for many cycles before it settles.
   */
  static Duration untilNextRun(Run run, Settings settings) {
    if (run.candidates() >= settings.batch() && run.removed() > 0) return Duration.ZERO;
    Duration left = settings.interval().minusMillis(run.millis());
    return left.isNegative() ? Duration.ZERO : left;
  }

  /**
   * One run: find, ask each entity (at most {@code maxInFlight} at once, at the pace's
   * rate, so that removal leaves ingest its share of the machine), then record what
   * happened. {@code since} is the start of the previous run.
   */
  static CompletionStage<Run> run(
      ActorSystem<?> system, Database db, Settings settings, Optional<RetentionPace> pace, Instant since, Instant now) {
    long start = System.nanoTime();
    ClusterSharding sharding = ClusterSharding.get(system);
    CompletionStage<Void> paced = pace.isEmpty() ? CompletableFuture.completedFuture(null)
        : db.query(c -> passedPerSecond(c, settings, since, now)).thenAccept(pace.get()::keepUpWith);
    return paced
        .thenCompose(ignored -> candidates(db, settings, now))
        .thenCompose(
            candidates -> {
              Source<Candidate, NotUsed> source = Source.from(candidates);
              if (pace.isPresent()) {
                RetentionPace p = pace.get();
                int burst = (int) Math.ceil((double) p.tokensPerSecond() / p.min());
                source = source.throttle(p.tokensPerSecond(), Duration.ofSeconds(1), burst, c -> p.cost(), ThrottleMode.shaping());
              }
              return source
                  .mapAsyncUnordered(
                      settings.maxInFlight(),
                      c -> sharding.entityRefFor(EventEntity.TYPE_KEY, c.eventId())
                          .<EventEntity.RetireReply>ask(
                              replyTo -> new EventEntity.Retire(c.tenantId(), c.cutoff(), replyTo), settings.askTimeout())
                          // On the system's dispatcher: the ask's stage would otherwise run this
                          // on the common pool, which on two cores starts a thread per retire.
                          .handleAsync((reply, error) -> Optional.ofNullable(reply), system.executionContext()))
                  .runFold(new Tally(), Tally::add, system);
            })
        .thenCompose(
            tally ->
                db.query(
                    c -> {
                      Run run = new Run(now, tally.candidates, tally.removed, Map.copyOf(tally.kept), tally.unanswered,
                          oldestEventAt(c), (System.nanoTime() - start) / 1_000_000);
                      record(c, run);
                      return run;
                    }));
  }

  /** The entities' answers, counted; an empty answer is an ask that timed out or failed. */
  private static final class Tally {
    int candidates;
    int removed;
    int unanswered;
    final Map<EventEntity.KeptBecause, Integer> kept = new EnumMap<>(EventEntity.KeptBecause.class);

    Tally add(Optional<EventEntity.RetireReply> reply) {
      candidates++;
      if (reply.isEmpty()) unanswered++;
      else if (reply.get() instanceof EventEntity.Kept k) kept.merge(k.because(), 1, Integer::sum);
      else removed++;
      return this;
    }
  }

  /**
   * Per tenant, its oldest finished events whose last change is before its cutoff (an
   * index range scan each: {@code events_retention_idx}); {@code batch} in all.
   */
  static CompletionStage<List<Candidate>> candidates(Database db, Settings settings, Instant now) {
    return db.query(
        c -> {
          try (PreparedStatement st = c.prepareStatement(
              "SELECT e.event_id, t.id, t.cutoff FROM" + TENANT_CUTOFFS
                  + " CROSS JOIN LATERAL (SELECT event_id FROM events"
                  + "   WHERE tenant_id = t.id AND status IN ('DELIVERED', 'DEAD_LETTERED') AND updated_at < t.cutoff"
                  + "   ORDER BY updated_at LIMIT ?) e"
                  + " LIMIT ?")) {
            st.setTimestamp(1, Timestamp.from(now));
            st.setDouble(2, settings.period().toMillis() / 1000.0);
            st.setInt(3, settings.batch());
            st.setInt(4, settings.batch());
            List<Candidate> found = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
              while (rs.next()) {
                found.add(new Candidate(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant()));
              }
            }
            return found;
          }
        });
  }

  /**
   * How many finished events a second passed their tenant's cutoff between the previous
   * run and this one (counted up to {@code batch}, through {@code events_retention_idx}).
   */
  static double passedPerSecond(Connection c, Settings settings, Instant since, Instant now) throws SQLException {
    double seconds = Math.max(1.0, Duration.between(since, now).toMillis() / 1000.0);
    try (PreparedStatement st = c.prepareStatement(
        "SELECT count(*) FROM" + TENANT_CUTOFFS
            + " CROSS JOIN LATERAL (SELECT 1 FROM events"
            + "   WHERE tenant_id = t.id AND status IN ('DELIVERED', 'DEAD_LETTERED')"
            + "     AND updated_at >= t.cutoff - make_interval(secs => ?) AND updated_at < t.cutoff"
            + "   LIMIT ?) e")) {
      st.setTimestamp(1, Timestamp.from(now));
      st.setDouble(2, settings.period().toMillis() / 1000.0);
      st.setDouble(3, seconds);
      st.setInt(4, settings.batch());
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1) / seconds;
      }
    }
  }

  /** The creation time of the oldest event still kept, through each tenant's newest-first index. */
  private static Instant oldestEventAt(Connection c) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
            "SELECT min(o.created_at) FROM tenants t CROSS JOIN LATERAL"
                + " (SELECT created_at FROM events WHERE tenant_id = t.id ORDER BY created_at LIMIT 1) o");
        ResultSet rs = st.executeQuery()) {
      rs.next();
      Timestamp oldest = rs.getTimestamp(1);
      return oldest == null ? null : oldest.toInstant();
    }
  }

  private static void record(Connection c, Run run) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(
        "INSERT INTO retention_sweep (id, last_run_at, last_run_removed, last_run_kept, oldest_event_at)"
            + " VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_run_at = EXCLUDED.last_run_at,"
            + " last_run_removed = EXCLUDED.last_run_removed, last_run_kept = EXCLUDED.last_run_kept,"
            + " oldest_event_at = EXCLUDED.oldest_event_at")) {
      st.setTimestamp(1, Timestamp.from(run.at()));
      st.setInt(2, run.removed());
      st.setInt(3, run.candidates() - run.removed());
      st.setTimestamp(4, run.oldestEventAt() == null ? null : Timestamp.from(run.oldestEventAt()));
      st.executeUpdate();
    }
  }

  private static void logRun(Run run) {
    if (run.candidates() == 0) {
      log.debug("Retention sweep: nothing to remove; oldest event kept from {}", run.oldestEventAt());
      return;
    }
    log.info(
        "Retention sweep: {} events past their retention period, {} removed, kept {}, {} unanswered, in {} ms;"
            + " oldest event kept from {}",
        run.candidates(), run.removed(), run.kept(), run.unanswered(), run.millis(), run.oldestEventAt());
  }
}
