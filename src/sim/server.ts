import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { realClock } from './clock.js';
import { Engine, PromptTooLongError, type EngineOptions } from './engine.js';
import { engineMetricsText } from './metrics.js';
import { SimRequestError, simChoices, type SimChoice } from './choices.js';
import { chatLogprobsAsked, chatTokenLogprobs, completionLogprobs, completionLogprobsAsked } from './logprobs.js';
import { chatChunk, chatCompletion, completionId, modelList, simError, textCompletion, usage, usageChunk, type SimUsage, type TextChoice } from './responses.js';
import { inputItemPage, inputItems, type InputItemQuery } from '../providers/responses/input-items.js';
import { responseObject, responsePlan, ResponsesSseWriter, StoredResponses, responseId, type StoredResponse } from './responses-api.js';
import { chatPrompt, countTokens, embed, generate, responsesPrompt, tokenize } from './text.js';

/** The largest embedding the sim makes (OpenAI's largest model has 3,072 dimensions). */
export const MAX_DIMENSIONS = 16_384;
/** Stored responses kept for `previous_response_id` (oldest forgotten first, as an engine's store would be bounded). */
const MAX_STORED_RESPONSES = 10_000;

export interface SimOptions extends EngineOptions {
  port: number;
  host: string;
  models: string[];
  /** When set, every inference request is answered with this status (for failure tests). */
  failStatus?: number;
  embeddingDimensions: number;
}

/**
 * Step-time coefficients follow ROUTING-NOTES (α 5 ms, βp 0.05 ms per uncached prompt token, βd 0.35 ms per
 * decoding sequence, βkv 0.04 ms per 1,000 context tokens): a 2,000-token uncached prompt costs ~100 ms of
 * prefill, a cached one almost nothing. 4,096 blocks of 16 tokens hold 64K tokens.
 */
export const SIM_DEFAULTS = {
  ttftMs: 20,
  tokensPerS: 200,
  maxBatch: 64,
  blockSize: 16,
  kvBlocks: 4096,
  alphaMs: 5,
  betaPrefillMs: 0.05,
  betaDecodeMs: 0.35,
  betaKvMs: 0.04,
  embeddingDimensions: 16,
} as const;

interface SimStats {
  requests: number;
  completed: number;
  aborted: number;
  lastRequest: { path: string; headers: Record<string, unknown>; body: string } | null;
}

type Body = Record<string, unknown>;
type Kind = 'chat' | 'completions' | 'responses';

/** What a generation continues a conversation with once done: the template's turn for chat, nothing for a raw completion. */
const ANSWER_TURN: Record<Kind, string> = { chat: '\n<|assistant|>\n', completions: '', responses: '\n<|assistant|>\n' };

/**
 * A simulated OpenAI-compatible inference engine: deterministic text at a configured pace,
 * correct usage, streaming and not. `/sim/*` endpoints let tests inspect and steer it.
 */
