import { createHash, timingSafeEqual } from 'node:crypto';

/** The credential of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 9110). */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

/**
 * Compares presented tokens with a secret in constant time: both sides are reduced to sha256
 * digests first, so that neither the secret's length nor a matching prefix shows in the timing.
 */
export function secretMatcher(secret: string): (given: string | undefined) => boolean {
  const expected = sha256(secret);
  return (given) => given !== undefined && timingSafeEqual(sha256(given), expected);
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();
