import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { Agent, request, type Dispatcher } from 'undici';
import { stringify } from 'yaml';
import { percentile } from '../fleet/latency-window.js';
import { interleavedRounds, median, medianRatio, totalErrors } from './rounds.js';

/**
 * `npm run bench`: the router's own cost. A fixed-answer backend is measured directly, through
 * the router, through a plain undici pass-through proxy, through a Node byte relay (the floor of a
 * hop through Node) and (when nginx is installed) through an nginx reverse proxy, in one run, so
 * the ratios compare like with like on this machine.
 */

const DIST = join(import.meta.dirname, '..');
const BODY = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something short.' }], max_tokens: 16 });
const STREAM_BODY = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Stream.' }], stream: true });
/** A long generation: this many SSE chunks, each written in its own turn of the backend's event loop. */
const LONG_STREAM_CHUNKS = 400;
const LONG_STREAM_BODY = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Write at length.' }], stream: true, chunks: LONG_STREAM_CHUNKS });
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Rounds of the one-at-a-time measurements (c=1, first chunk), interleaved as the throughput rounds are. */
const SEQUENTIAL_ROUNDS = Number(process.env.BENCH_SEQUENTIAL_ROUNDS ?? 5);
const children: ChildProcess[] = [];
let nginxMaster: ChildProcess | undefined;

function startNode(script: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}, nodeFlags: string[] = []): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'info', ...env } });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (ready.test(line)) resolve({ port: Number(/"port":(\d+)/.exec(line)![1]), child });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function startNginx(upstreamPort: number): Promise<number | undefined> {
  const which = spawn('sh', ['-c', 'command -v nginx']);
  const found = await new Promise<boolean>((resolve) => which.once('exit', (code) => resolve(code === 0)));
  if (!found) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-nginx-'));
  const port = 18000 + Math.floor(Math.random() * 2000);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir};
  proxy_temp_path ${dir};
  upstream backend { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`,
  );
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  // SIGTERM, not SIGKILL: nginx's master stops its workers only when it is asked.
  nginxMaster = child;
  for (let i = 0; i < 50; i++) {
    try {
      await request(`http://127.0.0.1:${port}/health`);
      return port;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return undefined;
}

