import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
  // Checked before the run, so that a mistyped file fails at once rather than after it.
  const earlier = o.compare.map(readRun);
  for (const file of [o.out, o.chart]) if (file) assertWritableDirectory(file);
  const workload = createWorkload(o.workload as WorkloadName, { ...WORKLOAD_DEFAULTS, groups: o.groups, systemWords: o.systemWords, skew: o.skew });
  const { summary, samples } = await runLoad(workload, { url: o.url, model: o.model, arrivals, durationS: o.duration, maxTokens: o.maxTokens, apiKey: o.apiKey });
  // A table of zeros would read as a result: a run without one answer is a failure, with its first reason.
  if (summary.requests > 0 && summary.errors === summary.requests) throw new Error(`all ${summary.requests} requests failed; the first: ${samples[0]!.error}`);
  const run: BenchRun = { label: o.label, workload: o.workload, load: arrivals.kind === 'poisson' ? `poisson ${arrivals.ratePerS}/s` : `closed ${arrivals.concurrency}`, summary };
  if (o.out) writeFileSync(o.out, JSON.stringify(run, null, 2));
  const runs = [...earlier, run];
  if (o.chart) writeFileSync(o.chart, comparisonChart(runs, `switchyard bench: ${o.model}`));
  return markdownTable(runs);
}

function readRun(file: string): BenchRun {
  let run: BenchRun;
  try {
    run = JSON.parse(readFileSync(file, 'utf8')) as BenchRun;
  } catch (error) {
    throw new Error(`cannot read the earlier run ${file}: ${(error as Error).message}`);
  }
  if (typeof run?.label !== 'string' || typeof run.summary?.requestsPerS !== 'number') throw new Error(`${file} is not a result of switchyard bench -o`);
  return run;
}

function assertWritableDirectory(file: string): void {
  try {
    accessSync(dirname(resolve(file)), constants.W_OK);
  } catch (error) {
    throw new Error(`cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
