package io.zyven.app.endpoint;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The SSRF guard. Only address literals here: no DNS. */
class TargetGuardTest {

  @ParameterizedTest(name = "{0} is not public")
  @ValueSource(
      strings = {
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
      })
  void privateLoopbackAndSpecialAddressesAreNotPublic(String literal) throws UnknownHostException {
    assertFalse(TargetGuard.isPublic(InetAddress.getByName(literal)));
  }

  @ParameterizedTest(name = "{0} is public")
  @ValueSource(
      strings = {"8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"})
  void publicAddressesArePublic(String literal) throws UnknownHostException {
    assertTrue(TargetGuard.isPublic(InetAddress.getByName(literal)));
  }

  @Test
  void checkUrlRefusesAPrivateTarget() {
    TargetGuard guard = new TargetGuard(false, Runnable::run);

    CompletionException e =
        assertThrows(
            CompletionException.class,
            () -> guard.checkUrl("http://127.0.0.1/x").toCompletableFuture().join());
    assertInstanceOf(TargetGuard.Refused.class, e.getCause());
  }

  @Test
  void checkUrlRefusesABracketedIpv6LoopbackTarget() {
    TargetGuard guard = new TargetGuard(false, Runnable::run);

    CompletionException e =
        assertThrows(
            CompletionException.class,
            () -> guard.checkUrl("http://[::1]:8080/x").toCompletableFuture().join());
    assertInstanceOf(TargetGuard.Refused.class, e.getCause());
  }

  @Test
  void checkUrlAllowsAPublicTarget() {
    TargetGuard guard = new TargetGuard(false, Runnable::run);

    assertDoesNotThrow(() -> guard.checkUrl("https://8.8.8.8/hook").toCompletableFuture().join());
  }

  @Test
  void checkUrlAllowsAPrivateTargetWhenPrivateTargetsAreAllowed() {
    TargetGuard guard = new TargetGuard(true, Runnable::run);

    assertDoesNotThrow(() -> guard.checkUrl("http://127.0.0.1/x").toCompletableFuture().join());
  }

  @Test
  void resolveRefusesAPrivateAddressAtConnectionTime() {
    TargetGuard guard = new TargetGuard(false, Runnable::run);

    CompletionException e =
        assertThrows(
            CompletionException.class,
            () -> guard.resolveAsync("10.0.0.1", 443).toCompletableFuture().join());
    assertInstanceOf(TargetGuard.Refused.class, e.getCause());
  }
}
