import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { Backend } from '../src/fleet/backend.js';
import { EngineMetricsScraper } from '../src/fleet/engine-metrics-scraper.js';
import { Fleet } from '../src/fleet/fleet.js';
import { backendStats } from '../src/observability/fleet-snapshot.js';
import { ConfigSchema } from '../src/config/schema.js';
import { OPENAI_COMPATIBLE_TARGET } from '../src/providers/by-name.js';
import { CACHE_AWARE_DEFAULTS, CacheAwarePolicy } from '../src/routing/cache-aware.js';
import { CostPolicy } from '../src/routing/cost.js';
import { LatencyPolicy } from '../src/routing/latency.js';
import { LeastLoadPolicy } from '../src/routing/least-load.js';
import { InflightTokens } from '../src/routing/inflight-tokens.js';
import { effectiveLoad } from '../src/routing/load.js';
import type { RouteRequest } from '../src/routing/policy.js';
import { PrefixIndex } from '../src/routing/prefix-index.js';
import { prefixBlockHashes, retainedScratchBytes } from '../src/routing/prefix-hash.js';
import { canonicalPrompt } from '../src/routing/prompt-text.js';
import { RandomPolicy } from '../src/routing/random.js';
import { POLICY_NAMES } from '../src/routing/registry.js';
import { RoundRobinPolicy } from '../src/routing/round-robin.js';
import { keptKey, SessionHints } from '../src/routing/session-hints.js';
import { ResponseAffinity } from '../src/routing/response-affinity.js';
import { PolicyTable } from '../src/routing/policy-table.js';
import { SessionPolicy } from '../src/routing/session.js';

const replicas = (n: number, kind: 'service' | 'provider' = 'service') =>
  Array.from({ length: n }, (_, i) => new Backend({ name: `r${i}`, url: `http://127.0.0.1:${9000 + i}`, kind, models: ['m'], adapter: OPENAI_COMPATIBLE_TARGET }));

const SYSTEM = 'You are a meticulous assistant for the freight yard. '.repeat(40);
const chat = (system: string, question: string, headers: RouteRequest['headers'] = {}): RouteRequest => ({
  model: 'm',
  body: { model: 'm', messages: [{ role: 'system', content: system }, { role: 'user', content: question }] },
  headers,
});

describe('round-robin and random', () => {
  it('round-robin rotates through every candidate; explain does not advance it', () => {
    const fleet = replicas(3);
    const policy = new RoundRobinPolicy();
    expect(policy.explain(fleet, chat('', 'q')).backend.name).toBe('r0');
    expect([0, 1, 2, 3].map(() => policy.pick(fleet, chat('', 'q')).name)).toEqual(['r0', 'r1', 'r2', 'r0']);
  });

  it('random picks by its random source', () => {
    const fleet = replicas(4);
    expect(new RandomPolicy(() => 0.6).pick(fleet, chat('', 'q')).name).toBe('r2');
  });
});

describe('least-load', () => {
  it('prefers the fewest in-flight requests', () => {
    const fleet = replicas(3);
    fleet[0]!.inflight = 3;
    fleet[1]!.inflight = 1;
    fleet[2]!.inflight = 2;
    expect(new LeastLoadPolicy().pick(fleet, chat('', 'q')).name).toBe('r1');
  });

  it('adds the engine queue beyond its own requests from a fresh scrape, and ignores a stale one', () => {
    const [a] = replicas(1);
    // At the scrape the router had 2 in flight and the engine 10: 8 belong to other clients.
    a!.engine.update({ running: 4, waiting: 6, kvUsage: 0.5 }, 2, performance.now(), 3_000);
    a!.inflight = 5;
    expect(effectiveLoad(a!, performance.now())).toBe(13);
    a!.inflight = 0;
    expect(effectiveLoad(a!, performance.now())).toBe(8);
    a!.engine.scrapedAt = performance.now() - 10_000;
    a!.inflight = 1;
    expect(effectiveLoad(a!, performance.now())).toBe(1);
  });
});

