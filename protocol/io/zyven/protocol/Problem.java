package io.zyven.protocol;

/** An RFC 9457 problem details body ({@code application/problem+json}). */
public record Problem(String type, String title, int status, String detail) {}
