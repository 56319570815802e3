import { randomBytes } from 'node:crypto';

/**
 * This process's name in the `Via` header of what it sends upstream (RFC 9110 §7.6.3), random per
 * start. A request that arrives carrying it has come back round a loop: an agent registered with
 * the router's own address, or two routers serving each other's models. Without this, one client
 * request became thousands of nested requests until its deadline, each holding memory.
 */
const OWN_PSEUDONYM = `switchyard-${randomBytes(6).toString('hex')}`;
const OWN_ENTRY = `1.1 ${OWN_PSEUDONYM}`;

/** Whether a request's `Via` says it has passed through this process already. */
export function hasLooped(via: string | undefined): boolean {
  return via !== undefined && via.includes(OWN_PSEUDONYM);
}

/** The `Via` to send upstream: the hops the request came through, then this one. */
export function viaUpstream(via: string | undefined): string {
  return via ? `${via}, ${OWN_ENTRY}` : OWN_ENTRY;
}