describe('latency and cost', () => {
  it('latency prefers the lower TTFT average once measured', () => {
    const fleet = replicas(2);
    const policy = new LatencyPolicy(1);
    policy.onResult(fleet[0]!, chat('', 'q'), { ok: true, ttftS: 0.5, usage: undefined });
    policy.onResult(fleet[1]!, chat('', 'q'), { ok: true, ttftS: 0.05, usage: undefined });
    expect(policy.pick(fleet, chat('', 'q')).name).toBe('r1');
  });

  it('cost keeps prompts over the threshold on self-hosted backends and prefers them when cheaper', () => {
    const [local] = replicas(1);
    const [cloud] = replicas(1, 'provider').map((b) => Object.assign(b, { name: 'cloud' }));
    const policy = new CostPolicy({ costWeight: 1, latencyWeight: 1, costThreshold: 100 });
    policy.onResult(local!, chat('', 'q'), { ok: true, ttftS: 2, usage: undefined });
    expect(policy.explain([cloud!, local!], chat('', 'short')).backend.name).toBe('cloud');
    const long = policy.explain([cloud!, local!], chat(SYSTEM, 'q'));
    expect(long).toMatchObject({ reason: 'over-cost-threshold' });
    expect(long.backend.name).toBe('r0');
  });
});

describe('session (rendezvous hashing)', () => {
  it('is sticky per session key from the header, prompt_cache_key or user', () => {
    const fleet = replicas(5);
    const policy = new SessionPolicy('x-session-id');
    const first = policy.pick(fleet, chat('', 'a', { 'x-session-id': 's-1' }));
    for (let i = 0; i < 5; i++) expect(policy.pick(fleet, chat('', `q${i}`, { 'x-session-id': 's-1' }))).toBe(first);
    const byUser = { model: 'm', body: { model: 'm', prompt: 'x', user: 'alice' }, headers: {} };
    expect(policy.pick(fleet, byUser)).toBe(policy.pick(fleet, byUser));
  });

  it('moves only the sessions of a replica that leaves', () => {
    const fleet = replicas(5);
    const policy = new SessionPolicy('x-session-id');
    const sessions = Array.from({ length: 200 }, (_, i) => `session-${i}`);
    const before = new Map(sessions.map((s) => [s, policy.pick(fleet, chat('', 'q', { 'x-session-id': s })).name]));
    const remaining = fleet.filter((b) => b.name !== 'r2');
    let moved = 0;
    for (const s of sessions) {
      const after = policy.pick(remaining, chat('', 'q', { 'x-session-id': s })).name;
      if (before.get(s) === 'r2') expect(after).not.toBe('r2');
      else if (after !== before.get(s)) moved++;
    }
    expect(moved).toBe(0);
    expect([...before.values()].filter((n) => n === 'r2').length).toBeGreaterThan(10);
  });
});

