import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isHttpUrl } from '../registry/model-entry.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import { bearerToken, secretMatcher } from './bearer-token.js';
import { badRequest, unauthorized } from './errors.js';

const RegistrationSchema = z
  .object({
    name: z.string().min(1).max(200),
    endpoint: z.string().refine(isHttpUrl, 'must be an http:// or https:// URL'),
    models: z.array(z.string().min(1)),
  })
  .loose();

const HeartbeatSchema = z.object({ name: z.string().min(1) }).loose();

/** The agent protocol of the replaced router: agents register the models they serve and send heartbeats. */
export function registerAgentRoutes(app: FastifyInstance, agents: AgentRegistry, token: string | undefined): void {
  const checkToken = bearerCheck(token);

  app.post('/register', async (request) => {
    checkToken(request);
    const { name, endpoint, models } = parse(RegistrationSchema, request.body);
    await agents.register({ name, endpoint, models });
    return { status: 'registered', name, models };
  });

  app.post('/heartbeat', async (request) => {
    checkToken(request);
    const { name } = parse(HeartbeatSchema, request.body);
    await agents.heartbeat(name);
    return { status: 'ok', name };
  });
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.');
  throw badRequest(field ? `Invalid '${field}': ${issue.message}` : `Invalid request body: ${issue.message}`, field || null, 'invalid_registration');
}

/** With a token configured, requests must carry `Authorization: Bearer <token>`. */
function bearerCheck(token: string | undefined): (request: FastifyRequest) => void {
  if (!token) return () => {};
  const matches = secretMatcher(token);
  return (request) => {
    const given = bearerToken(request.headers.authorization);
    if (given === undefined) throw unauthorized('This endpoint requires Authorization: Bearer <REGISTRATION_TOKEN>');
    if (!matches(given)) throw unauthorized('The registration token is not valid');
  };
}
