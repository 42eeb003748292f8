package io.zyven.app.endpoint;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The SSRF guard: webhooks go only to public addresses, unless
 * {@code zyven.delivery.allow-private-targets} is on (development, tests). Checked when an
 * endpoint is registered and again at every connection, on the address actually dialled,
 * since DNS can change between the two.
 */
public final class TargetGuard {

  /** The target is not allowed, or does not resolve. */
  public static final class Refused extends RuntimeException {
    private final boolean notPublic;

    Refused(String message, boolean notPublic) {
      super(message, null, false, false);
      this.notPublic = notPublic;
    }

    /** Whether the host resolved to an address that is not public (rather than not at all). */
    public boolean notPublic() {
      return notPublic;
    }
  }

  private final boolean allowPrivate;
  private final Executor dns; // resolution blocks
  private final Duration timeout;

  public TargetGuard(boolean allowPrivate, Executor dns) {
    this(allowPrivate, dns, Duration.ofSeconds(5));
  }

  /**
   * {@code dns} runs the lookups (they block); a lookup that it refuses (its queue is full)
   * fails at once with {@link RejectedExecutionException}, and one that takes longer than
   * {@code timeout} fails with {@link TimeoutException}. The JDK's resolver cannot be
   * interrupted, so the thread stays busy until the system resolver gives up; the bounded
   * queue keeps that from piling up.
   */
  public TargetGuard(boolean allowPrivate, Executor dns, Duration timeout) {
    this.allowPrivate = allowPrivate;
    this.dns = dns;
    this.timeout = timeout;
  }

  /** Completes when the URL's host may receive webhooks; fails with {@link Refused}. */
  public CompletionStage<Void> checkUrl(String url) {
    if (allowPrivate) return CompletableFuture.completedFuture(null);
    String host = URI.create(url).getHost();
    return lookup(() -> {
      resolve(host, 0);
      return null;
    });
  }

  /** The address to connect to: the first one of the host, if every one is allowed. */
  public CompletionStage<InetSocketAddress> resolveAsync(String host, int port) {
    return lookup(() -> resolve(host, port));
  }

  private <T> CompletableFuture<T> lookup(Supplier<T> resolution) {
    try {
      return CompletableFuture.supplyAsync(resolution, dns).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  InetSocketAddress resolve(String host, int port) {
    InetAddress[] addresses;
    try {
      addresses = InetAddress.getAllByName(stripBrackets(host));
    } catch (UnknownHostException e) {
      throw new Refused("cannot resolve host " + host, false);
    }
    if (!allowPrivate) {
      for (InetAddress a : addresses) {
        if (!isPublic(a)) {
          throw new Refused(host + " resolves to " + a.getHostAddress() + ", which is not a public address", true);
        }
      }
    }
    return new InetSocketAddress(addresses[0], port);
  }

  private static String stripBrackets(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /** Whether an address is on the public internet. */
  public static boolean isPublic(InetAddress a) {
    if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress()
        || a.isSiteLocalAddress() || a.isMulticastAddress()) {
      return false;
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) return isPublicV4(b);
    if (a instanceof Inet6Address) {
      int first = b[0] & 0xff;
      if ((first & 0xfe) == 0xfc) return false; // fc00::/7 unique local (incl. cloud metadata fd00:ec2::254)
      if (first == 0x20 && (b[1] & 0xff) == 0x01 && (b[2] & 0xff) == 0x0d && (b[3] & 0xff) == 0xb8) {
        return false; // 2001:db8::/32 documentation
      }
      if (isV4Mapped(b) || isNat64(b)) {
        return isPublicV4(new byte[] {b[12], b[13], b[14], b[15]});
      }
      boolean allZeroPrefix = true;
      for (int i = 0; i < 12; i++) allZeroPrefix &= b[i] == 0;
      return !allZeroPrefix; // ::/96 (v4-compatible, unspecified)
    }
    return false;
  }

  private static boolean isPublicV4(byte[] b) {
    int a0 = b[0] & 0xff;
    int a1 = b[1] & 0xff;
    int a2 = b[2] & 0xff;
    return !(a0 == 0 // 0.0.0.0/8
        || a0 == 10 // 10/8
        || a0 == 127 // loopback
        || (a0 == 169 && a1 == 254) // link-local, incl. 169.254.169.254 metadata
        || (a0 == 172 && a1 >= 16 && a1 <= 31) // 172.16/12
        || (a0 == 192 && a1 == 168) // 192.168/16
        || (a0 == 100 && a1 >= 64 && a1 <= 127) // 100.64/10 carrier-grade NAT
        || (a0 == 192 && a1 == 0 && (a2 == 0 || a2 == 2)) // 192.0.0/24, 192.0.2/24
        || (a0 == 198 && (a1 == 18 || a1 == 19)) // 198.18/15 benchmarking
        || (a0 == 198 && a1 == 51 && a2 == 100) // documentation
        || (a0 == 203 && a1 == 0 && a2 == 113) // documentation
        || a0 >= 224); // multicast, reserved, broadcast
  }

  private static boolean isV4Mapped(byte[] b) {
    for (int i = 0; i < 10; i++) if (b[i] != 0) return false;
    return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
  }

  private static boolean isNat64(byte[] b) { // 64:ff9b::/96
    if ((b[0] & 0xff) != 0 || (b[1] & 0xff) != 0x64 || (b[2] & 0xff) != 0xff || (b[3] & 0xff) != 0x9b) return false;
    for (int i = 4; i < 12; i++) if (b[i] != 0) return false;
    return true;
  }
}