describe('cache-aware', () => {
  const options = { ...CACHE_AWARE_DEFAULTS };

  it('sends a request to the replica holding its longest prefix', () => {
    const fleet = replicas(4);
    const policy = new CacheAwarePolicy(options);
    const first = policy.pick(fleet, chat(SYSTEM, 'first question'));
    for (let i = 0; i < 6; i++) {
      const choice = policy.explain(fleet, chat(SYSTEM, `question ${i}`));
      expect(choice).toMatchObject({ reason: 'prefix-match', affinity: true });
      expect(policy.pick(fleet, chat(SYSTEM, `question ${i}`))).toBe(first);
    }
    expect(first.affinityHits).toBe(6);
  });

  it('spreads distinct prefixes to the least-loaded replicas', () => {
    const fleet = replicas(4);
    const policy = new CacheAwarePolicy(options);
    const chosen = new Set<string>();
    for (let g = 0; g < 4; g++) {
      const backend = policy.pick(fleet, chat(`Group ${g}: ${SYSTEM}`, 'q'));
      backend.inflight++;
      chosen.add(backend.name);
    }
    expect(chosen.size).toBe(4);
  });

  it('spreads new prefixes over idle replicas even when each prefix sends a multiple of the replica count', () => {
    const fleet = replicas(4);
    const policy = new CacheAwarePolicy(options, () => 0);
    // Sequential traffic: each request ends (nothing pending anywhere) before the next is routed.
    const send = (request: RouteRequest) => {
      const backend = policy.pick(fleet, request);
      policy.onResult(backend, request, { ok: true, ttftS: 0.01, usage: { prompt_tokens: 400, completion_tokens: 8 } });
      return backend.name;
    };
    const homes = new Map<string, Set<string>>();
    for (let round = 0; round < 2; round++) {
      for (let p = 1; p <= 12; p++) {
        for (let k = 0; k < 4; k++) {
          const name = send(chat(`System prompt Q${p}: ${SYSTEM}`, `question ${k}`));
          if (!homes.has(`Q${p}`)) homes.set(`Q${p}`, new Set());
          homes.get(`Q${p}`)!.add(name);
        }
      }
    }
    for (const replicasOfPrefix of homes.values()) expect(replicasOfPrefix.size).toBe(1);
    const perReplica = new Map<string, number>();
    for (const replicasOfPrefix of homes.values()) for (const name of replicasOfPrefix) perReplica.set(name, (perReplica.get(name) ?? 0) + 1);
    expect(perReplica.size).toBe(4);
    expect(Math.max(...perReplica.values())).toBeLessThanOrEqual(6);
  });

  it("places a new prefix on idle replicas by its content, whatever traffic came before it", () => {
    const fleet = replicas(4);
    const prompt = chat(`System prompt Z: ${SYSTEM}`, 'q');
    const alone = new CacheAwarePolicy(options, () => 0).explain(fleet, prompt).backend;
    const busy = new CacheAwarePolicy(options, () => 0);
    for (let i = 0; i < 7; i++) {
      const request = chat(`Other prefix ${i}: ${SYSTEM}`, 'q');
      busy.onResult(busy.pick(fleet, request), request, { ok: true, ttftS: 0.01, usage: undefined });
    }
    expect(busy.explain(fleet, prompt).backend).toBe(alone);
  });

  it('gives up affinity when the warm replica is overloaded relative to the least-loaded', () => {
    const fleet = replicas(2);
    const policy = new CacheAwarePolicy({ ...options, balanceAbs: 4, balanceRel: 1.5 });
    const warm = policy.pick(fleet, chat(SYSTEM, 'q'));
    const other = fleet.find((b) => b !== warm)!;
    warm.inflight = 4;
    expect(policy.explain(fleet, chat(SYSTEM, 'q2')).backend).toBe(warm);
    warm.inflight = 9;
    other.inflight = 2;
    const choice = policy.explain(fleet, chat(SYSTEM, 'q2'));
    expect(choice).toMatchObject({ reason: 'imbalance', affinity: false });
    expect(choice.backend).toBe(other);
  });

  it('ignores a match below the threshold', () => {
    const fleet = replicas(2);
    const policy = new CacheAwarePolicy({ ...options, matchThreshold: 0.9 });
    policy.pick(fleet, chat(SYSTEM, 'q'));
    expect(policy.explain(fleet, chat(SYSTEM.slice(0, 600), 'something else entirely '.repeat(40)))).toMatchObject({ reason: 'no-prefix-match' });
  });

  it('bounds each replica index and evicts the least recently used blocks', () => {
    const fleet = replicas(1);
    const policy = new CacheAwarePolicy({ ...options, maxBlocksPerReplica: 100 });
    for (let g = 0; g < 50; g++) policy.pick(fleet, chat(`Group ${g}: ${SYSTEM}`, 'q'));
    expect(policy.indexedBlocks('r0')).toBeLessThanOrEqual(100);
    expect(policy.indexedBlocks('r0')).toBeGreaterThan(50);
    expect(policy.explain(fleet, chat(`Group 49: ${SYSTEM}`, 'q'))).toMatchObject({ reason: 'prefix-match' });
    expect(policy.explain(fleet, chat(`Group 0: ${SYSTEM}`, 'q'))).toMatchObject({ reason: 'no-prefix-match' });
  });

  it('bounds its session hints in count and in size: a hint may be as long as the body', () => {
    const hints = new SessionHints(3);
    const long = (i: number) => `${i}`.padEnd(100_000, 'x');
    for (let i = 0; i < 10; i++) hints.remember(long(i), `r${i}`);
    expect(hints.replicaFor(long(9))).toBe('r9');
    expect(hints.replicaFor(long(6))).toBeUndefined();
    expect(hints.keptChars).toBeLessThanOrEqual(3 * 128);
    hints.remember('short', 'r0');
    expect(hints.replicaFor('short')).toBe('r0');
  });

  it('keeps a prefix findable by binary search after eviction of its tail', () => {
    const index = new PrefixIndex(12);
    const long = prefixBlockHashes('a'.repeat(64 * 10), 'm', 64).hashes;
    index.insert(long);
    index.insert(prefixBlockHashes('z'.repeat(64 * 6), 'm', 64).hashes);
    expect(index.size).toBeLessThanOrEqual(12);
    let leading = 0;
    while (leading < long.length && index.has(long[leading]!)) leading++;
    expect(leading).toBeGreaterThan(0);
    expect(leading).toBeLessThan(long.length);
    expect(index.longestMatch(long)).toBe(leading);
    expect(index.longestMatch(prefixBlockHashes('a'.repeat(64 * 3) + 'b'.repeat(64), 'm', 64).hashes)).toBe(3);
  });

  it('learns from cached_tokens that a replica evicted a prefix, and remembers less for it', () => {
    const fleet = replicas(2);
    const policy = new CacheAwarePolicy({ ...options, maxBlocksPerReplica: 4096 });
    const warm = policy.pick(fleet, chat(SYSTEM, 'q0'));
    const hit = chat(SYSTEM, 'q1');
    expect(policy.pick(fleet, hit)).toBe(warm);
    policy.onResult(warm, hit, { ok: true, ttftS: 0.01, usage: { prompt_tokens: 500, prompt_tokens_details: { cached_tokens: 480 } } });
    expect(policy.indexCapacity(warm.name)).toBe(4096);
    const miss = chat(SYSTEM, 'q2');
    expect(policy.pick(fleet, miss)).toBe(warm);
    policy.onResult(warm, miss, { ok: true, ttftS: 0.2, usage: { prompt_tokens: 500, prompt_tokens_details: { cached_tokens: 0 } } });
    expect(policy.indexCapacity(warm.name)).toBe(3072);
    // The engine has just cached this prompt again, so the prefix itself still routes there.
    expect(policy.explain(fleet, chat(SYSTEM, 'q3'))).toMatchObject({ reason: 'prefix-match' });
    expect(policy.explain(fleet, chat(SYSTEM, 'q3')).backend).toBe(warm);
  });

  it("indexes a conversation's whole prompt, so its next turn matches everything the previous turn sent", () => {
    const fleet = replicas(4);
    const policy = new CacheAwarePolicy(options);
    const messages = [
      { role: 'system', content: `Conversation 7 briefing. ${SYSTEM.slice(0, 400)}` },
      { role: 'user', content: 'Turn 1: how long is the siding at the north yard? '.repeat(3) },
    ];
    const turn1 = { model: 'm', body: { model: 'm', messages }, headers: {} };
    const home = policy.pick(fleet, turn1);
    home.inflight = 1;
    const next = [...messages, { role: 'assistant', content: 'About four hundred metres.' }, { role: 'user', content: 'Turn 2: and the south yard?' }];
    const choice = policy.explain(fleet, { model: 'm', body: { model: 'm', messages: next }, headers: {} });
    expect(choice).toMatchObject({ backend: home, reason: 'prefix-match', details: { matched_blocks: prefixBlockHashes(canonicalPrompt(turn1.body), 'm', 64).hashes.length } });
  });

  it('keeps a session on its replica by prompt_cache_key or user when the prefix does not match', () => {
    const fleet = replicas(4);
    const policy = new CacheAwarePolicy(options);
    const withHint = (hint: Record<string, string>, prompt: string): RouteRequest => ({ model: 'm', body: { model: 'm', ...hint, messages: [{ role: 'user', content: prompt }] }, headers: {} });
    const home = policy.pick(fleet, withHint({ prompt_cache_key: 'conv-7' }, `first ${SYSTEM}`));
    home.inflight = 2;
    expect(policy.explain(fleet, withHint({ prompt_cache_key: 'conv-7' }, `edited ${SYSTEM}`))).toMatchObject({ backend: home, reason: 'session-hint', affinity: true });
    expect(policy.explain(fleet, withHint({}, `edited ${SYSTEM}`))).toMatchObject({ reason: 'no-prefix-match' });
    expect(policy.explain(fleet, withHint({}, `edited ${SYSTEM}`)).backend).not.toBe(home);
    policy.pick(fleet, withHint({ user: 'alice' }, `third ${SYSTEM}`));
    expect(policy.explain(fleet, withHint({ user: 'alice' }, `fourth ${SYSTEM}`))).toMatchObject({ reason: 'session-hint' });
  });

  it('without a match, weighs replicas by pending tokens, not requests, and releases them when requests finish', () => {
    const [long, short] = replicas(2);
    const now = 1_000;
    const policy = new CacheAwarePolicy(options, () => now);
    const request = (text: string): RouteRequest => ({ model: 'm', body: { model: 'm', max_tokens: 8, messages: [{ role: 'user', content: text }] }, headers: {} });
    const longPrompt = request(`Long ${SYSTEM}`.repeat(10));
    policy.pick([long!], longPrompt);
    policy.pick([short!], request('short one'));
    policy.pick([short!], request('short two'));
    long!.inflight = 1;
    short!.inflight = 2;
    expect(policy.pendingTokens('r0')).toBeGreaterThan(20 * policy.pendingTokens('r1'));
    const fresh = request('a third, unrelated prompt');
    expect(new LeastLoadPolicy().explain([long!, short!], fresh).backend).toBe(long);
    expect(policy.explain([long!, short!], fresh)).toMatchObject({ backend: short, reason: 'no-prefix-match' });
    long!.inflight = 0;
    policy.onResult(long!, longPrompt, { ok: true, ttftS: 0.5, usage: { prompt_tokens: 5000, completion_tokens: 8 } });
    expect(policy.pendingTokens('r0')).toBe(0);
    expect(policy.explain([long!, short!], fresh).backend).toBe(long);
  });

  it('lets pending prompt tokens drain at the prefill rate learned from time to first token', () => {
    const tokens = new InflightTokens();
    const [a] = replicas(1);
    const first = tokens.claim('r0', 1_000, 10, 0);
    a!.inflight = 1;
    // 1,000 prompt tokens answered after 100 ms: 10 tokens per ms (the starting estimate, so it stays).
    tokens.finished(first, 0.1, 200);
    a!.inflight = 0;
    expect(tokens.load(a!, 200)).toBe(0);
    tokens.claim('r0', 1_000, 10, 200);
    a!.inflight = 1;
    expect(tokens.load(a!, 200)).toBe(1_010);
    expect(tokens.load(a!, 250)).toBe(510);
    expect(tokens.load(a!, 400)).toBe(10);
  });

  it("adds the engine's queue beyond the router's own requests, valued at the replica's mean pending request", () => {
    const tokens = new InflightTokens();
    const [a] = replicas(1);
    tokens.claim('r0', 300, 100, 0);
    tokens.claim('r0', 300, 100, 0);
    a!.inflight = 2;
    // The engine runs 5 at the scrape, when the router had 2 there: 3 more belong to other clients.
    a!.engine.update({ running: 5, waiting: 0, kvUsage: 0.2 }, 2, 0, 3_000);
    expect(tokens.load(a!, 0)).toBe(800 + 3 * 400);
    a!.engine.scrapedAt = -10_000;
    expect(tokens.load(a!, 0)).toBe(800);
  });

  it("releases an abandoned attempt's pending tokens, and only those: a replica that refused has not worked through its queue", () => {
    const [busy, other] = replicas(2);
    const policy = new CacheAwarePolicy(options, () => 0);
    policy.pick([busy!], chat(`Queued ${SYSTEM}`, 'q0'));
    busy!.inflight = 1;
    const queued = policy.pendingTokens(busy!.name);
    const request = chat(SYSTEM, 'q');
    policy.pick([busy!], request);
    expect(policy.pendingTokens(busy!.name)).toBeGreaterThan(queued);
    policy.onResult(busy!, request, { ok: false, ttftS: undefined, usage: undefined });
    expect(policy.pendingTokens(busy!.name)).toBe(queued);
    // The retry elsewhere claims there.
    policy.pick([other!], request);
    expect(policy.pendingTokens(other!.name)).toBeGreaterThan(0);
  });

  it('still gives up affinity for the imbalance rule when the warm replica holds many cheap requests', () => {
    const fleet = replicas(2);
    const policy = new CacheAwarePolicy({ ...options, balanceAbs: 4, balanceRel: 1.5 }, () => 0);
    const warm = policy.pick(fleet, chat(SYSTEM, 'q'));
    const other = fleet.find((b) => b !== warm)!;
    // The other replica has few requests but a long prompt pending; the warm one many cached ones.
    policy.pick([other], chat(`Unrelated ${SYSTEM}`.repeat(20), 'q'));
    warm.inflight = 9;
    other.inflight = 2;
    expect(policy.pendingTokens(other.name)).toBeGreaterThan(policy.pendingTokens(warm.name));
    expect(policy.explain(fleet, chat(SYSTEM, 'q2'))).toMatchObject({ backend: other, reason: 'imbalance', affinity: false });
  });

  it('estimates the uncached part of a non-Latin prompt in the same unit its blocks are cut in', () => {
    const fleet = replicas(2);
    const policy = new CacheAwarePolicy(options, () => 0);
    const system = '你是一位细心的货运站助理，请根据调度规则回答问题。'.repeat(26);
    const question = '请详细说明北站编组场的作业流程和安全要求。'.repeat(57);
    const chinese = policy.pick(fleet, chat(system, ''));
    const choice = policy.explain(fleet, chat(system, question));
    expect(choice).toMatchObject({ backend: chinese, reason: 'prefix-match' });
    // Some 1,200 new characters (3 UTF-8 bytes each) are not cached: about 300 tokens at 4 characters per token.
    expect(question.length).toBeGreaterThan(1_150);
    expect(choice.details!.uncached_tokens).toBeGreaterThan(250);
    expect(choice.details!.uncached_tokens).toBeLessThan(350);
  });

  it('does not keep a huge prompt\'s scratch space after hashing it', () => {
    const huge = 'x'.repeat(2_000_000);
    const { hashes, bytes } = prefixBlockHashes(huge, 'm', 64);
    expect(bytes).toBe(2_000_000);
    expect(hashes).toHaveLength(2_000_000 / 64);
    expect(retainedScratchBytes()).toBeLessThanOrEqual(1024 * 1024);
    expect(prefixBlockHashes(SYSTEM, 'm', 64).hashes).toEqual(prefixBlockHashes(SYSTEM, 'm', 64).hashes);
  });

  it('reads any JSON a client sends as a role or content, even an object with a toString key that String() cannot convert', () => {
    const odd = { toString: 1, valueOf: 1 };
    const text = canonicalPrompt({ messages: [{ role: odd, content: [odd, { text: 'hi' }], tool_calls: odd }, null, 7] });
    expect(text).toContain('{"toString":1,"valueOf":1}');
    expect(text).toContain('hi');
  });

  it("reads an Anthropic Messages request's system prompt, as a chat request's system message", () => {
    const turn = [{ role: 'user', content: 'hi' }];
    const messages = (system: unknown) => canonicalPrompt({ system, messages: turn });
    expect(messages('You are a coding agent.')).toBe(canonicalPrompt({ messages: [{ role: 'system', content: 'You are a coding agent.' }, ...turn] }));
    expect(messages([{ type: 'text', text: 'You are a coding agent.', cache_control: { type: 'ephemeral' } }])).toContain('You are a coding agent.');
    expect(messages('A')).not.toBe(messages('B'));
  });

  it('hashes are seeded by model', () => {
    expect(prefixBlockHashes(SYSTEM, 'a', 64).hashes[0]).not.toBe(prefixBlockHashes(SYSTEM, 'b', 64).hashes[0]);
  });
});