export function buildSim(options: SimOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  const engine = new Engine(options, realClock);
  let models = [...options.models];
  const stats: SimStats = { requests: 0, completed: 0, aborted: 0, lastRequest: null };
  const stored = new StoredResponses(MAX_STORED_RESPONSES);

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
  app.get('/sim/stats', async () => ({ ...stats, running: engine.numRunning, waiting: engine.numWaiting, kv_cache_usage: engine.kvUsage, engine: engine.counters, models }));
  app.post('/sim/reset', async () => {
    engine.reset();
    stored.clear();
    return { reset: true };
  });
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    return engineMetricsText(engine, models[0] ?? 'none');
  });
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

  app.post('/v1/responses', async (request, reply) => {
    const body = request.body as Body;
    const model = guard(body, reply);
    if (!model) return reply;
    const previousId = body.previous_response_id;
    let history = '';
    if (typeof previousId === 'string') {
      const previous = stored.get(previousId);
      // As an engine answers for a response it does not hold (another replica's, or forgotten).
      if (previous === undefined) return reply.code(404).send(simError(404, `Previous response with id '${previousId}' not found.`, 'previous_response_not_found', 'previous_response_id'));
      history = `${previous.conversation}\n`;
    }
    return run(reply, body, model, history + responsesPrompt(body.instructions, body.input), 'responses');
  });

  // The calls on a stored response, as vLLM answers them: its own 404 for an id it does not hold.
  const storedResponse = (request: FastifyRequest, reply: FastifyReply): StoredResponse | undefined => {
    stats.requests++;
    const { id } = request.params as { id: string };
    const found = stored.get(id);
    if (found === undefined) void reply.code(404).send(simError(404, `Response with id '${id}' not found.`));
    return found;
  };

  app.get('/v1/responses/:id', async (request, reply) => {
    const found = storedResponse(request, reply);
    if (!found) return reply;
    const query = request.query as { stream?: string; starting_after?: string };
    if (query.stream !== 'true') return found.response;
    reply.hijack();
    new ResponsesSseWriter(reply.raw, found.plan, query.starting_after === undefined ? -1 : Number(query.starting_after)).replay(found.usage);
    return reply;
  });

  app.delete('/v1/responses/:id', async (request, reply) => {
    const found = storedResponse(request, reply);
    if (!found) return reply;
    stored.delete(found.plan.id);
    return { id: found.plan.id, object: 'response', deleted: true };
  });

  // Only a response still being generated in the background can be cancelled; the sim generates none there.
  app.post('/v1/responses/:id/cancel', async (request, reply) => {
    const found = storedResponse(request, reply);
    if (!found) return reply;
    return reply.code(400).send(simError(400, 'Cannot cancel a synchronous response.'));
  });

  app.get('/v1/responses/:id/input_items', async (request, reply) => {
    const found = storedResponse(request, reply);
    if (!found) return reply;
    return inputItemPage(found.inputItems, request.query as InputItemQuery);
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const body = request.body as Body;
    const model = guard(body, reply);
    if (!model) return reply;
    if (body.input === undefined && !Array.isArray(body.messages)) return reply.code(400).send(simError(400, "Missing required parameter: 'input'", 'missing_required_parameter'));
    // vLLM's chat embeddings send `messages` instead of `input`: one embedding of the templated conversation.
    const given = body.input === undefined ? [chatPrompt(body.messages)] : Array.isArray(body.input) ? body.input : [body.input];
    const inputs = given.map((input) => (typeof input === 'string' ? input : JSON.stringify(input)));
    const dimensions = body.dimensions ?? options.embeddingDimensions;
    // An engine refuses what it cannot produce: a 500 here would read as the engine failing.
    if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_DIMENSIONS) {
      return reply.code(400).send(simError(400, `dimensions must be an integer from 1 to ${MAX_DIMENSIONS}`, 'invalid_value'));
    }
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

  function run(reply: FastifyReply, body: Body, model: string, prompt: string, kind: Kind): FastifyReply {
    const maxTokens = [body.max_completion_tokens, body.max_tokens, body.max_output_tokens].find((v): v is number => typeof v === 'number');
    let choices: SimChoice[];
    let top: number | undefined;
    try {
      choices = kind === 'responses' ? [singleChoice(prompt, model, maxTokens)] : simChoices(kind, body, prompt, model, maxTokens);
      top = kind === 'chat' ? chatLogprobsAsked(body) : kind === 'completions' ? completionLogprobsAsked(body) : undefined;
    } catch (error) {
      if (!(error instanceof SimRequestError)) throw error;
      return reply.code(400).send(simError(400, error.message, 'invalid_value', error.param));
    }
    const first = choices[0]!;
    const text = first.pieces.join('');
    const promptTokens = tokenize(prompt);
    const continuation = tokenize(ANSWER_TURN[kind] + text);
    const completionTokens = choices.reduce((sum, choice) => sum + choice.pieces.length, 0);
    const id = kind === 'responses' ? responseId() : completionId(kind === 'chat' ? 'chatcmpl' : 'cmpl');
    const plan = kind === 'responses' ? responsePlan(id, model, first.pieces, first.finishReason === 'length' ? 'length' : 'stop', body) : undefined;
    const res = reply.raw;
    const stream =
      body.stream !== true ? undefined : plan ? new ResponsesSseWriter(res, plan) : new SseWriter(res, { id, model, kind: kind as 'chat' | 'completions', choices, top, promptChars: prompt.length, includeUsage: includeUsage(body) });
    let sequence;
    try {
      // The choices decode side by side, one sequence each in an engine's batch: the longest sets the time.
      sequence = engine.submit(
        { prompt: promptTokens, outputTokens: Math.max(...choices.map((choice) => choice.pieces.length)), continuation },
        {
          token: (index) => stream?.token(index),
          done: () => {
            stats.completed++;
            const u = usage(promptTokens.length, completionTokens, sequence!.cachedTokens);
            const response = plan && responseObject(plan, plan.cut ? 'incomplete' : 'completed', u);
            if (plan && response && body.store !== false) {
              stored.store(id, { conversation: prompt + ANSWER_TURN[kind] + text, plan, usage: u, response, inputItems: inputItems(body.input) });
            }
            if (stream) return stream.end(u);
            const payload =
              response ??
              (kind === 'chat'
                ? chatCompletion(id, model, choices, u, top)
                : textCompletion(id, model, choices.map((choice) => textChoice(choice, choice.pieces, choice.finishReason, top, prompt.length)), u));
            const json = JSON.stringify(payload);
            res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
            res.end(json);
          },
        },
      );
    } catch (error) {
      if (!(error instanceof PromptTooLongError)) throw error;
      return reply.code(400).send(simError(400, error.message, 'context_length_exceeded'));
    }
    reply.hijack();
    res.once('close', () => {
      if (res.writableFinished || sequence.state === 'done') return;
      engine.cancel(sequence);
      stats.aborted++;
    });
    return reply;
  }

  return app;
}

