/**
 * Throughput of the router with API keys, rate limits and the response cache enabled (memory
 * state, then Redis) as a ratio of the bare router, measured in the same run against the same
 * simulated engine. Every request has a unique body, so the cache path is the worst case: a
 * lookup that misses and a store after the answer. The variants run in interleaved rounds (order
 * rotated each round) so that load from elsewhere on the machine hits them alike; the ratio is
 * the median over rounds. Run: `npm run bench:policies`.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { ApiKeyStore } from '../store/api-keys.js';
import { openDatabase } from '../store/database.js';
import { startRedisServer } from './redis-server.js';
import { interleavedRounds, median, medianRatio, totalErrors } from './rounds.js';

const CLI = join(import.meta.dirname, '../cli.js');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

function spawnUntil(command: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const onLine = (line: string) => {
      if (ready.test(line)) resolve({ child, line });
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}`)));
  });
}

async function startRouter(config: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'switchyard-bench-')), 'switchyard.yaml');
  writeFileSync(file, stringify({ host: '127.0.0.1', port: 0, log_level: 'warn', ...config }));
  const { child, line } = await spawnUntil(process.execPath, [CLI, 'serve', '--config', file], /router listening/, { ...env, LOG_LEVEL: 'info' });
  return { child, url: `http://127.0.0.1:${/"port":(\d+)/.exec(line)![1]}` };
}

/** Never reused across runs, rounds or routers: every request is a cache miss. */
let sequence = 0;
const runId = Date.now().toString(36);

async function measure(url: string, apiKey: string | undefined): Promise<{ rps: number; errors: number }> {
  const run = (duration: number) =>
    autocannon({
      url,
      connections: CONNECTIONS,
      duration,
      requests: [
        {
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
          setupRequest: (request) => ({
            ...request,
            body: JSON.stringify({ model: 'bench', temperature: 0, max_tokens: 2, messages: [{ role: 'user', content: `question ${runId}-${sequence++}` }] }),
          }),
        },
      ],
    });
  await run(0.5);
  const result = await run(DURATION_S);
  return { rps: result.requests.average, errors: result.non2xx + result.errors };
}

// An engine with no modelled GPU time, in a process of its own so that the load generator alone
// runs here: the benchmark measures the routers, not the simulation or the load generator.
const { child: sim, line: simLine } = await spawnUntil(
  process.execPath,
  [CLI, 'sim', '--port', '0', '--model', 'bench', '--ttft-ms', '0', '--tokens-per-s', '100000', '--max-batch', '1024', '--step-ms', '0', '--prefill-ms-per-token', '0', '--decode-ms-per-seq', '0', '--kv-ms-per-1k-tokens', '0'],
  /listening/,
);
const simPort = /"port":(\d+)/.exec(simLine)![1];
const redis = await startRedisServer();
const dbPath = join(mkdtempSync(join(tmpdir(), 'switchyard-bench-db-')), 'models.db');
const db = openDatabase(dbPath);
const { key } = new ApiKeyStore(db).create('bench', { rpm: 1_000_000_000, tpm: 1_000_000_000 });
db.close();

const services = [{ name: 'sim', url: `http://127.0.0.1:${simPort}`, models: ['bench'] }];
const policies = { rate_limits: { models: { bench: { rpm: 1_000_000_000, tpm: 1_000_000_000 } } }, cache: { enabled: true } };
const emptyDb = join(mkdtempSync(join(tmpdir(), 'switchyard-bench-db-')), 'models.db');
const variants: Array<{ name: string; config: Record<string, unknown>; env: NodeJS.ProcessEnv; apiKey?: string }> = [
  { name: 'bare (open, no limits, no cache)', config: { services, cache: { enabled: false } }, env: { SQLITE_DB_PATH: emptyDb } },
  { name: 'keys + limits + cache, memory', config: { services, ...policies }, env: { SQLITE_DB_PATH: dbPath }, apiKey: key },
  { name: 'keys + limits + cache, Redis', config: { services, ...policies }, env: { SQLITE_DB_PATH: dbPath, REDIS_URL: redis.url }, apiKey: key },
];

const routers = await Promise.all(variants.map((variant) => startRouter(variant.config, variant.env)));
let results: Array<Array<{ rps: number; errors: number }>>;
try {
  results = await interleavedRounds(variants.length, ROUNDS, (v) => measure(routers[v]!.url, variants[v]!.apiKey));
} finally {
  for (const router of routers) router.child.kill('SIGKILL');
  redis.stop();
  sim.kill('SIGKILL');
}

const rps = results.map((rounds) => rounds.map((result) => result.rps));
const errors = results.map(totalErrors);
const ratios = rps.map((variant) => medianRatio(variant, rps[0]!));
console.log(`\n${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION_S}s, unique request bodies (every cache lookup misses and stores)\n`);
console.log('| router | req/s (median) | ratio to bare (median of rounds) | non-2xx/errors |');
console.log('|---|---:|---:|---:|');
variants.forEach((variant, v) => console.log(`| ${variant.name} | ${median(rps[v]!).toFixed(0)} | ${ratios[v]!.toFixed(2)} | ${errors[v]} |`));
