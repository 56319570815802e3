import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { anthropicMessage, anthropicToolUseStream } from './support/anthropic-answers.js';
import { assertConforms, RESPONSE_EVENT_SCHEMA } from './support/conformance.js';
import { fixture, FakeUpstream } from './support/fake-upstream.js';
import { metricValue } from './support/prometheus.js';
import { startRouter, stopAll, waitFor, type Proc } from './support/processes.js';
import { loggedRequest } from './support/request-log-rows.js';

const WEATHER = { location: { type: 'string' } };
const WEATHER_TOOL = { type: 'function' as const, name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: WEATHER, required: ['location'] }, strict: false };

type StreamEvent = OpenAI.Responses.ResponseStreamEvent;

/** Codex's tools: its freeform apply_patch (a custom tool with a Lark grammar) beside a function tool. */
const APPLY_PATCH_GRAMMAR = 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF\nend_patch: "*** End Patch" LF?\n%import common.LF';
const APPLY_PATCH_TOOL = { type: 'custom' as const, name: 'apply_patch', description: 'Use the `apply_patch` tool to edit files.', format: { type: 'grammar' as const, syntax: 'lark' as const, definition: APPLY_PATCH_GRAMMAR } };
const PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+Hello, "world"\n*** End Patch\n';

/** Every event of a streamed Response, each checked against its schema, and the final Response as the SDK assembles it. */
async function streamed(client: OpenAI, params: OpenAI.Responses.ResponseCreateParamsStreaming): Promise<{ events: StreamEvent[]; final: OpenAI.Responses.Response }> {
  const stream = client.responses.stream(params);
  const events: StreamEvent[] = [];
  for await (const event of stream) {
    const schema = RESPONSE_EVENT_SCHEMA[event.type];
    if (schema === undefined) throw new Error(`no schema listed for ${event.type}`);
    assertConforms(schema, event);
    events.push(event);
  }
  const final = await stream.finalResponse();
  expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, at) => at));
  return { events, final };
}