/** How `npm start` starts the router (its environment assignments and node flags, from package.json), so the bench measures exactly that. */
function npmStart(): { env: Record<string, string>; nodeFlags: string[] } {
  const script = (JSON.parse(readFileSync(join(DIST, '../package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = script.split(/\s+/);
  const env: Record<string, string> = {};
  while (words[0]?.includes('=')) {
    const [name, value] = words.shift()!.split('=');
    env[name!] = value!;
  }
  if (words.shift() !== 'node') throw new Error(`npm start does not run node: ${script}`);
  return { env, nodeFlags: words.filter((word) => word.startsWith('--')) };
}

type Latency = { p50_us: number; p99_us: number };

/** The medians over rounds of each percentile. */
const medianLatency = (rounds: Latency[]): Latency => ({ p50_us: median(rounds.map((r) => r.p50_us)), p99_us: median(rounds.map((r) => r.p99_us)) });

/**
 * Sequential requests on one keep-alive connection; `timed` reads each whole answer and says how
 * many microseconds it counts (none: no sample); the first `skip` are not counted.
 */
async function sequential(port: number, count: number, body: string, skip: number, timed: (response: Dispatcher.ResponseData, started: number) => Promise<number | undefined>): Promise<Latency> {
  const dispatcher = new Agent({ connections: 1 });
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await request(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher });
    const micros = await timed(response, started);
    if (i >= skip && micros !== undefined) samples.push(micros);
  }
  await dispatcher.close();
  samples.sort((a, b) => a - b);
  return { p50_us: percentile(samples, 50)!, p99_us: percentile(samples, 99)! };
}

/** Non-streamed latency at concurrency 1 (the first tenth warms up). */
const latencyAtConcurrency1 = (port: number, count: number) =>
  sequential(port, count, BODY, count / 10, async (response, started) => {
    await response.body.arrayBuffer();
    return (performance.now() - started) * 1000;
  });

/** Streamed time to the first chunk of the body. */
const timeToFirstChunk = (port: number, count: number) =>
  sequential(port, count, STREAM_BODY, 0, async (response, started) => {
    let firstAt: number | undefined;
    for await (const _ of response.body) firstAt ??= performance.now();
    return firstAt === undefined ? undefined : (firstAt - started) * 1000;
  });

/** `connections` clients posting `body` to the chat endpoint for `SECONDS`, each as fast as answers come. */
const load = (port: number, body: string, connections: number) =>
  autocannon({ url: `http://127.0.0.1:${port}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, duration: SECONDS });

async function throughput(port: number, connections: number) {
  const result = await load(port, BODY, connections);
  return { rps: Math.round(result.requests.average), p50_ms: result.latency.p50, p99_ms: result.latency.p99, errors: result.errors + result.non2xx };
}

/** Long streams at concurrency 16: how many chunks per second get through. */
async function longStreams(port: number) {
  const result = await load(port, LONG_STREAM_BODY, 16);
  return { streams: result.requests.total, chunks_per_s: Math.round(result.requests.average * LONG_STREAM_CHUNKS), errors: result.errors + result.non2xx };
}

/** CPU seconds (user + system, all threads) a process has used: /proc counts them in ticks of 1/100 s. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** Seconds the idle streams are held before the settled reading: V8's memory reducer starts ~8 s after allocation calms down. */
const SETTLE_S = 20;

/**
 * Opens `count` streams through the router that stay open and idle, then reads its RSS twice:
 * 1 s after the last one opened (the peak the burst of connections leaves) and after `SETTLE_S`.
 */
async function idleStreamsMemory(port: number, pid: number, count: number) {
  const dispatcher = new Agent({ connections: count });
  const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'hold' }], stream: true, hold: true });
  const before = rssMb(pid);
  const streams = await Promise.all(
    Array.from({ length: count }, async () => {
      const response = await request(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher });
      const iterator = response.body[Symbol.asyncIterator]();
      await iterator.next();
      return response;
    }),
  );
  await new Promise((r) => setTimeout(r, 1000));
  const peak = rssMb(pid);
  await new Promise((r) => setTimeout(r, (SETTLE_S - 1) * 1000));
  const settled = rssMb(pid);
  for (const stream of streams) stream.body.destroy();
  await dispatcher.destroy();
  return { streams: count, rss_before_mb: Math.round(before), rss_with_streams_1s_mb: Math.round(peak), [`rss_with_streams_${SETTLE_S}s_mb`]: Math.round(settled) };
}

async function main() {
  const backend = await startNode(join(DIST, 'bench/fixed-backend.js'), [], /backend listening/);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const config = join(dir, 'switchyard.yaml');
  writeFileSync(config, stringify({ host: '127.0.0.1', port: 0, services: [{ name: 'fixed', url: `http://127.0.0.1:${backend.port}`, models: ['bench'] }] }));
  const start = npmStart();
  const router = await startNode(join(DIST, 'cli.js'), ['serve', '--config', config], /router listening/, { ...start.env, SQLITE_DB_PATH: join(dir, 'models.db'), LOG_DIR: join(dir, 'logs') }, start.nodeFlags);
  const proxy = await startNode(join(DIST, 'bench/undici-proxy.js'), [`http://127.0.0.1:${backend.port}`], /proxy listening/);
  const relay = await startNode(join(DIST, 'bench/tcp-relay.js'), [String(backend.port)], /relay listening/);
  const nginxPort = await startNginx(backend.port);
  const targets: Array<[string, number]> = [['direct', backend.port], ['router', router.port], ['undici-proxy', proxy.port], ['node-tcp-relay', relay.port]];
  if (nginxPort) targets.push(['nginx', nginxPort]);
  else console.error('nginx not found: the nginx baseline is skipped (apt-get install nginx)');

  for (const [, port] of targets) await latencyAtConcurrency1(port, 500); // warm-up
  // In interleaved rounds too: one pass per target in turn let the machine's drift (tens of µs over a minute) favour whichever ran in a quiet spell.
  const sequentialRounds = await interleavedRounds(targets.length, SEQUENTIAL_ROUNDS, async (t) => {
    const result = { c1: await latencyAtConcurrency1(targets[t]![1], 2000), stream_first_chunk: await timeToFirstChunk(targets[t]![1], 400) };
    console.error(`measured ${targets[t]![0]} one request at a time: p50 ${result.c1.p50_us.toFixed(0)} µs`);
    return result;
  });
  const sequentialResults = sequentialRounds.map((perRound) => ({ c1: medianLatency(perRound.map((r) => r.c1)), stream_first_chunk: medianLatency(perRound.map((r) => r.stream_first_chunk)) }));
  const rounds = await interleavedRounds(targets.length, ROUNDS, async (t) => {
    const result = await throughput(targets[t]![1], 64);
    console.error(`measured ${targets[t]![0]} at c=64: ${result.rps} req/s`);
    return result;
  });
  const routerIndex = targets.findIndex(([name]) => name === 'router');
  const streamRounds = await interleavedRounds(targets.length, ROUNDS, async (t) => {
    const cpuBefore = cpuSeconds(router.child.pid!);
    const result = await longStreams(targets[t]![1]);
    // The router's own CPU per relayed chunk, read while only its round runs.
    const cpuUsPerChunk = t === routerIndex ? ((cpuSeconds(router.child.pid!) - cpuBefore) * 1e6) / (result.streams * LONG_STREAM_CHUNKS) : undefined;
    console.error(`measured ${targets[t]![0]} with long streams: ${result.chunks_per_s} chunks/s`);
    return { ...result, cpuUsPerChunk };
  });
  const memory = await idleStreamsMemory(router.port, router.child.pid!, 2000);

  const rps = rounds.map((target) => target.map((result) => result.rps));
  const routerRps = rps[routerIndex]!;
  const chunkRates = streamRounds.map((target) => target.map((result) => result.chunks_per_s));
  const streamRows = targets.map(([name], t) => {
    return `| ${name} | ${median(chunkRates[t]!)} | ${totalErrors(streamRounds[t]!)} | ${medianRatio(chunkRates[routerIndex]!, chunkRates[t]!).toFixed(2)} |`;
  });
  const routerCpuPerChunk = median(streamRounds[routerIndex]!.map((result) => result.cpuUsPerChunk!));
  const results = targets.map(([name], t) => {
    const medianRps = median(rps[t]!);
    const c64 = rounds[t]!.find((result) => result.rps === medianRps)!;
    return { name, ...sequentialResults[t]!, c64: { ...c64, errors: totalErrors(rounds[t]!) }, routerRatio: medianRatio(routerRps, rps[t]!) };
  });
  const rows = results.map(
    (m) =>
      `| ${m.name} | ${m.c1.p50_us.toFixed(0)} | ${m.c1.p99_us.toFixed(0)} | ${m.c64.rps} | ${m.c64.p50_ms} | ${m.c64.p99_ms} | ${m.c64.errors} | ${m.stream_first_chunk.p50_us.toFixed(0)} | ${m.routerRatio.toFixed(2)} |`,
  );
  const measured = new Map(results.map((m) => [m.name, m]));
  const direct = measured.get('direct')!;
  const routed = measured.get('router')!;
  const nginx = measured.get('nginx');
  const directIndex = targets.findIndex(([name]) => name === 'direct');
  /** The median over rounds of a target's p50 less the direct one's in the same round. */
  const addedP50 = (target: number, of: (round: { c1: Latency; stream_first_chunk: Latency }) => Latency) =>
    Math.round(median(sequentialRounds[target]!.map((round, r) => of(round).p50_us - of(sequentialRounds[directIndex]![r]!).p50_us)));
  const summary = {
    added_p50_latency_c1_us: addedP50(routerIndex, (round) => round.c1),
    // The same hop through the plain undici proxy: what Node's HTTP server and client cost without a gateway.
    undici_proxy_added_p50_latency_c1_us: addedP50(targets.findIndex(([name]) => name === 'undici-proxy'), (round) => round.c1),
    added_p50_first_chunk_us: addedP50(routerIndex, (round) => round.stream_first_chunk),
    router_rps_c64: routed.c64.rps,
    router_vs_direct_rps_c64: Number(direct.routerRatio.toFixed(2)),
    // The yardsticks: 12,000 req/s where a plain undici proxy does ~10,000 and nginx ~55,000.
    router_vs_undici_proxy_rps_c64: Number(measured.get('undici-proxy')!.routerRatio.toFixed(2)),
    ...(nginx ? { router_vs_nginx_rps_c64: Number(nginx.routerRatio.toFixed(2)) } : {}),
    long_streams: {
      router_chunks_per_s: median(chunkRates[routerIndex]!),
      router_vs_direct: Number(medianRatio(chunkRates[routerIndex]!, chunkRates[directIndex]!).toFixed(2)),
      router_cpu_us_per_chunk: Number(routerCpuPerChunk.toFixed(1)),
    },
    idle_streams: memory,
  };
  console.log(
    [
      `Proxy benchmark (c=1 and first chunk: medians of ${SEQUENTIAL_ROUNDS} interleaved rounds of 2,000 and 400 requests; c=64 throughput: median of ${ROUNDS} interleaved rounds of ${SECONDS}s; 2,000 idle streams for memory)`,
      '',
      '| target | c=1 p50 µs | c=1 p99 µs | c=64 req/s | c=64 p50 ms | c=64 p99 ms | errors | stream first chunk p50 µs | router req/s ÷ target req/s |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Long streams (${LONG_STREAM_CHUNKS} chunks each, c=16, median of ${ROUNDS} interleaved rounds)`,
      '',
      '| target | chunks/s | errors | router chunks/s ÷ target chunks/s |',
      '|---|---|---|---|',
      ...streamRows,
      '',
      JSON.stringify(summary, null, 2),
    ].join('\n'),
  );
}

try {
  await main();
} finally {
  for (const child of children) child.kill('SIGKILL');
  nginxMaster?.kill('SIGTERM');
}
