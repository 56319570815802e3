import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import { isSameOrigin, refusePageRequest } from './cors.js';
import { ApiError } from './errors.js';

/** Suffixes of special-use and private names: no public DNS serves them, so no web page's owner can point one at the router. */
const PRIVATE_SUFFIXES = ['.localhost', '.local', '.internal', '.home.arpa', '.lan', '.test', '.invalid'];

/**
 * Refuses (403 `host_not_allowed`) a request a browser sends as same-origin when its Host is a
 * name someone else's public DNS could point at the router, unless `allowedHosts` lists it.
 * DNS rebinding: a page of http://evil.example:8000 whose name is flipped to 127.0.0.1 calls the
 * router on its visitor's machine as its own origin (`Origin` equals `Host`, `Sec-Fetch-Site:
 * same-origin`), so neither CORS nor `foreignOriginGuard` stops it, and it reads every answer.
 * The one thing it cannot change is the Host name: its own. Requests no page sends as its own
 * (no Origin nor Fetch Metadata: SDKs, curl; a typed URL; another site's page) are left alone.
 * True when the request has been answered.
 */
export function rebindingGuard(allowedHosts: readonly string[]): (req: IncomingMessage, res: ServerResponse) => boolean {
  if (allowedHosts.includes('*')) return () => false;
  const allows = allowedHostNames(allowedHosts);
  return (req, res) => {
    const site = req.headers['sec-fetch-site'];
    const origin = req.headers.origin;
    if (site === undefined && origin === undefined) return false;
    const host = req.headers.host;
    // Browsers with Fetch Metadata say what the request is; the others show it by an Origin that is the Host.
    const sameOrigin = site !== undefined ? site === 'same-origin' : isSameOrigin(origin!, host);
    if (!sameOrigin || host === undefined) return false;
    const name = hostNameOf(host);
    if (cannotBeRebound(name) || allows(name)) return false;
    const message = `Requests from pages loaded through the host name '${name}' are not allowed (a page of a public DNS name can be rebound to the router): list it in allowed_hosts (ALLOWED_HOSTS)`;
    return refusePageRequest(req, res, new ApiError(403, message, 'permission_error', 'host_not_allowed'));
  };
}

/** The name a Host header carries, lower-case, without its port or a trailing dot; an IPv6 literal keeps its brackets. */
export function hostNameOf(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.lastIndexOf(':');
  const name = (end > 0 ? host.slice(0, end) : host).toLowerCase();
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** IP literals, single-label names and special-use or private names: no public DNS record can send a browser to the router by them. */
export function cannotBeRebound(name: string): boolean {
  if (name.startsWith('[')) return name.endsWith(']') && isIPv6(name.slice(1, -1));
  return !name.includes('.') || isIPv4(name) || PRIVATE_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** `allowed_hosts` entries: exact names, and `*.example.com` for the names under example.com. */
function allowedHostNames(entries: readonly string[]): (name: string) => boolean {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of entries.map(hostNameOf)) {
    if (entry.startsWith('*.')) suffixes.push(entry.slice(1));
    else exact.add(entry);
  }
  return (name) => exact.has(name) || suffixes.some((suffix) => name.endsWith(suffix));
}
