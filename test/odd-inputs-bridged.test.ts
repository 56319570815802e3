import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from './support/fake-upstream.js';
import { listenOnLoopback, postJson } from './support/http.js';
import { startRouter, stopAll, type Proc } from './support/processes.js';

/** A hosted API (Anthropic's or Gemini's) that answers every call with a recorded success, streamed when the call asks for a stream. */
async function alwaysAnswering(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { stream?: unknown };
      const anthropic = req.url!.includes('/messages');
      const streamed = anthropic ? body.stream === true : req.url!.includes('stream');
      const recorded = anthropic ? (streamed ? 'anthropic/stream-text.sse' : 'anthropic/message-text.json') : streamed ? 'gemini/stream-text.sse' : 'gemini/response-text.json';
      res.writeHead(200, { 'content-type': streamed ? 'text/event-stream' : 'application/json' }).end(fixture(recorded));
    });
  });
  return { url: await listenOnLoopback(server), server };
}

const ODD = [null, 0, -1, 'x', '', true, [], [null], [5], ['x'], {}, { type: 5 }, { type: 'enabled', budget_tokens: 'x' }, { type: 'disabled' }, { effort: 5 }, { format: 5 }, { format: null }, { format: { type: 5 } }];

const MESSAGE_ODDITIES = (value: unknown) => [
  { role: 'assistant', content: 'hi', thinking_blocks: value },
  { role: 'user', content: 'go on' },
];

/** Requests with one odd value in one of the fields this session added or changed, for each route and model. */
function cases(): Array<{ name: string; path: string; body: Record<string, unknown> }> {
  const all: Array<{ name: string; path: string; body: Record<string, unknown> }> = [];
  for (const model of ['claude-sonnet-4-5', 'claude-opus-4-7', 'gemini-2.5-flash', 'gemini-3-pro']) {
    // the models differ in how an effort is said; the rest of the translation is the same for both of a provider's
    const everyField = model === 'claude-opus-4-7' || model === 'gemini-3-pro';
    for (const stream of [false, true]) {
      for (const value of ODD) {
        const shown = `${model} stream=${stream} ${JSON.stringify(value)}`;
        const chat = { model, stream, messages: [{ role: 'user', content: 'Hi' }] };
        all.push({ name: `chat reasoning_effort ${shown}`, path: '/v1/chat/completions', body: { ...chat, reasoning_effort: value } });
        all.push({ name: `chat thinking ${shown}`, path: '/v1/chat/completions', body: { ...chat, thinking: value } });
        all.push({ name: `chat thinking_blocks ${shown}`, path: '/v1/chat/completions', body: { ...chat, messages: MESSAGE_ODDITIES(value) } });
        if (!everyField) continue;
        const responses = { model, stream, input: 'Hi' };
        for (const field of ['reasoning', 'text', 'tools', 'tool_choice', 'instructions', 'max_output_tokens', 'parallel_tool_calls']) {
          all.push({ name: `responses ${field} ${shown}`, path: '/v1/responses', body: { ...responses, [field]: value } });
        }
        all.push({ name: `responses input ${shown}`, path: '/v1/responses', body: { ...responses, input: [value] } });
        all.push({ name: `responses tools[0] ${shown}`, path: '/v1/responses', body: { ...responses, tools: [value] } });
        all.push({ name: `responses custom format ${shown}`, path: '/v1/responses', body: { ...responses, tools: [{ type: 'custom', name: 'apply_patch', format: value }] } });
        all.push({ name: `responses text.format ${shown}`, path: '/v1/responses', body: { ...responses, text: { format: value } } });
        all.push({ name: `responses message content ${shown}`, path: '/v1/responses', body: { ...responses, input: [{ role: 'user', content: value }] } });
        all.push({ name: `responses message part ${shown}`, path: '/v1/responses', body: { ...responses, input: [{ role: 'user', content: [value] }] } });
        all.push({ name: `responses assistant part ${shown}`, path: '/v1/responses', body: { ...responses, input: [{ role: 'assistant', content: [value] }, { role: 'user', content: 'go on' }] } });
        for (const type of ['function_call', 'custom_tool_call', 'local_shell_call', 'function_call_output', 'custom_tool_call_output', 'local_shell_call_output', 'reasoning']) {
          for (const field of ['call_id', 'id', 'name', 'arguments', 'input', 'action', 'output', 'encrypted_content', 'summary']) {
            all.push({ name: `responses ${type}.${field} ${shown}`, path: '/v1/responses', body: { ...responses, input: [{ type, call_id: 'c1', name: 'f', arguments: '{}', input: 'x', action: { type: 'exec', command: ['ls'] }, output: 'ok', [field]: value }, { role: 'user', content: 'go on' }] } });
          }
        }
        all.push({ name: `messages thinking ${shown}`, path: '/v1/messages', body: { model, stream, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }], thinking: value } });
        all.push({ name: `messages output_config ${shown}`, path: '/v1/messages', body: { model, stream, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }], thinking: { type: 'adaptive' }, output_config: value } });
        all.push({ name: `messages thinking block ${shown}`, path: '/v1/messages', body: { model, stream, max_tokens: 10, messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: value, signature: value }] }, { role: 'user', content: 'go on' }] } });
      }
    }
  }
  return all;
}

describe('odd values in the reasoning, thinking and Responses bridge fields, through the router to Anthropic and Gemini', () => {
  let anthropic: { url: string; server: Server };
  let gemini: { url: string; server: Server };
  let router: Proc;

  beforeAll(async () => {
    [anthropic, gemini] = await Promise.all([alwaysAnswering(), alwaysAnswering()]);
    router = await startRouter({
      services: [
        { name: 'claude', provider: 'anthropic', url: anthropic.url, models: ['claude-sonnet-4-5', 'claude-opus-4-7'], api_key: 'sk-ant-test-key' },
        { name: 'google', provider: 'gemini', url: gemini.url, models: ['gemini-2.5-flash', 'gemini-3-pro'], api_key: 'goog-test-key' },
      ],
      health_check: { interval_s: 60, timeout_s: 2, failure_threshold: 100 },
      retry: { max_attempts: 1 },
      cooldown: { failure_threshold: 1000 },
    });
  });
  afterAll(async () => {
    await stopAll();
    anthropic.server.close();
    gemini.server.close();
  });

  it('answers each with a 2xx, or a 4xx in the OpenAI error shape (the Anthropic shape on /v1/messages); never a 5xx', async () => {
    const wrong: string[] = [];
    for (const { name, path, body } of cases()) {
      const { status, body: answer } = await postJson(`${router.url}${path}`, body);
      if (status >= 200 && status < 300) continue;
      const error = (answer as { error?: { message?: unknown; type?: unknown } }).error;
      if (status >= 400 && status < 500 && typeof error?.message === 'string' && typeof error.type === 'string') continue;
      wrong.push(`${name}: ${status} ${JSON.stringify(answer).slice(0, 300)}`);
    }
    expect(wrong).toEqual([]);
  }, 120_000);
});