describe('routing table', () => {
  const config = (routing: Record<string, unknown>) => ConfigSchema.parse({ routing }).routing;

  it('uses a model own policy and the global one for the rest', () => {
    const fleet = new Fleet(3);
    const table = new PolicyTable(config({ policy: 'round-robin', models: { special: 'cache-aware' } }), fleet);
    expect(table.policyFor('special').name).toBe('cache-aware');
    expect(table.policyFor('other').name).toBe('round-robin');
  });

  it("lets a model group's own policy govern picks among its targets' replicas, and gives results back to the policy that picked", () => {
    const fleet = new Fleet(3);
    for (let i = 0; i < 2; i++) fleet.setHealth(fleet.add({ name: `r${i}`, url: `http://127.0.0.1:${9000 + i}`, kind: 'service', models: ['m'], adapter: OPENAI_COMPATIBLE_TARGET }), true);
    const table = new PolicyTable(config({ policy: 'round-robin', models: { grp: 'cache-aware', m: 'least-load' } }), fleet);
    expect(table.policyFor('m', 'grp').name).toBe('cache-aware');
    expect(table.policyFor('m', 'm').name).toBe('least-load');
    expect(table.policyFor('m', 'other-group').name).toBe('least-load');
    expect(table.policyFor('x', 'other-group').name).toBe('round-robin');
    const groupPolicy = table.policyFor('m', 'grp') as CacheAwarePolicy;
    for (const resultModel of ['grp', 'm']) {
      const request = { ...chat(SYSTEM, `q ${resultModel}`), group: 'grp' };
      const backend = table.pick(fleet.candidates('m'), request);
      expect(groupPolicy.indexedBlocks(backend.name)).toBeGreaterThan(0);
      expect(groupPolicy.pendingTokens(backend.name)).toBeGreaterThan(0);
      // The gateway names the result by the client's model or the served one, never by the group's step.
      table.onResult(backend, { model: resultModel, body: request.body, headers: {} }, { ok: true, ttftS: 0.01, usage: { prompt_tokens: 500, completion_tokens: 8 } });
      expect(groupPolicy.pendingTokens(backend.name)).toBe(0);
    }
  });

  it('forgets a removed replica', () => {
    const fleet = new Fleet(3);
    for (let i = 0; i < 2; i++) fleet.setHealth(fleet.add({ name: `r${i}`, url: `http://127.0.0.1:${9000 + i}`, kind: 'service', models: ['m'], adapter: OPENAI_COMPATIBLE_TARGET }), true);
    const table = new PolicyTable(config({ policy: 'cache-aware' }), fleet);
    const policy = table.policyFor('m') as CacheAwarePolicy;
    const chosen = table.pick(fleet.candidates('m'), chat(SYSTEM, 'q'));
    expect(policy.indexedBlocks(chosen.name)).toBeGreaterThan(0);
    fleet.remove(chosen.name);
    expect(policy.indexedBlocks(chosen.name)).toBe(0);
  });

  it('requires block_chars to be a multiple of 4, the word size blocks are hashed in', () => {
    expect(() => config({ cache_aware: { block_chars: 30 } })).toThrow(/multiple of 4/);
    expect(config({ cache_aware: { block_chars: 32 } }).cache_aware.block_chars).toBe(32);
  });

  it("forgets an ejected replica's cache, so its prefixes do not lead back to it once it recovers cold", () => {
    const fleet = new Fleet(3);
    for (let i = 0; i < 2; i++) fleet.setHealth(fleet.add({ name: `r${i}`, url: `http://127.0.0.1:${9000 + i}`, kind: 'service', models: ['m'], adapter: OPENAI_COMPATIBLE_TARGET }), true);
    const table = new PolicyTable(config({ policy: 'round-robin', models: { m: 'cache-aware' } }), fleet);
    const policy = table.policyFor('m') as CacheAwarePolicy;
    const request = { ...chat(SYSTEM, 'q'), body: { ...chat(SYSTEM, 'q').body, prompt_cache_key: 'conv-1' } };
    const warm = table.pick(fleet.candidates('m'), request);
    const other = fleet.list().find((b) => b !== warm)!;
    other.inflight = 1;
    expect(table.explain(fleet.candidates('m'), chat(SYSTEM, 'q2'))).toMatchObject({ backend: warm, reason: 'prefix-match' });
    fleet.setHealth(warm, false);
    expect(policy.indexedBlocks(warm.name)).toBe(0);
    fleet.setHealth(warm, true);
    expect(table.explain(fleet.candidates('m'), chat(SYSTEM, 'q2'))).toMatchObject({ reason: 'no-prefix-match', details: { matched_blocks: 0 } });
    expect(table.explain(fleet.candidates('m'), { ...request, body: { ...request.body, messages: [{ role: 'user', content: 'edited' }] } })).toMatchObject({ reason: 'no-prefix-match' });
  });

  it('rejects an unknown policy name in the config, globally or per model', () => {
    expect(() => config({ policy: 'nope' })).toThrow(/unknown routing policy .{0,2}nope/);
    expect(() => config({ models: { m: 'fastest' } })).toThrow(/unknown routing policy .{0,2}fastest/);
    expect(POLICY_NAMES).toEqual(expect.arrayContaining(['round-robin', 'random', 'least-load', 'latency', 'cost', 'session', 'cache-aware']));
  });
});

