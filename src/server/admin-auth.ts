import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

const unauthorized = () =>
  new ApiError(401, 'This endpoint needs the admin token: send Authorization: Bearer <ADMIN_TOKEN>', 'invalid_request_error', 'invalid_admin_token', null, {
    'www-authenticate': 'Bearer',
  });

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A preHandler that admits requests carrying the admin token as a Bearer header or, for pages a
 * browser opens, as `?token=`. With no token configured, admin endpoints are open (as on loopback).
 */
export function requireAdmin(token: string | undefined) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (token === undefined) return;
    const header = request.headers.authorization;
    const bearer = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    const query = (request.query as Record<string, unknown> | undefined)?.token;
    const given = bearer ?? (typeof query === 'string' ? query : undefined);
    if (given === undefined || !sameToken(given, token)) throw unauthorized();
  };
}
