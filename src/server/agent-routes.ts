import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isHttpUrl } from '../registry/model-entry.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import { bearerToken, secretMatcher } from './bearer-token.js';
import { ApiError, badRequest, unauthorized } from './errors.js';
import { isPlausibleModelName, isPlausibleName, MODEL_NAME_RULE, NAME_RULE } from './validate.js';

const MAX_MODELS_PER_AGENT = 256;

const AgentName = z
  .string()
  .min(1)
  .max(200)
  // provider:… and registry:… name the router's own targets; an agent taking one would replace or shadow it.
  .refine((name) => !/^(provider|registry):/.test(name), "must not start with 'provider:' or 'registry:' (the router's own targets)")
  // Shown by `switchyard status` and `logs tail` on terminals, and named in paths and headers: an unpaired surrogate made every request to the agent a 500, and the agent impossible to retire.
  .refine(isPlausibleName, NAME_RULE);

const RegistrationSchema = z
  .object({
    name: AgentName,
    endpoint: z
      .string()
      .refine(isHttpUrl, 'must be an http:// or https:// URL')
      // They would never be sent, yet be shown in /services and the logs.
      .refine((url) => !/^[a-z]+:\/\/[^/@]*@/i.test(url), 'must not contain credentials (user:password@)'),
    // Names a client could never ask for (see validateInference). A bound, as one registration of
    // 300,000 names took 1.5 s of the event loop and 150 MB.
    models: z.array(z.string().min(1).refine(isPlausibleModelName, MODEL_NAME_RULE)).max(MAX_MODELS_PER_AGENT),
  })
  .loose();

// A name no agent may register under is refused as such, not looked up and echoed back whole in a 404.
const HeartbeatSchema = z.object({ name: AgentName }).loose();

const registrationDisabled = () =>
  new ApiError(
    403,
    'Agent registration is disabled: this router requires credentials (API keys or an admin token) but no registration token is set. Set REGISTRATION_TOKEN (agents.registration_token) and have agents send Authorization: Bearer <token>',
    'permission_error',
    'registration_disabled',
  );

export interface RegistrationAccess {
  /** REGISTRATION_TOKEN: when set, the one credential /register and /heartbeat accept. */
  token: string | undefined;
  /**
   * Whether the router itself is open (no API keys in force, no admin token). Only then may
   * anyone register without a token: an agent receives the prompts sent to its models, so open
   * registration on a router that otherwise checks credentials would be a way around them.
   */
  routerIsOpen: () => boolean;
}

/** The agent protocol of the replaced router: agents register the models they serve and send heartbeats; DELETE /register/{name} retires one. */
export function registerAgentRoutes(app: FastifyInstance, agents: AgentRegistry, access: RegistrationAccess, log: Logger): void {
  const checkToken = registrationCheck(access);
  if (!access.token && access.routerIsOpen()) {
    log.warn('agent registration is open: anyone who can reach the router can register an agent and receive the requests for its models; set REGISTRATION_TOKEN (it closes by itself once an API key exists)');
  } else if (!access.token) {
    log.warn('agent registration is disabled: the router requires credentials and REGISTRATION_TOKEN is not set');
  }

  app.post('/register', async (request) => {
    checkToken(request);
    const { name, endpoint, models } = parse(RegistrationSchema, request.body);
    await agents.register({ name, endpoint, models });
    // 'ok', as the replaced router answered both endpoints (and its agents may check).
    return { status: 'ok', name, models };
  });

  // Agent names may contain slashes: the name is the whole rest of the path (already percent-decoded).
  app.delete('/register/*', async (request) => {
    checkToken(request);
    const name = (request.params as { '*': string })['*'];
    if (name === '') throw badRequest("Invalid 'name': give the agent's name as DELETE /register/{name}", 'name', 'invalid_registration');
    await agents.retire(name);
    return { status: 'unregistered', name };
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

/** With a token configured, requests must carry `Authorization: Bearer <token>`; without one, the router must be open. */
function registrationCheck({ token, routerIsOpen }: RegistrationAccess): (request: FastifyRequest) => void {
  if (!token) {
    return () => {
      if (!routerIsOpen()) throw registrationDisabled();
    };
  }
  const matches = secretMatcher(token);
  return (request) => {
    const given = bearerToken(request.headers.authorization);
    if (given === undefined) throw unauthorized('This endpoint requires Authorization: Bearer <REGISTRATION_TOKEN>');
    if (!matches(given)) throw unauthorized('The registration token is not valid');
  };
}
