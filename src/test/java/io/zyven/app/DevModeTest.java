package io.zyven.app;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zyven.app.testing.ApiClient.Tenant;
import io.zyven.app.testing.Await;
import io.zyven.app.testing.NodeProcess;
import io.zyven.app.testing.Receiver;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code zyven dev}: loopback only, delivers to a receiver on this machine, and says so. */
class DevModeTest {
  private Path dataDir;
  private NodeProcess node;
  private Receiver receiver;

  @BeforeEach
  void start() throws Exception {
    dataDir = Files.createTempDirectory("zyven-dev");
    Path log = NodeProcess.logFile("dev");
    // No allow-private-targets here: dev mode itself must allow the loopback receiver.
    node = NodeProcess.start(dataDir, log, Map.of(), Map.of(), List.of("dev"));
    node.awaitReady(Duration.ofSeconds(90));
    Await.until("the ready block", Duration.ofSeconds(30), () -> NodeProcess.read(log).contains("data:"));
    String banner = NodeProcess.read(log);
    assertTrue(banner.contains("Zyven ready at " + node.url()), banner);
    assertTrue(banner.contains("development (ZYVEN_DEV): not for production"), banner);
    assertTrue(banner.contains("SSRF guard: OFF"), banner);
    assertTrue(banner.contains(dataDir.resolve("postgres").toString()), "says where the data lives:\n" + banner);
    receiver = new Receiver();
  }

  @AfterEach
  void stop() throws Exception {
    if (receiver != null) receiver.close();
    if (node != null) node.close();
    NodeProcess.killPostgres(dataDir);
  }

  @Test
  void itDeliversToAReceiverOnThisMachine() {
    Tenant tenant = node.api.createTenant("dev");
    node.api.createEndpoint(tenant.apiKey(), "{\"url\":\"" + receiver.url("/local") + "\"}");

    node.api.ingest(tenant.apiKey(), "k", "{\"type\":\"user.created\",\"payload\":{}}");

    Await.until("the webhook at the loopback receiver", Duration.ofSeconds(15),
        () -> receiver.requests("/local").size() == 1);
  }

  @Test
  void itListensOnLoopbackOnly() throws Exception {
    Optional<InetAddress> external = nonLoopbackAddress();
    int port = Integer.parseInt(node.url().substring(node.url().lastIndexOf(':') + 1));
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(external.isPresent(), "a machine with loopback only: nothing else to refuse");
    assertThrows(IOException.class, () -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(external.get(), port), 2000);
      }
    }, "not reachable on " + external.get());
  }

  private static Optional<InetAddress> nonLoopbackAddress() throws IOException {
    for (NetworkInterface nic : NetworkInterface.networkInterfaces().toList()) {
      if (!nic.isUp() || nic.isLoopback()) continue;
      for (InetAddress a : nic.inetAddresses().toList()) {
        if (a instanceof Inet4Address) return Optional.of(a);
      }
    }
    return Optional.empty();
  }

}
