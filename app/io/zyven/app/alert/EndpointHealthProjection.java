package io.zyven.app.alert;

import io.zyven.app.endpoint.EndpointEntity;
import io.zyven.app.readmodel.ReadModelSession;
import io.zyven.app.store.Database;
import io.zyven.app.store.OperationalEvents;
import io.zyven.protocol.EndpointJournal;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.ExactlyOnceProjection;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;
import org.apache.pekko.projection.jdbc.javadsl.JdbcProjection;

/**
 * Turns endpoints' health changes (journaled by {@link EndpointEntity}, tagged
 * {@link EndpointEntity#HEALTH_TAG}) into operational events: disabled, enabled again,
 * circuit opened, circuit closed. Exactly once: the outbox row and the offset commit in one
 * transaction, so a node dying at any point loses none and doubles none. One instance in the
 * cluster (a sharded daemon process of one).
 */
public final class EndpointHealthProjection extends JdbcHandler<EventEnvelope<EndpointJournal>, ReadModelSession> {

  static final String NAME = "operational-events";

  public static void init(ActorSystem<?> system, Database db) {
    ShardedDaemonProcess.get(system)
        .init(
            ProjectionBehavior.Command.class,
            NAME,
            1,
            i -> ProjectionBehavior.create(projection(system, db)),
            ShardedDaemonProcessSettings.create(system),
            Optional.of(ProjectionBehavior.stopMessage()));
  }

  private static ExactlyOnceProjection<Offset, EventEnvelope<EndpointJournal>> projection(
      ActorSystem<?> system, Database db) {
    return JdbcProjection.exactlyOnce(
        ProjectionId.of(NAME, EndpointEntity.HEALTH_TAG),
        EventSourcedProvider.<EndpointJournal>eventsByTag(system, JdbcReadJournal.Identifier(), EndpointEntity.HEALTH_TAG),
        () -> new ReadModelSession(db),
        EndpointHealthProjection::new,
        system);
  }

  @Override
  public void process(ReadModelSession session, EventEnvelope<EndpointJournal> envelope) throws Exception {
    OperationalEvents.Row row = rowOf(envelope.persistenceId(), envelope.sequenceNr(), envelope.event());
    if (row == null) return;
    session.withConnection(c -> {
      OperationalEvents.insert(c, List.of(row));
      return null;
    });
  }

  /** The operational event a journaled change is, or null for one that is none. */
  static OperationalEvents.Row rowOf(String persistenceId, long seqNr, EndpointJournal event) {
    UUID endpointId = UUID.fromString(persistenceId.substring(persistenceId.indexOf('|') + 1));
    String source = "endpoint:" + endpointId + ":" + seqNr;
    if (event instanceof EndpointJournal.Disabled d) {
      return new OperationalEvents.Row(source, UUID.fromString(d.config().tenantId()), OperationalEvents.ENDPOINT_DISABLED,
          endpointId, null, d.reason(), d.at());
    }
    if (event instanceof EndpointJournal.Enabled e) {
      return new OperationalEvents.Row(source, UUID.fromString(e.config().tenantId()), OperationalEvents.ENDPOINT_ENABLED,
          endpointId, null, "enabled by the tenant", e.at());
    }
    if (event instanceof EndpointJournal.CircuitOpened o) {
      return new OperationalEvents.Row(source, null, OperationalEvents.CIRCUIT_OPENED, endpointId, null, o.reason(), o.at());
    }
    if (event instanceof EndpointJournal.CircuitClosed cl) {
      return new OperationalEvents.Row(source, null, OperationalEvents.CIRCUIT_CLOSED, endpointId, null,
          "a request succeeded", cl.at());
    }
    return null;
  }
}
