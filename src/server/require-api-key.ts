import type { FastifyRequest } from 'fastify';
import { callerOf, type Caller, type CallerIdentifier } from '../gateway/caller.js';
import { adminTokenCheck, type RouteGuard } from './admin-auth.js';

/**
 * The guard of the read-only views (models, services, stats, route explanations): open while the
 * router is, else any active API key (its model list and budget do not keep it out, since it only
 * reads; what it reads is as that key sees it: readerOf) or the admin token, which operators' tools already hold.
 */
export function requireApiKey(identifier: CallerIdentifier, adminToken: string | undefined): RouteGuard {
  const isAdmin = adminToken === undefined ? undefined : adminTokenCheck(adminToken);
  return async (request) => {
    if (!identifier.keysRequired() || isAdmin?.(request)) return;
    identifier.authenticate(request.headers.authorization);
  };
}

/**
 * Whose view a request let in by that guard has: the caller its API key makes, whose requests may
 * use only that key's models and stored responses; undefined for one that sees everything, on an
 * open router or with the admin token.
 */
export function readerOf(identifier: CallerIdentifier, adminToken: string | undefined): (request: FastifyRequest) => Caller | undefined {
  const isAdmin = adminToken === undefined ? undefined : adminTokenCheck(adminToken);
  return (request) => (!identifier.keysRequired() || isAdmin?.(request) ? undefined : callerOf(identifier.authenticate(request.headers.authorization)));
}
