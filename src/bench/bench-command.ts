import { readFileSync, writeFileSync } from 'node:fs';
import { runLoad, type Arrivals } from './load-generator.js';
import { markdownTable, type BenchRun } from './report.js';
import { comparisonChart } from './svg-chart.js';
import { createWorkload, WORKLOAD_DEFAULTS, WORKLOAD_NAMES, type WorkloadName } from './workloads.js';

export interface BenchCommandOptions {
  url: string;
  model: string;
  workload: string;
  rate?: number;
  concurrency?: number;
  duration: number;
  maxTokens: number;
  label: string;
  apiKey?: string;
  groups: number;
  systemWords: number;
  skew: number;
  /** JSON result file to write. */
  out?: string;
  /** Earlier JSON results to put in the same table and chart. */
  compare: string[];
  chart?: string;
}

/** `switchyard bench`: one run against an endpoint, optionally tabled and charted with earlier runs. */
export async function benchCommand(o: BenchCommandOptions): Promise<string> {
  if (!(WORKLOAD_NAMES as readonly string[]).includes(o.workload)) throw new Error(`unknown workload "${o.workload}" (known: ${WORKLOAD_NAMES.join(', ')})`);
  if ((o.rate === undefined) === (o.concurrency === undefined)) throw new Error('give exactly one of --rate (open loop) or --concurrency (closed loop)');
  const arrivals: Arrivals = o.rate !== undefined ? { kind: 'poisson', ratePerS: o.rate } : { kind: 'closed', concurrency: o.concurrency! };
  const workload = createWorkload(o.workload as WorkloadName, { ...WORKLOAD_DEFAULTS, groups: o.groups, systemWords: o.systemWords, skew: o.skew });
  const { summary } = await runLoad(workload, { url: o.url, model: o.model, arrivals, durationS: o.duration, maxTokens: o.maxTokens, apiKey: o.apiKey });
  const run: BenchRun = { label: o.label, workload: o.workload, load: arrivals.kind === 'poisson' ? `poisson ${arrivals.ratePerS}/s` : `closed ${arrivals.concurrency}`, summary };
  if (o.out) writeFileSync(o.out, JSON.stringify(run, null, 2));
  const runs = [...o.compare.map((file) => JSON.parse(readFileSync(file, 'utf8')) as BenchRun), run];
  if (o.chart) writeFileSync(o.chart, comparisonChart(runs, `switchyard bench: ${o.model}`));
  return markdownTable(runs);
}
