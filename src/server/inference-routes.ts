import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../gateway/gateway.js';
import type { Endpoint } from '../gateway/inference-request.js';
import { validateInference } from './validate.js';

const ROUTES: ReadonlyArray<[Endpoint, string[]]> = [
  ['chat', ['/v1/chat/completions', '/chat/completions']],
  ['completions', ['/v1/completions', '/completions']],
  ['embeddings', ['/v1/embeddings', '/embeddings']],
];

export function registerInferenceRoutes(app: FastifyInstance, gateway: Gateway): void {
  for (const [endpoint, paths] of ROUTES) {
    for (const url of paths) {
      app.post(url, async (request, reply) => {
        const startedAt = performance.now();
        const { model, stream } = validateInference(endpoint, request.body);
        // From here the gateway writes the response itself, so bytes can be relayed as they arrive.
        reply.hijack();
        await gateway.handle(
          { id: request.id, endpoint, model, stream, body: request.body as Record<string, unknown>, raw: request.rawBody!, headers: request.headers, startedAt },
          reply.raw,
        );
      });
    }
  }
}
