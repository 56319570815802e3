import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import { Pacer, type PaceOptions } from './pacer.js';
import { chatChunk, chatCompletion, completionId, modelList, simError, textCompletion, usage, usageChunk } from './responses.js';
import { chatPrompt, countTokens, embed, generate } from './text.js';

export interface SimOptions extends PaceOptions {
  port: number;
  host: string;
  models: string[];
  /** When set, every inference request is answered with this status (for failure tests). */
  failStatus?: number;
  embeddingDimensions: number;
}

export const SIM_DEFAULTS = { ttftMs: 20, tokensPerS: 200, maxConcurrency: 64, embeddingDimensions: 16 } as const;

interface SimStats {
  requests: number;
  completed: number;
  aborted: number;
  lastRequest: { path: string; headers: Record<string, unknown>; body: string } | null;
}

type Body = Record<string, unknown>;

/**
 * A simulated OpenAI-compatible inference engine: deterministic text at a configured pace,
 * correct usage, streaming and not. `/sim/*` endpoints let tests inspect and steer it.
 */
export function buildSim(options: SimOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  const pacer = new Pacer(options);
  let models = [...options.models];
  const stats: SimStats = { requests: 0, completed: 0, aborted: 0, lastRequest: null };

  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    stats.lastRequest = { path: request.url, headers: request.headers, body: body as string };
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(Object.assign(error as Error, { statusCode: 400 }), undefined);
    }
  });

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/v1/models', async () => modelList(models, 'switchyard-sim'));
  app.get('/sim/stats', async () => ({ ...stats, running: pacer.active, waiting: pacer.queued, models }));
  app.put('/sim/models', async (request) => {
    models = ((request.body as { models?: string[] }).models ?? []).map(String);
    return { models };
  });

  const guard = (body: Body, reply: FastifyReply): string | undefined => {
    stats.requests++;
    if (options.failStatus) {
      void reply.code(options.failStatus).send(simError(options.failStatus, `simulated failure ${options.failStatus}`));
      return undefined;
    }
    const model = String(body?.model);
    if (!models.includes(model)) {
      void reply.code(404).send(simError(404, `model '${model}' is not loaded`, 'model_not_found'));
      return undefined;
    }
    return model;
  };

  app.post('/v1/chat/completions', async (request, reply) => {
    const body = request.body as Body;
    const model = guard(body, reply);
    if (!model) return reply;
    const prompt = chatPrompt(body.messages);
    return run(reply, body, model, prompt, 'chat');
  });

  app.post('/v1/completions', async (request, reply) => {
    const body = request.body as Body;
    const model = guard(body, reply);
    if (!model) return reply;
    const prompt = Array.isArray(body.prompt) ? body.prompt.join('\n') : String(body.prompt ?? '');
    return run(reply, body, model, prompt, 'completions');
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const body = request.body as Body;
    const model = guard(body, reply);
    if (!model) return reply;
    const inputs = (Array.isArray(body.input) ? body.input : [body.input]).map((input) => (typeof input === 'string' ? input : JSON.stringify(input)));
    const dimensions = typeof body.dimensions === 'number' ? body.dimensions : options.embeddingDimensions;
    stats.completed++;
    return {
      object: 'list',
      model,
      data: inputs.map((input, index) => {
        const vector = embed(input, dimensions);
        const embedding = body.encoding_format === 'base64' ? Buffer.from(vector.buffer).toString('base64') : Array.from(vector);
        return { object: 'embedding', index, embedding };
      }),
      usage: { prompt_tokens: inputs.reduce((n, input) => n + countTokens(input), 0), total_tokens: inputs.reduce((n, input) => n + countTokens(input), 0) },
    };
  });

  async function run(reply: FastifyReply, body: Body, model: string, prompt: string, kind: 'chat' | 'completions') {
    const controller = new AbortController();
    const res = reply.raw;
    res.once('close', () => {
      if (!res.writableFinished) controller.abort(new Error('client closed'));
    });
    const maxTokens = [body.max_completion_tokens, body.max_tokens].find((v): v is number => typeof v === 'number');
    const { tokens, finishReason } = generate(prompt, model, maxTokens);
    const u = usage(countTokens(prompt), tokens.length);
    const id = completionId(kind === 'chat' ? 'chatcmpl' : 'cmpl');
    reply.hijack();
    try {
      await pacer.acquire(controller.signal);
      try {
        await pacer.firstToken(controller.signal);
        if (body.stream === true) await streamTokens(res, controller.signal, { id, model, kind, tokens, finishReason, u, includeUsage: includeUsage(body) });
        else {
          for (let i = 1; i < tokens.length; i++) await pacer.nextToken(controller.signal);
          const text = tokens.join('');
          const payload = kind === 'chat' ? chatCompletion(id, model, text, finishReason, u) : textCompletion(id, model, text, finishReason, u);
          const json = JSON.stringify(payload);
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
          res.end(json);
        }
        stats.completed++;
      } finally {
        pacer.release();
      }
    } catch {
      stats.aborted++;
      res.destroy();
    }
  }

  async function streamTokens(
    res: ServerResponse,
    signal: AbortSignal,
    g: { id: string; model: string; kind: 'chat' | 'completions'; tokens: string[]; finishReason: string; u: ReturnType<typeof usage>; includeUsage: boolean },
  ): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (event: unknown) => res.write(`data: ${JSON.stringify(event)}\n\n`);
    const chunk = (text: string | undefined, finish: string | null) =>
      g.kind === 'chat'
        ? chatChunk(g.id, g.model, text === undefined ? {} : { content: text }, finish)
        : textCompletion(g.id, g.model, text ?? '', finish);
    if (g.kind === 'chat') send(chatChunk(g.id, g.model, { role: 'assistant', content: '' }, null));
    for (let i = 0; i < g.tokens.length; i++) {
      if (i > 0) await pacer.nextToken(signal);
      send(chunk(g.tokens[i], null));
    }
    send(chunk(undefined, g.finishReason));
    if (g.includeUsage) send(usageChunk(g.id, g.model, g.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', g.u));
    res.end('data: [DONE]\n\n');
  }

  return app;
}

function includeUsage(body: Body): boolean {
  const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
  return streamOptions?.include_usage === true;
}

export async function startSim(options: SimOptions): Promise<{ app: FastifyInstance; port: number }> {
  const app = buildSim(options);
  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  return { app, port: typeof address === 'object' && address ? address.port : options.port };
}
