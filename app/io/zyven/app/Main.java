package io.zyven.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.Arrays;
import java.util.List;

/**
 * Starts one node. Configuration comes from application.conf, the {@code ZYVEN_*}
 * environment variables it reads, and {@code -D} overrides.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    Config config = ConfigFactory.load();
    String seeds = System.getenv("ZYVEN_SEED_NODES");
    if (seeds != null && !seeds.isBlank()) {
      List<String> seedNodes =
          Arrays.stream(seeds.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
      config = config.withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seedNodes));
    }
    // A node removed from the cluster (downed, or left) exits, so a supervisor restarts it.
    config = config.withValue("pekko.coordinated-shutdown.exit-jvm", ConfigValueFactory.fromAnyRef("on"));
    Zyven.start(config);
  }
}
