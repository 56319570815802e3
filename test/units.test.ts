import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, expandEnv, loadConfig, parseConfig } from '../src/config/load.js';
import { Backend } from '../src/fleet/backend.js';
import { Fleet } from '../src/fleet/fleet.js';
import { usageFromTail } from '../src/gateway/stream-ending.js';
import { StreamTail } from '../src/gateway/stream-tail.js';
import { countedUsage } from '../src/gateway/usage-counts.js';
import { LeastOutstandingPolicy } from '../src/routing/least-outstanding.js';
import { parseJsonBody } from '../src/server/body-parser.js';
import { ApiError } from '../src/server/errors.js';
import { cannotBeRebound, hostNameOf } from '../src/server/rebinding-guard.js';
import { openAiPath } from '../src/upstream/paths.js';
import { openDatabase, PAGE_CACHE_KIB } from '../src/store/database.js';
import { serviceAdapter } from '../src/providers/unsupported-params.js';
import { toChatRequest as responsesToChat } from '../src/providers/responses/request.js';
import { sealedThinking } from '../src/providers/responses/thinking-blocks.js';
import { toolCallItem } from '../src/providers/responses/tool-calls.js';
import { MAX_GRAMMAR_CHARS, requestTools } from '../src/providers/responses/tools.js';
import type { InferenceRequest } from '../src/gateway/inference-request.js';
import { OPENAI_COMPATIBLE_TARGET } from '../src/providers/by-name.js';

const request = { model: 'm', body: {}, headers: {} };

