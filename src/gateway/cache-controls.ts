import { badRequest } from '../server/errors.js';

/** What a request's `cache` field asks of the response cache. */
export interface CacheControls {
  /** Cache this request even if the determinism rule would not. */
  optIn: boolean;
  /** Neither read nor store. */
  noStore: boolean;
  /** Do not answer from the cache; store the fresh answer. */
  noCache: boolean;
  ttlS?: number;
  /** Only an entry stored at most this long ago may answer. */
  maxAgeS?: number;
  /** Entries of one namespace answer only requests of the same namespace. */
  namespace?: string;
}

const OPT_IN: Readonly<CacheControls> = Object.freeze({ optIn: true, noStore: false, noCache: false });
const OPT_OUT: Readonly<CacheControls> = Object.freeze({ optIn: false, noStore: true, noCache: false });

/**
 * Reads the `cache` field: Switchyard's own `true` / `false`, or the per-request controls of
 * LiteLLM's proxy (`{"no-cache": true}`, `"no-store"`, `"ttl"`, `"s-maxage"`, `"namespace"`,
 * `"use-cache"`), which its clients send as they are. LiteLLM caches every request once caching
 * is on, so such an object opts in, unless it says `no-store` or `"use-cache": false`.
 * Throws a 400 for a value of another type.
 */
export function cacheControls(field: unknown): CacheControls {
  if (field === true) return OPT_IN;
  if (field === false) return OPT_OUT;
  if (field === null || typeof field !== 'object' || Array.isArray(field)) {
    throw badRequest("Invalid type for 'cache': expected a boolean or an object of cache controls", 'cache', 'invalid_type');
  }
  const controls = field as Record<string, unknown>;
  const noStore = flag(controls, 'no-store');
  return {
    optIn: !noStore && flag(controls, 'use-cache', true),
    noStore,
    noCache: flag(controls, 'no-cache'),
    ttlS: seconds(controls, 'ttl', 1),
    maxAgeS: seconds(controls, 's-maxage', 0),
    namespace: text(controls, 'namespace'),
  };
}

function flag(controls: Record<string, unknown>, name: string, absent = false): boolean {
  const value = controls[name];
  if (value === undefined || value === null) return absent;
  if (typeof value !== 'boolean') throw badRequest(`Invalid type for 'cache.${name}': expected a boolean`, `cache.${name}`, 'invalid_type');
  return value;
}

function seconds(controls: Record<string, unknown>, name: string, min: number): number | undefined {
  const value = controls[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw badRequest(`Invalid 'cache.${name}': expected a number of seconds, at least ${min}`, `cache.${name}`, 'invalid_value');
  }
  return value;
}

function text(controls: Record<string, unknown>, name: string): string | undefined {
  const value = controls[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`Invalid type for 'cache.${name}': expected a string`, `cache.${name}`, 'invalid_type');
  return value;
}
