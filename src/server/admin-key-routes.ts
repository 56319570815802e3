import type { FastifyInstance } from 'fastify';
import type { GatewayPolicies } from '../gateway/policies.js';
import { describeKey, unrevokedReason, type ApiKeyLimits } from '../store/api-keys.js';
import { requireAdmin } from './admin-auth.js';
import { ApiError, badRequest } from './errors.js';
import { isPlausibleModelName, isPlausibleName, MODEL_NAME_RULE, NAME_RULE } from './validate.js';

/**
 * Keys over HTTP: list, create, revoke. Unlike the read-only admin views, these are off entirely
 * until ADMIN_TOKEN is set, since they mint credentials.
 */
export function registerAdminKeyRoutes(app: FastifyInstance, policies: GatewayPolicies, adminToken: string | undefined): void {
  const guard = requireAdmin(adminToken, { withoutToken: 'disabled' });

  app.get('/admin/keys', { onRequest: guard }, async () => ({ object: 'list', data: policies.keys.list().map(describeKey) }));

  app.post('/admin/keys', { onRequest: guard }, async (request, reply) => {
    const { name, limits } = parseKeyRequest(request.body);
    const { key, record } = policies.createKey(name, limits);
    void reply.code(201);
    return { ...describeKey(record), key };
  });

  app.delete('/admin/keys/:id', { onRequest: guard }, async (request) => {
    const { id } = request.params as { id: string };
    const revocation = await policies.revokeKey(id);
    if (revocation.outcome === 'revoked') return describeKey(revocation.record);
    const message = unrevokedReason(id, revocation);
    if (revocation.outcome === 'ambiguous') throw new ApiError(409, message, 'invalid_request_error', 'ambiguous_key_name', 'id');
    throw new ApiError(404, message, 'invalid_request_error', revocation.outcome === 'already_revoked' ? 'key_already_revoked' : 'key_not_found', 'id');
  });
}

function parseKeyRequest(body: unknown): { name: string; limits: ApiKeyLimits } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a JSON object');
  const fields = body as Record<string, unknown>;
  if (typeof fields.name !== 'string' || fields.name.trim() === '') throw badRequest("Missing required parameter: 'name'", 'name', 'missing_required_parameter');
  const name = fields.name.trim();
  // Logged with every request the key makes (`logs tail` shows it on terminals) and named in the path that revokes it (DELETE /admin/keys/{name}).
  if (!isPlausibleName(name)) throw badRequest(`Invalid 'name': ${NAME_RULE}`, 'name', 'invalid_value');
  const positive = (param: string, integer: boolean) => {
    const value = fields[param];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !(value > 0) || (integer && !Number.isInteger(value))) {
      throw badRequest(`Invalid '${param}': expected a positive ${integer ? 'integer' : 'number'}`, param, 'invalid_value');
    }
    return value;
  };
  let models: string[] | undefined;
  if (fields.models !== undefined && fields.models !== null) {
    // An empty list would make a key that may use no model, which `keys create --models` refuses too; a name no request may carry would never match.
    if (!Array.isArray(fields.models) || fields.models.length === 0 || !fields.models.every((m) => typeof m === 'string' && m.length > 0 && isPlausibleModelName(m))) {
      throw badRequest(`Invalid 'models': expected a non-empty array of model names (${MODEL_NAME_RULE}); leave it out for every model`, 'models', 'invalid_type');
    }
    models = fields.models as string[];
  }
  return { name, limits: { rpm: positive('rpm', true), tpm: positive('tpm', true), models, budgetUsd: positive('budget_usd', false) } };
}
