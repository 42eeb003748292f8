package io.zyven.app.http;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import io.zyven.app.http.Principal.Scope;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Portal tokens: short-lived JWTs, HS256, that act for one tenant within a scope and
 * perhaps for some of its endpoints only. Stateless, so any node holding the signing key
 * checks them without a database lookup, and they cannot be revoked: they are short-lived
 * instead.
 *
 * <p>Claims: {@code iss} "zyven", {@code aud} "zyven-portal", {@code sub} the tenant id,
 * {@code scope} "read" or "manage", {@code endpoint_ids} (absent: every endpoint), {@code
 * iat}, {@code exp}, {@code jti}.
 */
final class PortalTokens {
  static final String ISSUER = "zyven";
  static final String AUDIENCE = "zyven-portal";

  /** Three base64url parts: a JWT (API keys have no dots). The signature part may be empty (alg none). */
  private static final Pattern JWT_SHAPE = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");

  /** What a valid token grants. {@code endpointIds} empty: every endpoint of the tenant. */
  record Grant(String tenantId, Scope scope, Set<String> endpointIds, String tokenId, Instant expiresAt) {}

  /** A new token and when it expires (whole seconds, as in the token). */
  record Issued(String token, Instant expiresAt) {}

  private final MACSigner signer;
  private final MACVerifier verifier;
  private final Clock clock;

  /** @param key at least 256 bits, the same on every node */
  PortalTokens(byte[] key, Clock clock) {
    try {
      this.signer = new MACSigner(key);
      this.verifier = new MACVerifier(key);
    } catch (JOSEException e) {
      throw new IllegalArgumentException("the portal signing key must be at least 256 bits", e);
    }
    this.clock = clock;
  }

  /** Whether a credential is meant as a portal token rather than an API key. */
  static boolean looksLikeToken(String credential) {
    return JWT_SHAPE.matcher(credential).matches();
  }

  Issued issue(String tenantId, Scope scope, Set<String> endpointIds, Duration ttl) {
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    Instant expiresAt = now.plus(ttl);
    JWTClaimsSet.Builder claims =
        new JWTClaimsSet.Builder()
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .subject(tenantId)
            .claim("scope", scope.wire())
            .issueTime(Date.from(now))
            .expirationTime(Date.from(expiresAt))
            .jwtID(UUID.randomUUID().toString());
    if (!endpointIds.isEmpty()) claims.claim("endpoint_ids", List.copyOf(endpointIds));
    SignedJWT jwt =
        new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(), claims.build());
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot sign a portal token", e);
    }
    return new Issued(jwt.serialize(), expiresAt);
  }

  /**
   * What the token grants; 401 when it is malformed, not signed with this key (HS256
   * only), not a Zyven portal token, or expired. The tenant's existence is the caller's
   * to check.
   */
  Grant verify(String token) {
    JWT parsed;
    try {
      parsed = JWTParser.parse(token);
    } catch (ParseException e) {
      throw Problems.unauthorized("malformed portal token");
    }
    // Only the algorithm we sign with: never "none", never one an attacker picks.
    if (!(parsed instanceof SignedJWT jwt)) throw Problems.unauthorized("portal token is not signed");
    if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm())) {
      throw Problems.unauthorized("portal token is not signed with HS256");
    }
    try {
      if (!jwt.verify(verifier)) throw Problems.unauthorized("portal token signature is not valid");
    } catch (JOSEException e) {
      throw Problems.unauthorized("portal token signature is not valid");
    }
    try {
      return grant(jwt.getJWTClaimsSet());
    } catch (ParseException | IllegalArgumentException e) {
      throw Problems.unauthorized("malformed portal token");
    }
  }

  private Grant grant(JWTClaimsSet claims) throws ParseException {
    if (!ISSUER.equals(claims.getIssuer()) || claims.getAudience() == null || !claims.getAudience().contains(AUDIENCE)) {
      throw Problems.unauthorized("not a Zyven portal token (wrong iss or aud)");
    }
    Date exp = claims.getExpirationTime();
    if (exp == null) throw Problems.unauthorized("malformed portal token: no exp");
    // exp is the first instant at which the token is no longer accepted (RFC 7519 4.1.4).
    if (!clock.instant().isBefore(exp.toInstant())) throw Problems.unauthorized("portal token expired");
    Scope scope = Scope.portalFromWire(claims.getStringClaim("scope"));
    if (scope == null) throw Problems.unauthorized("malformed portal token: unknown scope");
    if (claims.getSubject() == null) throw Problems.unauthorized("malformed portal token: no sub");
    String tenantId = UUID.fromString(claims.getSubject()).toString();
    Set<String> endpointIds = new LinkedHashSet<>();
    List<String> listed = claims.getStringListClaim("endpoint_ids");
    if (listed != null) {
      for (String id : listed) endpointIds.add(UUID.fromString(id).toString());
    }
    return new Grant(tenantId, scope, endpointIds, claims.getJWTID(), exp.toInstant());
  }
}