describe('config', () => {
  it('expands ${VAR} and ${VAR:-default} in strings', () => {
    expect(expandEnv({ a: ['${X}', 'k=${MISSING:-d}'] }, { X: 'x' })).toEqual({ a: ['x', 'k=d'] });
  });

  it('applies the seed defaults', () => {
    const config = parseConfig({}, {});
    expect(config).toMatchObject({ port: 8000, host: '0.0.0.0', request_timeout_s: 300, health_check: { interval_s: 30, timeout_s: 5 }, max_body_bytes: 16 * 1024 * 1024 });
  });

  it('lets the environment override the file', () => {
    const config = parseConfig({ port: 1, health_check: { timeout_s: 2 } }, { PORT: '9000', HEALTH_CHECK_INTERVAL_S: '3', LOG_LEVEL: 'DEBUG' });
    expect(config).toMatchObject({ port: 9000, log_level: 'debug', health_check: { interval_s: 3, timeout_s: 2 } });
  });

  it("logs to LOG_PATH's directory: the file's, or the directory itself when the value ends in a slash", () => {
    expect(parseConfig({}, { LOG_PATH: 'var/log/router.log' }).logging.dir).toBe('var/log');
    expect(parseConfig({}, { LOG_PATH: 'logs/' }).logging.dir).toBe('logs');
    expect(parseConfig({}, { LOG_PATH: '/var/log/switchyard//' }).logging.dir).toBe('/var/log/switchyard');
    expect(parseConfig({}, { LOG_PATH: '/' }).logging.dir).toBe('/');
  });

  it('names the environment variable behind an invalid value, not only the key it sets', () => {
    expect(() => parseConfig({}, { PORT: 'abc' })).toThrow(/port \(from the environment variable PORT\): /);
    expect(() => parseConfig({}, { RATE_LIMIT_REQUESTS: 'many' })).toThrow(/rate_limits\.requests_per_minute \(from the environment variable RATE_LIMIT_REQUESTS\)/);
    expect(() => parseConfig({}, { OPENAI_BASE_URL: 'not a url' })).toThrow(/providers\.openai\.base_url \(from the environment variable OPENAI_BASE_URL\)/);
    // A bad value from the file says nothing of the environment.
    expect(() => parseConfig({ port: 'abc' }, {})).toThrow(/^invalid config:\n  port: /);
  });

  it('refuses a Redis URL that ioredis would misread (no scheme, another scheme, a bad port or database), naming REDIS_URL', () => {
    for (const url of ['http://x', 'garbage', 'localhost:port', 'redis://host:99999', 'redis://host/abc', 'redis:///tmp/redis.sock', '//host:6379']) {
      expect(() => parseConfig({}, { REDIS_URL: url }), url).toThrow(/^invalid config:\n  redis\.url \(from the environment variable REDIS_URL\): must be a redis:\/\/ or rediss:\/\/ URL .*or the absolute path of a Unix socket$/);
    }
    expect(() => parseConfig({ redis: { url: 'redis.internal' } }, {})).toThrow(/^invalid config:\n  redis\.url: must be a redis:\/\//);
    // host:port, as LiteLLM's deployments write it, is a redis:// URL.
    expect(parseConfig({}, { REDIS_URL: 'localhost:6379' }).redis?.url).toBe('redis://localhost:6379');
    expect(parseConfig({ redis: { url: 'redis.internal:6380' } }, {}).redis?.url).toBe('redis://redis.internal:6380');
    for (const url of ['redis://127.0.0.1:6379', 'redis://:secret@redis.internal/2', 'rediss://user:secret@[::1]:6380', 'redis://host?db=3', '/var/run/redis/redis.sock', '/tmp/redis.sock?db=1']) {
      expect(parseConfig({}, { REDIS_URL: url }).redis?.url, url).toBe(url);
    }
  });

  it("reads LiteLLM's REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD and REDIS_SSL as one Redis URL; REDIS_URL wins", () => {
    expect(parseConfig({}, { REDIS_HOST: 'cache.internal' }).redis?.url).toBe('redis://cache.internal:6379');
    expect(parseConfig({}, { REDIS_HOST: 'cache.internal', REDIS_PORT: '6380', REDIS_PASSWORD: 'p@ss/word', REDIS_SSL: 'True' }).redis?.url).toBe('rediss://:p%40ss%2Fword@cache.internal:6380');
    expect(parseConfig({}, { REDIS_HOST: 'cache.internal', REDIS_USERNAME: 'app', REDIS_PASSWORD: 'pw' }).redis?.url).toBe('redis://app:pw@cache.internal:6379');
    expect(parseConfig({}, { REDIS_HOST: 'cache.internal', REDIS_URL: 'redis://other:1' }).redis?.url).toBe('redis://other:1');
    expect(() => parseConfig({}, { REDIS_HOST: 'cache.internal', REDIS_PORT: 'x' })).toThrow(/redis\.url \(from the environment variable REDIS_HOST\): must be a redis:\/\//);
    expect(parseConfig({}, { REDIS_HOST: 'cache.internal', REDIS_SSL: 'off' }).redis?.url).toBe('redis://cache.internal:6379');
    expect(() => parseConfig({}, { REDIS_HOST: 'cache.internal', REDIS_SSL: 'maybe' })).toThrow(/from the environment variable REDIS_SSL\): expected a flag .*got 'maybe'/);
  });

  it('takes ${VAR:-default} when VAR is empty, as the shell does', () => {
    expect(expandEnv('${EMPTY:-d}', { EMPTY: '' })).toBe('d');
  });

  it('refuses a top level that is not a mapping, and a file with no keys, naming the file', () => {
    expect(() => parseConfig(['port: 1'], {}, 'config file x.yaml')).toThrow(/^invalid config file x\.yaml: the top level must be a mapping of keys .*, not a list$/);
    expect(() => parseConfig('port 8000', {})).toThrow(/not a string/);
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-'));
    writeFileSync(join(dir, 'empty.yaml'), '# nothing yet\n');
    expect(() => loadConfig(join(dir, 'empty.yaml'), {})).toThrow(new ConfigError(`config file ${join(dir, 'empty.yaml')} is empty: write {} to take every default`));
    writeFileSync(join(dir, 'defaults.yaml'), '{}\n');
    expect(loadConfig(join(dir, 'defaults.yaml'), {}).config.port).toBe(8000);
  });

  it('names the unset variable behind a value a ${VAR} left empty', () => {
    const raw = { services: [{ name: 'a', url: '${ENGINE_URL}' }], admin_token: '${TOKEN}' };
    expect(() => parseConfig(raw, { TOKEN: '' })).toThrow(/^invalid config:\n  services\.0\.url \(\$\{ENGINE_URL\} not set\): must be an http:\/\/ or https:\/\/ URL\n  admin_token \(\$\{TOKEN\} not set\): /);
    expect(() => parseConfig({ services: [{ name: 'a', url: '${ENGINE_URL:-nonsense}' }] }, {})).toThrow(/^invalid config:\n  services\.0\.url: must be/);
  });

  it('takes log_level in any case from the file, as from LOG_LEVEL', () => {
    expect(parseConfig({ log_level: 'DEBUG' }, {}).log_level).toBe('debug');
    expect(() => parseConfig({ log_level: 'loud' }, {})).toThrow(/log_level: Invalid option/);
  });

  it('names an unknown key by its whole path', () => {
    expect(() => parseConfig({ health_check: { intervl_s: 3 }, bogus: 1 }, {})).toThrow(/^invalid config:\n  health_check\.intervl_s: unknown key\n  bogus: unknown key$/);
  });

  it('refuses environment values that are not numbers or flags instead of reading them as some other value, naming the variable', () => {
    // Number(' ') is 0 (any free port) and Number('0x50') is 80.
    for (const value of [' ', '0x50', '8000abc']) expect(() => parseConfig({}, { PORT: value }), value).toThrow(/port \(from the environment variable PORT\): .*received string/);
    expect(parseConfig({}, { PORT: ' 9000 ', REQUEST_TIMEOUT_S: '2.5' })).toMatchObject({ port: 9000, request_timeout_s: 2.5 });
    expect(() => parseConfig({}, { REQUIRE_API_KEY: 'maybe' })).toThrow(/api_keys\.required \(from the environment variable REQUIRE_API_KEY\)/);
    expect(parseConfig({ api_keys: { required: true } }, { REQUIRE_API_KEY: 'off' }).api_keys.required).toBe(false);
    expect(parseConfig({}, { REQUIRE_API_KEY: 'Yes' }).api_keys.required).toBe(true);
    expect(() => parseConfig({}, { HOST: '  ' })).toThrow(/^invalid config:\n  host \(from the environment variable HOST\): must be a host name or address$/);
    expect(() => parseConfig({ host: '' }, {})).toThrow(/^invalid config:\n  host: must be a host name or address$/);
    // Blanks and commas name no origin: refused as a blank PORT is, rather than read as an empty list (CORS off, silently).
    for (const value of [' , ', ',', '  ']) {
      expect(() => parseConfig({ cors: { origins: ['https://app.example'] } }, { CORS_ORIGINS: value }), value).toThrow(
        /^invalid config:\n  cors\.origins \(from the environment variable CORS_ORIGINS\): must be a list of origins \(CORS_ORIGINS: comma-separated, at least one; unset for none\)$/,
      );
    }
    expect(parseConfig({}, { CORS_ORIGINS: ' https://a.example, ,https://b.example ' }).cors.origins).toEqual(['https://a.example', 'https://b.example']);
    expect(parseConfig({ cors: { origins: ['https://app.example'] } }, { CORS_ORIGINS: '' }).cors.origins).toEqual(['https://app.example']);
  });

  it('reads allowed_hosts from ALLOWED_HOSTS and refuses entries that are not host names, naming the key', () => {
    expect(parseConfig({}, {}).allowed_hosts).toEqual([]);
    expect(parseConfig({}, { ALLOWED_HOSTS: ' llm.example.com, ,*.corp.example.com ' }).allowed_hosts).toEqual(['llm.example.com', '*.corp.example.com']);
    expect(parseConfig({ allowed_hosts: ['*'] }, {}).allowed_hosts).toEqual(['*']);
    for (const entry of ['http://llm.example.com', 'llm.example.com:8000', 'llm.example.com/v1', '*example.com', 'a.*.example.com', '']) {
      expect(() => parseConfig({ allowed_hosts: [entry] }, {}), entry).toThrow(
        `invalid config:\n  allowed_hosts.0: must be a host name without scheme or port (llm.example.com), *.example.com for its subdomains, or * for any (not "${entry}")`,
      );
    }
    expect(() => parseConfig({}, { ALLOWED_HOSTS: 'llm.example.com:8000' })).toThrow(/^invalid config:\n  allowed_hosts\.0 \(from the environment variable ALLOWED_HOSTS\): must be a host name/);
    expect(() => parseConfig({}, { ALLOWED_HOSTS: ' , ' })).toThrow(/allowed_hosts \(from the environment variable ALLOWED_HOSTS\): must be a list of host names/);
    expect(() => parseConfig({ allowed_hosts: 'llm.example.com' }, {})).toThrow(/^invalid config:\n  allowed_hosts: must be a list of host names/);
  });

  it('refuses a RATE_LIMIT_WINDOW that is not a positive number of seconds, rather than leave RATE_LIMIT_REQUESTS per minute', () => {
    for (const window of ['1h', '0x3c', '0', '-60', ' ']) {
      expect(() => parseConfig({}, { RATE_LIMIT_REQUESTS: '100', RATE_LIMIT_WINDOW: window }), window).toThrow(
        new ConfigError(`invalid environment variable RATE_LIMIT_WINDOW: must be a positive number of seconds, the window RATE_LIMIT_REQUESTS counts in (not "${window}")`),
      );
    }
    expect(parseConfig({}, { RATE_LIMIT_REQUESTS: '100', RATE_LIMIT_WINDOW: '3600' }).rate_limits.requests_per_minute).toBe(2);
    expect(parseConfig({}, { RATE_LIMIT_REQUESTS: '100', RATE_LIMIT_WINDOW: '' }).rate_limits.requests_per_minute).toBe(100);
  });

  it('reads an expanded ${VAR} as a number or a flag where the key takes one, and keeps it as text where the key takes text', () => {
    const env = { P: '9100', T: '2.5', ON: 'yes', KEY: '12345' };
    const config = parseConfig({ port: '${P}', request_timeout_s: '${T:-300}', api_keys: { required: '${ON}' }, services: [{ name: 's', url: 'http://e', api_key: '${KEY}', models: ['m'] }] }, env);
    expect(config).toMatchObject({ port: 9100, request_timeout_s: 2.5, api_keys: { required: true } });
    expect(config.services[0]!.api_key).toBe('12345');
    expect(parseConfig({ request_timeout_s: '${UNSET:-60}' }, {}).request_timeout_s).toBe(60);
    // Text that is no number stays refused, naming the variable; a number written as text in the file itself stays refused.
    expect(() => parseConfig({ port: '${P}' }, { P: '0x50' })).toThrow(/port: .*expected number/);
    expect(() => parseConfig({ port: '9100' }, {})).toThrow(/port: .*expected number/);
  });

  it('refuses a timeout or interval longer than a timer can wait, rather than time every request out at once', () => {
    // request_timeout_s: 3000000 (a month, meant as "never") made every request a 504 on arrival.
    expect(() => parseConfig({ request_timeout_s: 3_000_000 }, {})).toThrow(/request_timeout_s: must be at most 2147483 s \(24\.8 days/);
    expect(() => parseConfig({}, { HEALTH_CHECK_INTERVAL_S: '1e9' })).toThrow(/health_check\.interval_s \(from the environment variable HEALTH_CHECK_INTERVAL_S\): must be at most 2147483 s/);
    expect(() => parseConfig({ redis: { url: 'redis://r', command_timeout_ms: 3e9 } }, {})).toThrow(/redis\.command_timeout_ms: must be at most 2147483647 ms/);
    expect(() => parseConfig({ retry: { backoff_max_ms: 3e9, max_wait_s: 3e6 } }, {})).toThrow(/retry\.backoff_max_ms: must be at most 2147483647 ms.*\n  retry\.max_wait_s: must be at most 2147483 s/);
    expect(parseConfig({ request_timeout_s: 2_147_483 }, {}).request_timeout_s).toBe(2_147_483);
  });

  it('rejects duplicate service names', () => {
    expect(() => parseConfig({ services: [{ name: 'a', url: 'http://x' }, { name: 'a', url: 'http://y' }] }, {})).toThrow(/services\.1\.name: duplicate/);
  });

  it('forgets agents only after they are marked unhealthy: agents.forget_after_s above the heartbeat timeout, default 3600', () => {
    expect(parseConfig({}, {}).agents).toMatchObject({ heartbeat_timeout_s: 30, forget_after_s: 3600 });
    expect(parseConfig({ agents: { heartbeat_timeout_s: 5 } }, { AGENT_FORGET_AFTER_S: '6' }).agents.forget_after_s).toBe(6);
    expect(() => parseConfig({ agents: { heartbeat_timeout_s: 30, forget_after_s: 30 } }, {})).toThrow(/agents\.forget_after_s: must be greater than agents\.heartbeat_timeout_s/);
    expect(() => parseConfig({}, { AGENT_HEARTBEAT_TIMEOUT_S: '7200' })).toThrow(/forget_after_s/);
    expect(() => parseConfig({ agents: { forget_after_s: 0 } }, {})).toThrow(/forget_after_s/);
  });

  it('accepts every YAML example of the README', () => {
    const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
    // A fence naming a file after its language (```yaml prometheus.yml) holds another program's config.
    const examples = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(examples.length).toBeGreaterThan(3);
    for (const example of examples) expect(() => parseConfig(parseYaml(example), {}), example).not.toThrow();
  });
});

describe('least-outstanding policy', () => {
  const fleetOf = (n: number) => Array.from({ length: n }, (_, i) => new Backend({ name: `b${i}`, url: `http://h${i}`, kind: 'service', models: ['m'], adapter: OPENAI_COMPATIBLE_TARGET }));

  it('picks the replica with the fewest requests in flight', () => {
    const backends = fleetOf(3);
    backends[0]!.inflight = 2;
    backends[1]!.inflight = 0;
    backends[2]!.inflight = 1;
    const policy = new LeastOutstandingPolicy();
    for (let i = 0; i < 5; i++) expect(policy.pick(backends, request).name).toBe('b1');
  });

  it('rotates among ties', () => {
    const backends = fleetOf(3);
    const policy = new LeastOutstandingPolicy();
    expect(Array.from({ length: 6 }, () => policy.pick(backends, request).name)).toEqual(['b0', 'b1', 'b2', 'b0', 'b1', 'b2']);
  });
});

describe('fleet index', () => {
  it('routes only to healthy backends and ejects after consecutive failures', () => {
    const fleet = new Fleet(2);
    const a = fleet.add({ name: 'a', url: 'http://a', kind: 'service', models: ['m'], adapter: OPENAI_COMPATIBLE_TARGET });
    const b = fleet.add({ name: 'b', url: 'http://b', kind: 'service', models: ['m'], adapter: OPENAI_COMPATIBLE_TARGET });
    fleet.setHealth(a, true);
    fleet.setHealth(b, true);
    expect(fleet.candidates('m')).toEqual([a, b]);
    fleet.recordFailure(a, 'boom');
    expect(fleet.candidates('m')).toEqual([a, b]);
    fleet.recordFailure(a, 'boom');
    expect(fleet.candidates('m')).toEqual([b]);
    expect(fleet.knows('m')).toBe(true);
    fleet.setHealth(b, false);
    expect(fleet.candidates('m')).toEqual([]);
    expect(fleet.knows('m')).toBe(true);
    expect(fleet.knows('x')).toBe(false);
  });
});

describe('request bodies', () => {
  it('refuses any nesting past the limit with a 400, however deep (JSON.parse reads a million levels that nothing after it can)', () => {
    for (const levels of [129, 100_000, 1_000_000]) {
      const error = (() => {
        try {
          parseJsonBody(Buffer.from(`${'['.repeat(levels)}${']'.repeat(levels)}`));
        } catch (thrown) {
          return thrown;
        }
      })();
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
    }
    expect(parseJsonBody(Buffer.from(`{"a":${'['.repeat(127)}${']'.repeat(127)}}`))).toBeTypeOf('object');
  });
});

describe('relay helpers', () => {
  it('finds the usage of the last event in a stream tail', () => {
    const tail = Buffer.from('data: {"choices":[]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}\n\ndata: [DONE]\n\n');
    expect(usageFromTail(tail)).toEqual({ prompt_tokens: 3, completion_tokens: 4 });
    expect(usageFromTail(Buffer.from('data: {"x":1}\n\n'))).toBeUndefined();
  });

  it('keeps at least the last bytes of a stream, whatever the chunking, without holding what came before', () => {
    const stream = Array.from({ length: 500 }, (_, i) => `data: {"n":${i}}\n\n`).join('');
    for (const size of [1, 7, 100, 5000, stream.length]) {
      const tail = new StreamTail(1024);
      for (let at = 0; at < stream.length; at += size) tail.push(Buffer.from(stream.slice(at, at + size)));
      const kept = tail.read().toString();
      expect(stream.endsWith(kept)).toBe(true);
      expect(kept.length).toBeGreaterThanOrEqual(1024);
      expect(kept.length).toBeLessThan(1024 + Math.max(size, 64));
    }
    const empty = new StreamTail(1024);
    expect(empty.read().length).toBe(0);
  });

  it('copies a small chunk out of a large network read instead of keeping the whole read alive', () => {
    const read = Buffer.alloc(65536, 'x');
    const tail = new StreamTail(1024);
    tail.push(read.subarray(100, 300));
    expect(tail.read().buffer).not.toBe(read.buffer);
    const whole = Buffer.from('data: {"n":1}\n\n');
    const own = new StreamTail(1024);
    own.push(whole);
    expect(own.read()).toBe(whole);
  });

  it('does not double the /v1 of provider base URLs', () => {
    expect(openAiPath(new Backend({ name: 'p', url: 'https://api.example.com/v1', kind: 'provider', adapter: OPENAI_COMPATIBLE_TARGET }), '/chat/completions')).toBe('/v1/chat/completions');
    expect(openAiPath(new Backend({ name: 's', url: 'http://10.0.0.5:8100', kind: 'service', adapter: OPENAI_COMPATIBLE_TARGET }), '/models')).toBe('/v1/models');
  });
});

describe('a service at a hosted provider\'s own address', () => {
  const messagesRequest = (body: Record<string, unknown>): InferenceRequest => ({ id: 'r1', endpoint: 'messages', model: 'o3', stream: false, body, raw: Buffer.from(JSON.stringify(body)), headers: {}, startedAt: 0 });
  const sent = (url: string) => {
    const backend = new Backend({ name: 's', url, kind: 'service', models: ['o3'], adapter: serviceAdapter({ url, provider: 'openai' }) });
    const call = backend.adapterFor('messages').request(messagesRequest({ model: 'o3', max_tokens: 32, top_k: 5, messages: [{ role: 'user', content: 'hi' }] }), backend, 'o3');
    return JSON.parse(call.body.toString()) as Record<string, unknown>;
  };

  it('is spoken to as that provider: OpenAI gets max_completion_tokens and no top_k; an engine max_tokens and top_k', () => {
    expect(sent('https://api.openai.com/v1')).toEqual({ model: 'o3', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 32 });
    expect(sent('http://10.0.0.5:8000')).toEqual({ model: 'o3', messages: [{ role: 'user', content: 'hi' }], max_tokens: 32, top_k: 5 });
  });
});

describe('countedUsage', () => {
  it('keeps the counts that are numbers, and is none without any, so that an estimate is charged', () => {
    const sound = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7, prompt_tokens_details: { cached_tokens: 1 } };
    expect(countedUsage(sound)).toBe(sound);
    expect(countedUsage({ prompt_tokens: 5, completion_tokens: '2', total_tokens: -1, prompt_tokens_details: { cached_tokens: NaN } })).toEqual({ prompt_tokens: 5 });
    expect(countedUsage({ prompt_tokens: '7', completion_tokens: null, total_tokens: -1 })).toBeUndefined();
    expect(countedUsage('usage')).toBeUndefined();
  });
});

describe("the Responses bridge's custom and local shell tools", () => {
  it('takes the text of a custom tool call whose arguments are no object with an input string as the arguments themselves', () => {
    expect(toolCallItem('custom', 'ctc_1', 'call_1', 'apply_patch', '{"input":"*** Begin Patch"}', 'completed')).toEqual({ id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_1', name: 'apply_patch', input: '*** Begin Patch' });
    expect(toolCallItem('custom', 'ctc_1', 'call_1', 'apply_patch', '{"patch":"x"}', 'completed')).toMatchObject({ input: '{"patch":"x"}' });
    expect(toolCallItem('custom', 'ctc_1', 'call_1', 'apply_patch', 'not json', 'completed')).toMatchObject({ input: 'not json' });
  });

  it("gives a local shell call's action the fields it always has, whatever the model's arguments", () => {
    const action = (args: string) => toolCallItem('local_shell', 'lsh_1', 'call_1', 'local_shell', args, 'completed').action;
    expect(action('{"command":["sleep",5],"timeout_ms":1.5,"env":{"A":"1","B":2}}')).toEqual({ type: 'exec', command: ['sleep', '5'], timeout_ms: null, working_directory: null, env: { A: '1' }, user: null });
    expect(action('{"command":"ls"}')).toEqual({ type: 'exec', command: [], timeout_ms: null, working_directory: null, env: {}, user: null });
    expect(action('')).toMatchObject({ command: [], env: {} });
  });

  it("cuts a custom tool's grammar in its description at its bound", () => {
    const definition = `${'a'.repeat(MAX_GRAMMAR_CHARS)}TAIL`;
    const [tool] = requestTools([{ type: 'custom', name: 'x', format: { type: 'grammar', syntax: 'lark', definition } }]).chat!;
    const description = (tool!.function as { description: string }).description;
    expect(description).toContain('a'.repeat(MAX_GRAMMAR_CHARS));
    expect(description).not.toContain('TAIL');
    expect(description).toContain('the grammar is cut here');
  });
});

describe("the Responses bridge's Anthropic thinking carried in reasoning items", () => {
  const signed = { type: 'thinking' as const, thinking: 'Plan.', signature: 'EqQBCkYIARgCKkA' };
  const reasoning = { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: sealedThinking([signed]) };
  const assistant = { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Done.' }] };

  it('goes back with the assistant message that follows its reasoning item', () => {
    const { messages } = responsesToChat({ model: 'm', input: [{ role: 'user', content: 'Hi' }, reasoning, assistant] });
    expect((messages as Array<Record<string, unknown>>)[1]).toMatchObject({ role: 'assistant', thinking_blocks: [signed] });
  });

  it('is dropped when another turn comes before an assistant message (an interrupted turn), not given to a later answer', () => {
    const { messages } = responsesToChat({ model: 'm', input: [{ role: 'user', content: 'Hi' }, reasoning, { role: 'user', content: 'Stop, do this instead' }, assistant] });
    expect((messages as Array<Record<string, unknown>>)[2]).not.toHaveProperty('thinking_blocks');
  });
});

describe('the DNS-rebinding guard\'s host names', () => {
  it('reads the name of a Host header without port or trailing dot, in lower case', () => {
    expect(['Evil.Example:8000', 'evil.example.', 'evil.example.:80', 'EVIL.example'].map(hostNameOf)).toEqual(Array(4).fill('evil.example'));
    expect(['[::1]:8000', '[::1]', '127.0.0.1:8000', 'localhost'].map(hostNameOf)).toEqual(['[::1]', '[::1]', '127.0.0.1', 'localhost']);
  });

  it('lets through the names no public DNS can point at the router, and only those', () => {
    const never = ['127.0.0.1', '10.1.2.3', '[::1]', '[fe80::1]', 'localhost', 'app.localhost', 'switchyard', 'gpu.local', 'router.internal', 'nas.home.arpa', 'box.lan', 'x.test', 'y.invalid'];
    for (const name of never) expect(cannotBeRebound(name), name).toBe(true);
    const rebindable = ['evil.example', '127.0.0.1.nip.io', 'localhost.evil.example', 'local.example.com', 'internal.example', 'home.arpa.example', '[not-ipv6]', '1.2.3.4.5'];
    for (const name of rebindable) expect(cannotBeRebound(name), name).toBe(false);
  });
});

describe('the embedded store', () => {
  it("keeps SQLite's 2 MB page cache, not the 16 MB better-sqlite3 builds in, which the request log's appends fill and never give back", () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'switchyard-store-')), 'models.db'));
    try {
      expect(PAGE_CACHE_KIB).toBe(2000);
      expect(db.pragma('cache_size', { simple: true })).toBe(-PAGE_CACHE_KIB);
    } finally {
      db.close();
    }
  });
});
