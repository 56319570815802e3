import type { FastifyRequest } from 'fastify';
import { bearerToken, secretMatcher } from './bearer-token.js';
import { ApiError } from './errors.js';

const unauthorized = () =>
  new ApiError(401, 'This endpoint needs the admin token: send Authorization: Bearer <ADMIN_TOKEN>', 'invalid_request_error', 'invalid_admin_token', null, {
    'www-authenticate': 'Bearer',
  });

const adminDisabled = (why = 'The admin API is disabled') => new ApiError(403, `${why}: set ADMIN_TOKEN to enable it`, 'permission_error', 'admin_disabled');

/** A hook that lets a request through or throws the ApiError that answers it. */
export type RouteGuard = (request: FastifyRequest) => Promise<void>;

export interface AdminGuardOptions {
  /**
   * With no token configured: `open` (read-only views, as on a trusted network) or `disabled`
   * (routes that mint credentials). Open views close once the router requires API keys
   * (`keysRequired`): a router that asks callers for keys does not show its request log to anyone.
   */
  withoutToken: 'open' | 'disabled';
  keysRequired?: () => boolean;
  /** Also accept `?token=`: only for the dashboard, which a browser opens from a link and cannot add a header to. */
  queryToken?: boolean;
}

/** Whether a request carries the admin token as `Authorization: Bearer` (or as `?token=` where allowed). */
export function adminTokenCheck(token: string): (request: FastifyRequest, queryToken?: boolean) => boolean {
  const matches = secretMatcher(token);
  return (request, queryToken = false) => {
    const query = queryToken ? (request.query as Record<string, unknown> | undefined)?.token : undefined;
    return matches(bearerToken(request.headers.authorization) ?? (typeof query === 'string' ? query : undefined));
  };
}

/** A preHandler admitting only requests with the admin token, the one admin check of every route. */
export function requireAdmin(token: string | undefined, { withoutToken, queryToken = false, keysRequired }: AdminGuardOptions): RouteGuard {
  const isAdmin = token === undefined ? undefined : adminTokenCheck(token);
  return async (request) => {
    if (!isAdmin) {
      if (withoutToken === 'disabled') throw adminDisabled();
      if (keysRequired?.()) throw adminDisabled('This router requires API keys, so its admin views need the admin token');
      return;
    }
    if (!isAdmin(request, queryToken)) throw unauthorized();
  };
}
