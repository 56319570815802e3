#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from './config/load.js';
import { withDemoFleet } from './config/demo-fleet.js';
import { createLogger } from './observability/logger.js';
import { startRouter } from './server/router.js';
import { SIM_DEFAULTS, startSim } from './sim/server.js';
import { benchCommand, type BenchCommandOptions } from './bench/bench-command.js';
import { WORKLOAD_DEFAULTS } from './bench/workloads.js';

const program = new Command('switchyard').description('An OpenAI-compatible LLM router and gateway');

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
}

interface SimCliOptions {
  port: number;
  model: string;
  host: string;
  ttftMs: number;
  tokensPerS: number;
  maxBatch?: number;
  maxConcurrency: number;
  blockSize: number;
  kvBlocks: number;
  stepMs: number;
  prefillMsPerToken: number;
  decodeMsPerSeq: number;
  kvMsPer1kTokens: number;
  embeddingDimensions: number;
  failStatus?: number;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

/** Runs until SIGTERM/SIGINT, then `stop`s; a second signal exits at once. */
function untilSignal(stop: () => Promise<void>, log: { info: (msg: string) => void }): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info(`${signal} received: draining in-flight requests`);
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

program
  .command('serve')
  .description('Run the router (with no config file, in front of a simulated demo fleet)')
  .option('-c, --config <file>', 'YAML config file (default ./switchyard.yaml when present)')
  .option('-p, --port <port>', 'listen port (overrides config and PORT)', port)
  .option('--host <host>', 'listen address (overrides config and HOST)')
  .action(async (opts: { config?: string; port?: number; host?: string }) => {
    let loaded;
    try {
      loaded = loadConfig(opts.config);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(`switchyard: ${error.message}`);
      process.exit(2);
    }
    let config = { ...loaded.config, port: opts.port ?? loaded.config.port, host: opts.host ?? loaded.config.host };
    const log = createLogger(config.log_level);
    let stopDemo = async () => {};
    if (!loaded.file) ({ config, stop: stopDemo } = await withDemoFleet(config, log));
    const router = await startRouter(config, log);
    untilSignal(async () => {
      await router.close();
      await stopDemo();
    }, log);
  });

program
  .command('sim')
  .description('Run a simulated OpenAI-compatible inference engine')
  .requiredOption('-p, --port <port>', 'listen port', port)
  .requiredOption('-m, --model <names>', 'comma-separated model names')
  .option('--host <host>', 'listen address', '127.0.0.1')
  .option('--ttft-ms <ms>', 'fixed latency before a request is scheduled (floor of time to first token)', nonNegativeNumber, SIM_DEFAULTS.ttftMs)
  .option('--tokens-per-s <n>', 'decode speed cap per request (no step is shorter than 1000/n ms)', positiveNumber, SIM_DEFAULTS.tokensPerS)
  .option('--max-batch <n>', 'requests in the running batch (continuous batching); the rest wait in FIFO order', positiveNumber)
  .option('--max-concurrency <n>', 'older name of --max-batch', positiveNumber, SIM_DEFAULTS.maxBatch)
  .option('--block-size <tokens>', 'KV cache block size in tokens', positiveNumber, SIM_DEFAULTS.blockSize)
  .option('--kv-blocks <n>', 'KV cache capacity in blocks', positiveNumber, SIM_DEFAULTS.kvBlocks)
  .option('--step-ms <ms>', 'fixed time per engine step (α)', nonNegativeNumber, SIM_DEFAULTS.alphaMs)
  .option('--prefill-ms-per-token <ms>', 'step time per uncached prompt token (βp)', nonNegativeNumber, SIM_DEFAULTS.betaPrefillMs)
  .option('--decode-ms-per-seq <ms>', 'step time per decoding sequence (βd)', nonNegativeNumber, SIM_DEFAULTS.betaDecodeMs)
  .option('--kv-ms-per-1k-tokens <ms>', 'step time per 1,000 context tokens in the batch (βkv)', nonNegativeNumber, SIM_DEFAULTS.betaKvMs)
  .option('--embedding-dimensions <n>', 'embedding vector length', positiveNumber, SIM_DEFAULTS.embeddingDimensions)
  .option('--fail-status <code>', 'answer every inference request with this HTTP status', Number)
  .action(async (opts: SimCliOptions) => {
    const models = opts.model.split(',').map((m) => m.trim()).filter(Boolean);
    const sim = await startSim({
      ...opts,
      models,
      maxBatch: opts.maxBatch ?? opts.maxConcurrency,
      alphaMs: opts.stepMs,
      betaPrefillMs: opts.prefillMsPerToken,
      betaDecodeMs: opts.decodeMsPerSeq,
      betaKvMs: opts.kvMsPer1kTokens,
    });
    console.log(JSON.stringify({ msg: 'sim listening', port: sim.port, models }));
    untilSignal(() => sim.app.close(), { info: (msg) => console.log(JSON.stringify({ msg })) });
  });

program
  .command('bench')
  .description('Load-test an OpenAI-compatible endpoint with streaming chat completions; prints a Markdown table')
  .requiredOption('-u, --url <url>', 'base URL of the endpoint (without /v1)')
  .requiredOption('-m, --model <name>', 'model to request')
  .option('-w, --workload <name>', 'shared-prefix | multi-turn | random', 'shared-prefix')
  .option('--rate <n>', 'open loop: Poisson arrivals per second', positiveNumber)
  .option('--concurrency <n>', 'closed loop: clients each sending one request at a time', positiveNumber)
  .option('-d, --duration <s>', 'seconds of arrivals', positiveNumber, 30)
  .option('--max-tokens <n>', 'max_tokens of each request', positiveNumber, 64)
  .option('--label <text>', 'name of this run in tables and charts', 'run')
  .option('--api-key <key>', 'sent as Authorization: Bearer')
  .option('--groups <n>', 'shared-prefix: number of system prompts', positiveNumber, WORKLOAD_DEFAULTS.groups)
  .option('--system-words <n>', 'shared-prefix: words per system prompt', positiveNumber, WORKLOAD_DEFAULTS.systemWords)
  .option('--skew <s>', 'shared-prefix: Zipf exponent of group popularity (0 = uniform)', nonNegativeNumber, 0)
  .option('-o, --out <file>', 'write this run as JSON')
  .option('--compare <files>', 'comma-separated JSON results of earlier runs to table and chart with this one', (v) => v.split(','), [] as string[])
  .option('--chart <file>', 'write an SVG chart comparing the runs')
  .action(async (opts: BenchCommandOptions) => {
    try {
      console.log(await benchCommand(opts));
    } catch (error) {
      console.error(`switchyard bench: ${(error as Error).message}`);
      process.exit(2);
    }
  });

await program.parseAsync();