interface StreamPlan {
  id: string;
  model: string;
  kind: 'chat' | 'completions';
  choices: SimChoice[];
  /** Alternatives per token when log probabilities were asked for. */
  top: number | undefined;
  /** Where the completion's text starts (the legacy log probabilities' offsets count from the prompt's start). */
  promptChars: number;
  includeUsage: boolean;
}

/** Writes a generation as OpenAI SSE chunks as the engine produces its tokens, each choice its own; headers go with the first token. */
class SseWriter {
  private started = false;
  /** Where each choice's next piece starts in its text. */
  private readonly offsets: number[];

  constructor(
    private readonly res: ServerResponse,
    private readonly plan: StreamPlan,
  ) {
    this.offsets = plan.choices.map(() => plan.promptChars);
  }

  token(index: number): void {
    this.start();
    for (const choice of this.plan.choices) {
      const piece = choice.pieces[index];
      if (piece !== undefined) this.send(this.pieceChunk(choice, piece));
    }
  }

  end(u: SimUsage): void {
    this.start();
    const { id, model, kind, choices } = this.plan;
    for (const choice of choices) {
      this.send(kind === 'chat' ? chatChunk(id, model, choice.index, {}, choice.finishReason) : textCompletion(id, model, [textChoice(choice, [''], choice.finishReason, undefined, 0)]));
    }
    if (this.plan.includeUsage) this.send(usageChunk(id, model, kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', u));
    this.res.end('data: [DONE]\n\n');
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    if (this.plan.kind !== 'chat') return;
    // A chat stream opens each choice with the assistant's role (and a tool call with its id and name), as OpenAI's does.
    for (const { index, toolCall } of this.plan.choices) {
      const delta = toolCall
        ? { role: 'assistant', content: null, tool_calls: [{ index: 0, id: toolCall.id, type: 'function', function: { name: toolCall.name, arguments: '' } }] }
        : { role: 'assistant', content: '' };
      this.send(chatChunk(this.plan.id, this.plan.model, index, delta, null));
    }
  }

  private pieceChunk(choice: SimChoice, piece: string) {
    const { id, model, kind, top } = this.plan;
    if (kind === 'completions') {
      const offset = this.offsets[choice.index]!;
      this.offsets[choice.index] = offset + piece.length;
      return textCompletion(id, model, [textChoice(choice, [piece], null, top, offset)]);
    }
    if (choice.toolCall) return chatChunk(id, model, choice.index, { tool_calls: [{ index: 0, function: { arguments: piece } }] }, null);
    return chatChunk(id, model, choice.index, { content: piece }, null, top === undefined ? null : { content: chatTokenLogprobs([piece], top), refusal: null });
  }

  private send(event: unknown): void {
    this.res.write(`data: ${JSON.stringify(event)}\n\n`);
  }
}

/** A completions choice carrying `pieces`, with the legacy log probabilities when asked for. */
function textChoice({ index }: SimChoice, pieces: readonly string[], finishReason: string | null, top: number | undefined, offset: number): TextChoice {
  return { index, text: pieces.join(''), logprobs: top === undefined ? null : completionLogprobs(pieces, top, offset), finish_reason: finishReason };
}

/** The one answer of a request that has no choices (the Responses API). */
function singleChoice(prompt: string, model: string, maxTokens: number | undefined): SimChoice {
  const { tokens, finishReason } = generate(prompt, model, maxTokens);
  return { index: 0, pieces: tokens, finishReason };
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