describe('engine metrics parsing', () => {
  it('reads vLLM gauges summed over label sets, falling back to the older KV usage name', async () => {
    const { parseEngineMetrics } = await import('../src/fleet/engine-metrics-scraper.js');
    const text = [
      '# HELP vllm:num_requests_running x',
      'vllm:num_requests_running{model_name="a"} 3',
      'vllm:num_requests_running{model_name="b"} 2',
      'vllm:num_requests_waiting{model_name="a"} 7',
      'vllm:gpu_cache_usage_perc{model_name="a"} 0.25',
    ].join('\n');
    expect(parseEngineMetrics(text)).toEqual({ running: 5, waiting: 7, kvUsage: 0.25 });
    expect(parseEngineMetrics('llamacpp:requests_processing 1')).toBeUndefined();
  });

  it('reads a hostile page of unclosed label sets in linear time: one line is never matched across the next', async () => {
    const { parseEngineMetrics } = await import('../src/fleet/engine-metrics-scraper.js');
    const text = 'vllm:num_requests_running{model_name="a"\n'.repeat(20_000);
    const started = performance.now();
    expect(parseEngineMetrics(text)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('treats a non-finite, negative or malformed sample as no metrics', async () => {
    const { parseEngineMetrics } = await import('../src/fleet/engine-metrics-scraper.js');
    const running = 'vllm:num_requests_running{model_name="a"} 1\n';
    for (const bad of ['+Inf', '-Inf', 'NaN', '1e', '--3', '-2', '0x'])
      expect(parseEngineMetrics(`${running}vllm:num_requests_waiting{model_name="a"} ${bad}`), bad).toBeUndefined();
    expect(parseEngineMetrics(`${running}vllm:num_requests_waiting 2 1712345678000\nvllm:kv_cache_usage_perc NaN`)).toEqual({ running: 1, waiting: 2, kvUsage: 0 });
  });
});

describe('engine metrics scraping', () => {
  const scrapedFleet = (intervalS: number) => {
    const fleet = new Fleet(3);
    const backend = fleet.add({ name: 'e0', url: 'http://127.0.0.1:9000', kind: 'service', models: ['m'], adapter: OPENAI_COMPATIBLE_TARGET });
    fleet.setHealth(backend, true);
    const answer = { status: 200, text: '' };
    const dispatcher = { request: async () => ({ statusCode: answer.status, body: Readable.from([Buffer.from(answer.text)]) }) } as unknown as Dispatcher;
    return { backend, answer, scraper: new EngineMetricsScraper(fleet, dispatcher, intervalS) };
  };

  it('keeps the last reading over an unreadable scrape, so a +Inf never steers routing', async () => {
    const { backend, answer, scraper } = scrapedFleet(1);
    answer.text = 'vllm:num_requests_running 1\nvllm:num_requests_waiting 3';
    await scraper.scrapeAll();
    answer.text = 'vllm:num_requests_running 1\nvllm:num_requests_waiting +Inf';
    await scraper.scrapeAll();
    expect(effectiveLoad(backend, performance.now())).toBe(4);
    expect(backendStats(backend, 0, performance.now())).toMatchObject({ engine: { running: 1, waiting: 3 }, load: 4 });
  });

  it('lets a reading expire a few scrape intervals after the last good scrape, however long the interval', async () => {
    const { backend, answer, scraper } = scrapedFleet(5);
    answer.text = 'vllm:num_requests_running 2\nvllm:num_requests_waiting 6';
    await scraper.scrapeAll();
    const scrapedAt = backend.engine.scrapedAt!;
    // A 5 s interval: a reading 4 s old is the latest there is, and still counts.
    expect(effectiveLoad(backend, scrapedAt + 4_000)).toBe(8);
    answer.status = 500;
    await scraper.scrapeAll();
    expect(effectiveLoad(backend, scrapedAt + 14_000)).toBe(8);
    expect(effectiveLoad(backend, scrapedAt + 16_000)).toBe(0);
    expect(backendStats(backend, 0, scrapedAt + 16_000)).toMatchObject({ engine: null, load: 0 });
  });
});

describe('response affinity', () => {
  it('shares a response id as a short key, however long the id a client sends', async () => {
    const shared: string[] = [];
    const holder = { replica: 'gpu-a', model: 'm', owner: undefined };
    const find = async (id: string) => (shared.includes(id) ? holder : undefined);
    const affinity = new ResponseAffinity({ remember: (id) => void shared.push(id), find, forget: () => {}, onForgotten: () => {} });
    const long = `resp_${'x'.repeat(100_000)}`;
    affinity.remember({ model: 'm', input: 'hi' }, long, 'gpu-a', 'm', undefined);
    expect(shared[0]!.length).toBeLessThanOrEqual(128);
    // Another instance (nothing remembered locally) finds it under the same key.
    expect(await new ResponseAffinity({ remember: () => {}, find, forget: () => {}, onForgotten: () => {} }).holderOf(long)).toEqual(holder);
    affinity.remember({ model: 'm', input: 'hi' }, 'resp_short', 'gpu-b', 'm', undefined);
    expect(shared[1]).toBe('resp_short');
  });

  it('keeps one holder object per replica and model, and forgets a deleted response here and for the other instances', async () => {
    const forgotten: string[] = [];
    const affinity = new ResponseAffinity({ remember: () => {}, find: async () => undefined, forget: (id) => void forgotten.push(id), onForgotten: () => {} });
    for (const id of ['resp_1', 'resp_2']) affinity.remember({ model: 'm', input: 'hi' }, id, 'gpu-a', 'm', 'key-1');
    expect(await affinity.holderOf('resp_1')).toBe(await affinity.holderOf('resp_2'));
    affinity.forget('resp_1');
    expect(await affinity.holderOf('resp_1')).toBeUndefined();
    expect(forgotten).toEqual(['resp_1']);
  });

  it('forgets a response another instance deleted, as it is told (under the shared key, however long the id)', async () => {
    let announce: (responseId: string) => void = () => {};
    const affinity = new ResponseAffinity({ remember: () => {}, find: async () => undefined, forget: () => {}, onForgotten: (listener) => void (announce = listener) });
    const long = `resp_${'y'.repeat(1000)}`;
    for (const id of ['resp_kept', 'resp_deleted', long]) affinity.remember({ model: 'm', input: 'hi' }, id, 'gpu-a', 'm', undefined);
    announce('resp_deleted');
    announce(keptKey(long));
    expect(await affinity.holderOf('resp_deleted')).toBeUndefined();
    expect(await affinity.holderOf(long)).toBeUndefined();
    expect(await affinity.holderOf('resp_kept')).toMatchObject({ replica: 'gpu-a' });
  });
});