describe('the Responses API for targets that speak only chat (fake Anthropic and Gemini APIs behind the router)', () => {
  let anthropic: FakeUpstream;
  let gemini: FakeUpstream;
  let router: Proc;
  let client: OpenAI;

  beforeAll(async () => {
    [anthropic, gemini] = await Promise.all([FakeUpstream.start(), FakeUpstream.start()]);
    router = await startRouter({
      services: [
        { name: 'claude', provider: 'anthropic', url: anthropic.url, models: ['claude-x', 'claude-haiku-4-5'], api_key: 'sk-ant-test-key' },
        { name: 'google', provider: 'gemini', url: gemini.url, models: ['gemini-x'], api_key: 'goog-test-key' },
      ],
      health_check: { interval_s: 60, timeout_s: 2, failure_threshold: 100 },
      retry: { max_attempts: 1 },
      cooldown: { failure_threshold: 100 },
      request_log: { flush_interval_ms: 100 },
    });
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await stopAll();
    await Promise.all([anthropic.close(), gemini.close()]);
  });

  it('answers a whole Response from Anthropic, its request translated through chat, its usage in the request log and metrics under route responses', async () => {
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const { data: response, response: raw } = await client.responses
      .create({ model: 'claude-x', instructions: 'Be brief.', input: 'Hi', max_output_tokens: 100, temperature: 0.5, top_p: 0.9, user: 'u-1', metadata: { team: 'a' }, store: true })
      .withResponse();

    expect(anthropic.last().url).toBe('/v1/messages');
    expect(anthropic.last().body).toEqual({
      model: 'claude-x',
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
      max_tokens: 100,
      temperature: 0.5,
      top_p: 0.9,
      metadata: { user_id: 'u-1' },
    });
    assertConforms('Response', response);
    expect(response).toMatchObject({ object: 'response', status: 'completed', model: 'claude-x', store: true, instructions: 'Be brief.', max_output_tokens: 100, metadata: { team: 'a' } });
    expect(response.id).toMatch(/^resp_\w+$/);
    expect(response.output).toEqual([
      { id: expect.stringMatching(/^msg_/), type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello! The image shows a red square on a white background.', annotations: [], logprobs: [] }] },
    ]);
    expect(response.output_text).toBe('Hello! The image shows a red square on a white background.');
    expect(response.usage).toEqual({ input_tokens: 1049, input_tokens_details: { cached_tokens: 1024, cache_write_tokens: 0 }, output_tokens: 16, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 1065 });

    const row = await loggedRequest(router.url, raw.headers.get('x-request-id')!);
    expect(row).toMatchObject({ route: 'responses', model: 'claude-x', target: 'claude', status: 200, promptTokens: 1049, completionTokens: 16, cachedTokens: 1024 });
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metricValue(metrics, 'switchyard_requests_total', { route: 'responses', model: 'claude-x', status: '200' })).toBeGreaterThanOrEqual(1);
  });

  it("reports Anthropic's cache writes as input_tokens_details.cache_write_tokens (within input_tokens), whole and streamed", async () => {
    const written = (json: string) => json.replace('"cache_creation_input_tokens":0', '"cache_creation_input_tokens":300').replace('"cache_creation_input_tokens": 0', '"cache_creation_input_tokens": 300');
    anthropic.reply({ status: 200, json: written(fixture('anthropic/message-text.json')) });
    const whole = await client.responses.create({ model: 'claude-x', input: 'Hi' });
    assertConforms('Response', whole);
    expect(whole.usage).toEqual({ input_tokens: 25 + 1024 + 300, input_tokens_details: { cached_tokens: 1024, cache_write_tokens: 300 }, output_tokens: 16, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 25 + 1024 + 300 + 16 });
    anthropic.reply({ sse: written(fixture('anthropic/stream-text.sse')) });
    const { final } = await streamed(client, { model: 'claude-x', input: 'Hi', stream: true });
    expect(final.usage).toEqual({ input_tokens: 25 + 512 + 300, input_tokens_details: { cached_tokens: 512, cache_write_tokens: 300 }, output_tokens: 15, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 25 + 512 + 300 + 15 });
  });

  it('streams a Response from Gemini as typed events the SDK assembles, counted with its usage', async () => {
    gemini.reply({ sse: fixture('gemini/stream-text.sse') });
    const { events, final } = await streamed(client, { model: 'gemini-x', input: [{ role: 'user', content: 'Tell a story' }], stream: true });

    expect(gemini.last().url).toBe('/v1beta/models/gemini-x:streamGenerateContent?alt=sse');
    expect(gemini.last().body.contents).toEqual([{ role: 'user', parts: [{ text: 'Tell a story' }] }]);
    expect([...new Set(events.map((event) => event.type))]).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const text = 'Once upon a time, a très petit robot 🤖 learned to paint.';
    assertConforms('Response', final);
    expect(final).toMatchObject({ status: 'completed', model: 'gemini-x', output_text: text });
    expect(final.usage).toMatchObject({ input_tokens: 9, output_tokens: 14, total_tokens: 23, input_tokens_details: { cached_tokens: 4 } });

    await waitFor(async () => {
      const { data } = (await (await fetch(`${router.url}/admin/requests?since=0`)).json()) as { data: Array<Record<string, unknown>> };
      return data.find((row) => row.route === 'responses' && row.model === 'gemini-x' && row.status === 200 && row.promptTokens === 9 && row.completionTokens === 14 && row.cachedTokens === 4);
    }, 'the streamed request in the request log with its usage');
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metricValue(metrics, 'switchyard_tokens_total', { model: 'gemini-x', type: 'completion' })).toBeGreaterThanOrEqual(14);
    // the stream's end rule (responses-stream.ts) found it complete
    expect(metricValue(metrics, 'switchyard_requests_total', { route: 'responses', model: 'gemini-x', status: '200' })).toBeGreaterThanOrEqual(1);
  });

  it('takes a tool-use round trip with Anthropic: function_call out, function_call_output back in as a tool_result', async () => {
    anthropic.reply({ status: 200, json: fixture('anthropic/message-tool-use.json') });
    const first = await client.responses.create({ model: 'claude-x', input: 'Weather in SF?', tools: [WEATHER_TOOL], tool_choice: { type: 'function', name: 'get_weather' }, parallel_tool_calls: false });
    expect(anthropic.last().body).toMatchObject({
      tools: [{ name: 'get_weather', description: 'Current weather', input_schema: WEATHER_TOOL.parameters }],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
    });
    assertConforms('Response', first);
    const call = first.output[1] as OpenAI.Responses.ResponseFunctionToolCall;
    expect(first.output[0]).toMatchObject({ type: 'message', content: [{ text: "I'll check the weather in San Francisco." }] });
    expect(call).toEqual({ id: expect.stringMatching(/^fc_/), type: 'function_call', call_id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}', status: 'completed' });

    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    await client.responses.create({
      model: 'claude-x',
      tools: [WEATHER_TOOL],
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Weather in SF?' }] },
        ...first.output,
        { type: 'function_call_output', call_id: call.call_id, output: '{"temperature":18}' },
      ] as OpenAI.Responses.ResponseInput,
    });
    expect(anthropic.last().body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in SF?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: "I'll check the weather in San Francisco." },
          { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'San Francisco, CA', unit: 'celsius' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: '{"temperature":18}' }] },
    ]);
  });

  it('streams a Gemini function call as a function_call item, and takes its output back as a functionResponse with the call signed', async () => {
    gemini.reply({ sse: fixture('gemini/stream-function-call.sse') });
    const { events, final } = await streamed(client, { model: 'gemini-x', input: 'Weather in Paris?', tools: [WEATHER_TOOL], stream: true });
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const call = final.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"location":"Paris"}', status: 'completed' });

    gemini.reply({ status: 200, json: fixture('gemini/response-text.json') });
    await client.responses.create({
      model: 'gemini-x',
      tools: [WEATHER_TOOL],
      input: [{ role: 'user', content: 'Weather in Paris?' }, call, { type: 'function_call_output', call_id: call.call_id, output: '{"temperature":18}' }],
    });
    expect(gemini.last().body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: 'CiIB0e2Kb0x7Yq3nRz5T1uW8pL4mQ6vH2cJ9dF0aS3kE' }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temperature: 18 } } }] },
    ]);
  });

  it("carries reasoning.effort to Anthropic's thinking, its thinking back as a reasoning item (signed blocks in encrypted_content), whole and streamed, and those blocks back to Anthropic in the next turn", async () => {
    anthropic.reply({ status: 200, json: fixture('anthropic/message-thinking-tool-use.json') });
    const whole = await client.responses.create({ model: 'claude-x', input: 'Weather in Paris?', reasoning: { effort: 'high' }, tools: [WEATHER_TOOL] });
    expect(anthropic.last().body.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
    assertConforms('Response', whole);
    expect(whole.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(whole.output[0]).toMatchObject({ summary: [{ type: 'summary_text', text: 'The user wants the weather in Paris. I should call get_weather with location Paris.' }] });
    expect(whole.reasoning).toMatchObject({ effort: 'high' });

    // Anthropic's signed thinking rides in the reasoning item's encrypted_content, and goes back first in the assistant turn that used the tool
    const thinking = [
      { type: 'thinking', thinking: 'The user wants the weather in Paris. I should call get_weather with location Paris.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds+v1bQzJc1NwVUf0T3rn8yNTkg==' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB8URj2pLmN3kJ4=' },
    ];
    expect(JSON.parse((whole.output[0] as OpenAI.Responses.ResponseReasoningItem).encrypted_content!)).toEqual(thinking);
    const call = whole.output[2] as OpenAI.Responses.ResponseFunctionToolCall;
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    await client.responses.create({
      model: 'claude-x',
      reasoning: { effort: 'high' },
      tools: [WEATHER_TOOL],
      input: [{ role: 'user', content: 'Weather in Paris?' }, ...whole.output, { type: 'function_call_output', call_id: call.call_id, output: '18°C' }] as OpenAI.Responses.ResponseInput,
    });
    expect(anthropic.last().body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [...thinking, { type: 'text', text: 'Let me check the weather in Paris.' }, { type: 'tool_use', id: 'toolu_01Th1nkW3ather', name: 'get_weather', input: { location: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01Th1nkW3ather', content: '18°C' }] },
    ]);

    anthropic.reply({ sse: fixture('anthropic/stream-thinking.sse') });
    const { events, final } = await streamed(client, { model: 'claude-x', input: 'What is 27 × 453?', reasoning: { effort: 'low' }, stream: true });
    expect(events.slice(2, 6).map((event) => event.type)).toEqual([
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
    ]);
    expect(events.map((event) => event.type)).toContain('response.reasoning_summary_text.done');
    expect(final.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: '27 × 453: 27 × 400 = 10800, 27 × 53 = 1431; sum 12231.' }] });
    expect(JSON.parse((final.output[0] as OpenAI.Responses.ResponseReasoningItem).encrypted_content!)).toEqual([
      { type: 'thinking', thinking: '27 × 453: 27 × 400 = 10800, 27 × 53 = 1431; sum 12231.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds+v1bQzJc1NwVUf0T3rn8yNTkg==' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB8URj2pLmN3kJ4=' },
    ]);
    // OpenAI's own encrypted reasoning (a conversation begun there) means nothing to Anthropic: dropped
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    await client.responses.create({ model: 'claude-x', input: [{ type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAAAABo-opaque' }, { role: 'assistant', content: 'Hi.' }, { role: 'user', content: 'Go on' }] });
    expect(anthropic.last().body.messages).toEqual([
      { role: 'assistant', content: [{ type: 'text', text: 'Hi.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Go on' }] },
    ]);
    expect(final.output[1]).toMatchObject({ type: 'message' });
    assertConforms('Response', final);
  });

  it("carries Codex's custom apply_patch tool to Anthropic as a function taking its text, the call back as a custom_tool_call whole and streamed, and its output back as a tool_result", async () => {
    const tools = [APPLY_PATCH_TOOL, WEATHER_TOOL];
    const toolUse = { id: 'toolu_01Patch', name: 'apply_patch', input: { input: PATCH } };
    anthropic.reply({ status: 200, json: JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [{ type: 'tool_use', ...toolUse }], stop_reason: 'tool_use', stop_sequence: null, usage: { input_tokens: 50, output_tokens: 30 } }) });
    const whole = await client.responses.create({ model: 'claude-x', input: 'Add hello.txt', tools, tool_choice: 'auto' });

    const sent = anthropic.last().body.tools as Array<{ name: string; description: string; input_schema: unknown }>;
    expect(sent.map((tool) => tool.name)).toEqual(['apply_patch', 'get_weather']);
    expect(sent[0]!.input_schema).toEqual({ type: 'object', properties: { input: { type: 'string', description: expect.any(String) } }, required: ['input'] });
    expect(sent[0]!.description).toContain('Use the `apply_patch` tool to edit files.');
    expect(sent[0]!.description).toContain(`lark grammar:\n${APPLY_PATCH_GRAMMAR}`);
    expect(sent[1]).toEqual({ name: 'get_weather', description: 'Current weather', input_schema: WEATHER_TOOL.parameters });
    assertConforms('Response', whole);
    expect(whole.output).toEqual([{ id: expect.stringMatching(/^ctc_/), type: 'custom_tool_call', call_id: 'toolu_01Patch', name: 'apply_patch', input: PATCH }]);
    expect(whole.tools[0]).toEqual(APPLY_PATCH_TOOL);

    // the input JSON in pieces, cut inside the patch text and inside an escape
    const json = JSON.stringify(toolUse.input);
    const cut = json.indexOf('\\"world');
    anthropic.reply({ sse: anthropicToolUseStream(toolUse.id, toolUse.name, [json.slice(0, 20), json.slice(20, cut + 1), json.slice(cut + 1)]) });
    const { events, final } = await streamed(client, { model: 'claude-x', input: 'Add hello.txt', tools, tool_choice: { type: 'custom', name: 'apply_patch' }, stream: true });
    expect(anthropic.last().body.tool_choice).toEqual({ type: 'tool', name: 'apply_patch' });
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events[2]).toMatchObject({ item: { type: 'custom_tool_call', call_id: 'toolu_01Patch', name: 'apply_patch', input: '' } });
    expect(events[3]).toMatchObject({ delta: PATCH });
    expect(events[4]).toMatchObject({ input: PATCH });
    assertConforms('Response', final);
    const call = final.output[0] as OpenAI.Responses.ResponseCustomToolCall;
    expect(call).toEqual({ id: expect.stringMatching(/^ctc_/), type: 'custom_tool_call', call_id: 'toolu_01Patch', name: 'apply_patch', input: PATCH });

    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    await client.responses.create({
      model: 'claude-x',
      tools,
      input: [{ role: 'user', content: 'Add hello.txt' }, call, { type: 'custom_tool_call_output', call_id: call.call_id, output: 'Success. Updated the following files:\nA hello.txt' }],
    });
    expect(anthropic.last().body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Add hello.txt' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01Patch', name: 'apply_patch', input: { input: PATCH } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01Patch', content: 'Success. Updated the following files:\nA hello.txt' }] },
    ]);
  });

  it('carries the local_shell tool to Gemini as a function, its call back as a local_shell_call whole and streamed, and its output back as a functionResponse', async () => {
    const args = { command: ['ls', '-la'], working_directory: '/repo' };
    const answer = { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'local_shell', args }, thoughtSignature: 'c2lnLXNoZWxs' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 30, candidatesTokenCount: 8, totalTokenCount: 38 } };
    gemini.reply({ status: 200, json: JSON.stringify(answer) });
    const whole = await client.responses.create({ model: 'gemini-x', input: 'List the files', tools: [{ type: 'local_shell' }] });

    const declarations = (gemini.last().body.tools as Array<{ functionDeclarations: Array<{ name: string; parameters?: unknown; parametersJsonSchema?: unknown }> }>)[0]!.functionDeclarations;
    expect(declarations.map((declaration) => declaration.name)).toEqual(['local_shell']);
    expect(JSON.stringify(declarations[0])).toContain('"working_directory"');
    assertConforms('Response', whole);
    const action = { type: 'exec', command: ['ls', '-la'], timeout_ms: null, working_directory: '/repo', env: {}, user: null };
    expect(whole.output).toEqual([{ id: expect.stringMatching(/^lsh_/), type: 'local_shell_call', call_id: expect.any(String), action, status: 'completed' }]);
    expect(whole.tools).toEqual([{ type: 'local_shell' }]);

    gemini.reply({ sse: `data: ${JSON.stringify(answer)}\n\n` });
    const { events, final } = await streamed(client, { model: 'gemini-x', input: 'List the files', tools: [{ type: 'local_shell' }], stream: true });
    expect(events.map((event) => event.type)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.output_item.done', 'response.completed']);
    expect(events[2]).toMatchObject({ item: { type: 'local_shell_call', action, status: 'in_progress' } });
    assertConforms('Response', final);
    const call = final.output[0] as OpenAI.Responses.ResponseOutputItem.LocalShellCall;
    expect(call).toMatchObject({ type: 'local_shell_call', action, status: 'completed' });

    gemini.reply({ status: 200, json: fixture('gemini/response-text.json') });
    await client.responses.create({
      model: 'gemini-x',
      tools: [{ type: 'local_shell' }],
      input: [{ role: 'user', content: 'List the files' }, call, { type: 'local_shell_call_output', id: call.call_id, output: '{"output":"README.md"}' }],
    });
    expect(gemini.last().body.contents).toEqual([
      { role: 'user', parts: [{ text: 'List the files' }] },
      { role: 'model', parts: [{ functionCall: { name: 'local_shell', args: { command: ['ls', '-la'], working_directory: '/repo', env: {} } }, thoughtSignature: 'c2lnLXNoZWxs' }] },
      { role: 'user', parts: [{ functionResponse: { name: 'local_shell', response: { output: 'README.md' } } }] },
    ]);
  });

  it('ends a Response cut at max_output_tokens as incomplete, whole and streamed', async () => {
    anthropic.reply({ status: 200, json: fixture('anthropic/message-text.json').replace('"end_turn"', '"max_tokens"') });
    const whole = await client.responses.create({ model: 'claude-x', input: 'Hi', max_output_tokens: 16 });
    assertConforms('Response', whole);
    expect(whole).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, completed_at: null });

    gemini.reply({ sse: fixture('gemini/stream-text.sse').replace('"finishReason": "STOP"', '"finishReason": "MAX_TOKENS"') });
    const { events, final } = await streamed(client, { model: 'gemini-x', input: 'Tell a story', max_output_tokens: 14, stream: true });
    expect(gemini.last().body.generationConfig).toMatchObject({ maxOutputTokens: 14 });
    expect(events.at(-1)!.type).toBe('response.incomplete');
    expect(final).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(final.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
  });

  it('asks Gemini for JSON by text.format', async () => {
    gemini.reply({ status: 200, json: fixture('gemini/response-text.json') });
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const response = await client.responses.create({ model: 'gemini-x', input: 'Answer', text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } } });
    expect(gemini.last().body.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: schema });
    assertConforms('Response', response);
    expect(response.text).toMatchObject({ format: { type: 'json_schema', name: 'answer' } });
  });

  it("asks Claude for JSON by text.format, the answer tool's input back as the output text the SDK parses", async () => {
    const City = z.object({ city: z.string(), population: z.number() });
    const answer = { city: 'Paris', population: 2_100_000 };
    anthropic.reply({ status: 200, json: anthropicMessage([{ type: 'tool_use', id: 'toolu_json', name: 'json_tool_call', input: answer }], 'tool_use') });
    const response = await client.responses.parse({ model: 'claude-x', input: 'The largest city of France?', text: { format: zodTextFormat(City, 'city') } });

    const sent = anthropic.last().body;
    expect(sent.tools).toEqual([{ name: 'json_tool_call', description: expect.any(String), input_schema: zodTextFormat(City, 'city').schema }]);
    expect(sent.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
    assertConforms('Response', response);
    expect(response.output.map((item) => item.type)).toEqual(['message']);
    expect(response.output_text).toBe(JSON.stringify(answer));
    expect(response.output_parsed).toEqual(answer);
  });

  it("asks Claude 4.5 and later for text.format's schema as Anthropic's constrained decoding takes it, its bounds described", async () => {
    const City = z.object({ city: z.string().max(60), population: z.number().int().min(0) });
    const answer = { city: 'Paris', population: 2_100_000 };
    anthropic.reply({ status: 200, json: anthropicMessage([{ type: 'text', text: JSON.stringify(answer) }], 'end_turn') });
    const response = await client.responses.parse({ model: 'claude-haiku-4-5', input: 'The largest city of France?', text: { format: zodTextFormat(City, 'city') } });

    // zod bounds .int() by the safe integers itself: Anthropic refused even a plain integer field so

    expect(anthropic.last().body.output_config).toEqual({
      format: {
        type: 'json_schema',
        schema: {
          type: 'object',
          properties: { city: { type: 'string', description: '{maxLength: 60}' }, population: { type: 'integer', description: '{minimum: 0, maximum: 9007199254740991}' } },
          required: ['city', 'population'],
          additionalProperties: false,
        },
      },
    });
    expect(response.output_parsed).toEqual(answer);
  });

  it('refuses with a 400 naming the field what needs a conversation object, a background response or a tool only OpenAI runs, calling no target', async () => {
    const before = anthropic.received.length + gemini.received.length;
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ conversation: 'conv_123' }, 'conversation', 'unsupported_parameter'],
      [{ background: true }, 'background', 'unsupported_parameter'],
      [{ tools: [WEATHER_TOOL, { type: 'web_search' }] }, 'tools[1].type', 'unsupported_tool'],
      [{ tools: [{ type: 'mcp', server_label: 'x', server_url: 'https://example.com' }] }, 'tools[0].type', 'unsupported_tool'],
      [{ tools: [{ ...WEATHER_TOOL, name: 'apply_patch' }, APPLY_PATCH_TOOL] }, 'tools[1].name', 'duplicate_tool_name'],
      [{ tools: [{ ...APPLY_PATCH_TOOL, format: { type: 'regex' } }] }, 'tools[0].format', 'invalid_value'],
      [{ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }] }, 'input[0].content[0]', 'unsupported_content'],
      [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type', 'unsupported_input'],
      [{ input: [42] }, 'input[0]', 'invalid_type'],
      [{ tool_choice: { type: 'web_search_preview' } }, 'tool_choice', 'unsupported_value'],
    ];
    for (const model of ['claude-x', 'gemini-x']) {
      for (const [fields, param, code] of cases) {
        const response = await fetch(`${router.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, input: 'Hi', ...fields }) });
        expect(response.status, JSON.stringify(fields)).toBe(400);
        expect(await response.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param, code } });
      }
    }
    const failure = await client.responses.create({ model: 'claude-x', input: 'Hi', conversation: 'conv_123' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    expect((failure as Error).message).toContain("continue a response with 'previous_response_id', or send the whole conversation in 'input'");
    expect(anthropic.received.length + gemini.received.length).toBe(before);
  });

  it("answers the target's errors in the OpenAI shape with their status, before and during a stream", async () => {
    anthropic.reply({ status: 429, json: fixture('anthropic/error-rate-limit.json') });
    const limited = await client.responses.create({ model: 'claude-x', input: 'Hi' }).catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);

    anthropic.reply({ sse: fixture('anthropic/stream-overloaded.sse') });
    const response = await fetch(`${router.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-x', input: 'Hi', stream: true }) });
    const text = await response.text();
    const events = text.trim().split('\n\n').map((event) => JSON.parse(event.split('\n').find((line) => line.startsWith('data: '))!.slice(6)) as { type: string; sequence_number: number });
    for (const event of events) assertConforms(RESPONSE_EVENT_SCHEMA[event.type]!, event);
    expect(events.at(-1)).toMatchObject({ type: 'error', message: 'Anthropic: Overloaded', sequence_number: events.length - 1 });
    expect(events.map((event) => event.type)).toContain('response.output_text.delta');

    // cut before message_stop: no terminal event, so the router's end rule ends it with the error event, numbered next
    const whole = fixture('anthropic/stream-text.sse');
    anthropic.reply({ sse: whole.slice(0, whole.indexOf('event: message_delta')) });
    const cut = await fetch(`${router.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-x', input: 'Hi', stream: true }) });
    const cutEvents = (await cut.text()).trim().split('\n\n').map((event) => JSON.parse(event.split('\n').find((line) => line.startsWith('data: '))!.slice(6)) as { type: string; sequence_number: number });
    for (const event of cutEvents) assertConforms(RESPONSE_EVENT_SCHEMA[event.type]!, event);
    expect(cutEvents.map((event) => event.sequence_number)).toEqual(cutEvents.map((_, at) => at));
    expect(cutEvents.at(-1)).toMatchObject({ type: 'error' });
    expect(cutEvents.map((event) => event.type)).not.toContain('response.completed');
  });
});
