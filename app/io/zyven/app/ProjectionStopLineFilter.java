package io.zyven.app;

import java.io.PrintStream;

/**
 * Drops one line from standard output: pekko-projection-jdbc 1.0.0 prints
 * {@code # stop org.apache.pekko.projection.jdbc.internal.JdbcProjectionImpl$JdbcRunningProjection@…}
 * whenever a projection stops ({@code JdbcProjectionImpl.JdbcRunningProjection.stop()}:
 * {@code println(s"# stop $this") // FIXME}, a debugging leftover with no setting to turn it
 * off), so every shutdown and every rebalance of the read-model projections wrote it to the
 * console. Everything else passes through unchanged.
 *
 * <p>Scala's {@code println} writes to {@code scala.Console.out}, which is the
 * {@code System.out} of the moment {@code scala.Console} is first used, and cannot be replaced
 * afterwards: {@link #install()} must run before the actor system starts.
 */
final class ProjectionStopLineFilter extends PrintStream {
  private static final String STOP_LINE =
      "# stop org.apache.pekko.projection.jdbc.internal.JdbcProjectionImpl$JdbcRunningProjection@";

  private ProjectionStopLineFilter(PrintStream out) {
    super(out, true);
  }

  /** Puts the filter in front of {@code System.out}, once. */
  static synchronized void install() {
    if (!(System.out instanceof ProjectionStopLineFilter)) {
      System.setOut(new ProjectionStopLineFilter(System.out));
    }
  }

  @Override
  public void println(String line) {
    if (line == null || !line.startsWith(STOP_LINE)) super.println(line);
  }

  @Override
  public void println(Object x) {
    println(String.valueOf(x));
  }
}
