import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { runLoad } from './load-generator.js';
import { sampleQueues } from './queue-sampler.js';
import { markdownTable, type BenchRun } from './report.js';
import { spawnSwitchyard, type Spawned } from './spawn.js';
import { comparisonChart } from './svg-chart.js';
import { createWorkload, WORKLOAD_DEFAULTS, WORKLOAD_NAMES, type WorkloadName } from './workloads.js';

/**
 * `npm run bench:routing`: four simulated engines behind the router, every policy on every
 * workload at the same Poisson rate, then a saturating rate for the load-balance check.
 * Engines are reset (prefix cache emptied) and the router restarted between runs, so no run
 * inherits another's cache.
 */
const POLICIES = ['round-robin', 'random', 'least-outstanding', 'least-load', 'latency', 'cost', 'session', 'cache-aware'];
const MODEL = 'sim-model';
/** KV capacity per engine: ~6 of the 16 shared-prefix groups fit in one engine, all 16 in the fleet of 4. */
const ENGINE_ARGS = ['--ttft-ms', '0', '--kv-blocks', '600', '--max-batch', '32'];

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '6' },
    rate: { type: 'string', default: '24' },
    'saturate-rate': { type: 'string', default: '60' },
    policies: { type: 'string', default: POLICIES.join(',') },
    workloads: { type: 'string', default: WORKLOAD_NAMES.join(',') },
    'max-tokens': { type: 'string', default: '24' },
    out: { type: 'string', default: 'bench-results' },
    chart: { type: 'string', default: 'docs/routing-bench.svg' },
    'router-config': { type: 'string', default: '{}' },
    skew: { type: 'string', default: '0' },
  },
});
const durationS = Number(values.duration);
const rate = Number(values.rate);
const policies = values.policies!.split(',');
const workloads = values.workloads!.split(',') as WorkloadName[];
const workloadOptions = { ...WORKLOAD_DEFAULTS, skew: Number(values.skew) };
const routerExtra = JSON.parse(values['router-config']!) as Record<string, unknown>;

async function startRouter(policy: string, engines: Spawned[]): Promise<Spawned> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const file = join(dir, 'switchyard.yaml');
  const routing = { ...(routerExtra.routing as Record<string, unknown> | undefined), policy };
  writeFileSync(file, stringify({ host: '127.0.0.1', port: 0, log_level: 'info', ...routerExtra, routing, services: engines.map((e, i) => ({ name: `engine-${i}`, url: e.url })) }));
  return spawnSwitchyard(['serve', '--config', file], /router listening/);
}

async function measure(engines: Spawned[], policy: string, workload: WorkloadName, ratePerS: number): Promise<BenchRun> {
  await Promise.all(engines.map((e) => fetch(`${e.url}/sim/reset`, { method: 'POST' })));
  const router = await startRouter(policy, engines);
  try {
    const queues = sampleQueues(Object.fromEntries(engines.map((e, i) => [`engine-${i}`, e.url])));
    const { summary } = await runLoad(createWorkload(workload, workloadOptions), {
      url: router.url,
      model: MODEL,
      arrivals: { kind: 'poisson', ratePerS },
      durationS,
      maxTokens: Number(values['max-tokens']),
      drainS: 20,
    });
    const run: BenchRun = { label: policy, workload, load: `poisson ${ratePerS}/s`, summary, queues: await queues.stop() };
    console.error(`${workload.padEnd(13)} ${policy.padEnd(17)} ttft p50 ${summary.ttftMs.p50} p99 ${summary.ttftMs.p99} hit ${(summary.prefixCacheHitRate * 100).toFixed(1)}% errors ${summary.errors}`);
    return run;
  } finally {
    await router.stop();
  }
}

const engines = await Promise.all([0, 1, 2, 3].map(() => spawnSwitchyard(['sim', '--port', '0', '--model', MODEL, ...ENGINE_ARGS], /sim listening/)));
const runs: BenchRun[] = [];
const saturation: BenchRun[] = [];
try {
  for (const workload of workloads) for (const policy of policies) runs.push(await measure(engines, policy, workload, rate));
  const saturating = Number(values['saturate-rate']) > 0 ? ['least-load', 'cache-aware'] : [];
  for (const policy of saturating.filter((p) => policies.includes(p))) {
    saturation.push(await measure(engines, policy, 'shared-prefix', Number(values['saturate-rate'])));
  }
} finally {
  await Promise.all(engines.map((e) => e.stop()));
}

mkdirSync(values.out!, { recursive: true });
const settings = { durationS, ratePerS: rate, saturateRatePerS: Number(values['saturate-rate']), maxTokens: Number(values['max-tokens']), engines: 4, engineArgs: ENGINE_ARGS, workload: workloadOptions, routerExtra };
writeFileSync(join(values.out!, 'routing.json'), JSON.stringify({ settings, runs, saturation }, null, 2));
const markdown = `${markdownTable(runs)}\n\nSaturation (shared-prefix):\n\n${markdownTable(saturation)}\n`;
writeFileSync(join(values.out!, 'routing.md'), markdown);
mkdirSync(join(values.chart!, '..'), { recursive: true });
writeFileSync(values.chart!, comparisonChart(runs, `Routing policies, 4 simulated engines, Poisson ${rate} req/s`));
console.log(markdown);
