import type { FastifyInstance } from 'fastify';
import type { GatewayPolicies } from '../gateway/policies.js';
import { tokensOfBytes } from '../gateway/token-estimate.js';
import { outputSchema } from '../providers/messages/output-format.js';
import { validateMessagesBody } from '../providers/messages/validate.js';
import { validateInference } from './validate.js';

/**
 * `POST /v1/messages/count_tokens`, the Messages API's token count, as an estimate: the router
 * has no tokenizer of any target's model, so it answers what it charges rate limits with before an
 * answer reports usage, about 4 bytes of the prompt a token: the system prompt, the messages, the
 * tools and a structured output's schema, which every target reads as part of the prompt. Clients use
 * the count to judge how full a context window is, for which an estimate serves; nothing is sent
 * upstream. The caller is identified and authorized for the model as on the Messages route, and
 * errors are in Anthropic's shape (see registerErrorHandlers).
 */
export function registerMessagesTokenCount(app: FastifyInstance, policies: GatewayPolicies): void {
  app.post('/v1/messages/count_tokens', async (request, reply) => {
    // A chat body's checks (an object, a model name, a messages array) are a Messages body's but for max_tokens, which a count does not take.
    const { model } = validateInference('chat', request.body);
    const body = request.body as Record<string, unknown>;
    validateMessagesBody(body, request.headers['anthropic-beta']);
    const { system, messages, tools } = body;
    const caller = policies.identifier.identify(request.headers, reply.raw, true);
    policies.identifier.authorize(caller, model);
    if (!policies.resolver.isGroup(model)) {
      const route = policies.resolver.resolve(model);
      // A model with no healthy target now still has a count; one nothing serves has none.
      if ('error' in route && route.error.status === 404) throw route.error;
    }
    return { input_tokens: tokensOfBytes(Buffer.byteLength(JSON.stringify({ system, messages, tools, schema: outputSchema(body) }))) };
  });
}
