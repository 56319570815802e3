#!/usr/bin/env node
import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { duration, host, httpUrl, integerBetween, modelNameList, nameList, nonNegativeNumber, port, positiveInteger, positiveNumber, statusFilter, timerMilliseconds } from './cli/arguments.js';
import { exitWithFailure } from './cli/failure.js';
import { loadConfig } from './config/load.js';
import { withDemoFleet } from './config/demo-fleet.js';
import { loadDotEnv } from './config/dotenv.js';
import type { Config } from './config/schema.js';
import { analyzeCommand, tailCommand } from './cli/logs-commands.js';
import { statusCommand } from './cli/status-command.js';
import { keysCommand } from './cli/keys-command.js';
import { createLogger } from './observability/logger.js';
import { explainRoute, formatExplanation } from './registry/explain-route.js';
import { explainPrompt, formatPromptExplanation } from './cli/route-prompt.js';
import { InvalidModelEntry } from './registry/model-entry.js';
import { addModel, formatModelTable, formatOpenAiRefresh, listModels, refreshOpenAiModels, removeModel } from './registry/model-commands.js';
import { formatTargets } from './registry/model-groups.js';
import { buildRoutingTable } from './registry/routing-table.js';
import { openDatabase, type Db } from './store/database.js';
import { startRouter } from './server/router.js';
import { MAX_DIMENSIONS, SIM_DEFAULTS, startSim } from './sim/server.js';
import { benchCommand, type BenchCommandOptions } from './bench/bench-command.js';
import { WORKLOAD_DEFAULTS } from './bench/workloads.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const program = new Command('switchyard').description('An OpenAI-compatible LLM router and gateway').version(version);

interface SimCliOptions {
  port: number;
  model: string[];
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
  .option('--host <host>', 'listen address (overrides config and HOST)', host)
  .action(async (opts: { config?: string; port?: number; host?: string }) => {
    const loaded = loadConfig(opts.config);
    let config = { ...loaded.config, port: opts.port ?? loaded.config.port, host: opts.host ?? loaded.config.host };
    const log = createLogger({
      level: config.log_level,
      file: config.logging.dir ? { dir: config.logging.dir, keepDays: config.logging.retention_days } : undefined,
      logPrompts: config.logging.log_prompts,
    });
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
  .requiredOption('-m, --model <names>', 'comma-separated model names', nameList)
  .option('--host <host>', 'listen address', host, '127.0.0.1')
  .option('--ttft-ms <ms>', 'fixed latency before a request is scheduled (floor of time to first token)', timerMilliseconds, SIM_DEFAULTS.ttftMs)
  .option('--tokens-per-s <n>', 'decode speed cap per request (no step is shorter than 1000/n ms)', positiveNumber, SIM_DEFAULTS.tokensPerS)
  .option('--max-batch <n>', 'requests in the running batch (continuous batching); the rest wait in FIFO order', positiveInteger)
  .option('--max-concurrency <n>', 'older name of --max-batch', positiveInteger, SIM_DEFAULTS.maxBatch)
  .option('--block-size <tokens>', 'KV cache block size in tokens', positiveInteger, SIM_DEFAULTS.blockSize)
  .option('--kv-blocks <n>', 'KV cache capacity in blocks', positiveInteger, SIM_DEFAULTS.kvBlocks)
  .option('--step-ms <ms>', 'fixed time per engine step (α)', timerMilliseconds, SIM_DEFAULTS.alphaMs)
  .option('--prefill-ms-per-token <ms>', 'step time per uncached prompt token (βp)', nonNegativeNumber, SIM_DEFAULTS.betaPrefillMs)
  .option('--decode-ms-per-seq <ms>', 'step time per decoding sequence (βd)', nonNegativeNumber, SIM_DEFAULTS.betaDecodeMs)
  .option('--kv-ms-per-1k-tokens <ms>', 'step time per 1,000 context tokens in the batch (βkv)', nonNegativeNumber, SIM_DEFAULTS.betaKvMs)
  .option('--embedding-dimensions <n>', 'embedding vector length', integerBetween(1, MAX_DIMENSIONS), SIM_DEFAULTS.embeddingDimensions)
  .option('--fail-status <code>', 'answer every inference request with this HTTP error status (400-599)', integerBetween(400, 599))
  .action(async (opts: SimCliOptions) => {
    const sim = await startSim({
      ...opts,
      models: opts.model,
      maxBatch: opts.maxBatch ?? opts.maxConcurrency,
      alphaMs: opts.stepMs,
      betaPrefillMs: opts.prefillMsPerToken,
      betaDecodeMs: opts.decodeMsPerSeq,
      betaKvMs: opts.kvMsPer1kTokens,
    });
    console.log(JSON.stringify({ msg: 'sim listening', port: sim.port, models: opts.model }));
    untilSignal(() => sim.app.close(), { info: (msg) => console.log(JSON.stringify({ msg })) });
  });

interface SourceFlags {
  config?: string;
  url?: string;
  db?: string;
  token?: string;
}

/** `--db`/`--token` fall back to the same config and environment (SQLITE_DB_PATH, ADMIN_TOKEN) the server reads. */
function sourceFrom(flags: SourceFlags): { url?: string; db: string; token?: string; port: number } {
  const { config } = loadConfig(flags.config);
  return { url: flags.url, db: flags.db ?? config.database_path, token: flags.token ?? config.admin_token, port: config.port };
}

/** Runs a registry command against the configured database; refused input exits 1 with its message. */
async function withDatabase(file: string | undefined, command: (db: Db, config: Config) => unknown, options?: { create: boolean }): Promise<void> {
  const { config } = loadConfig(file);
  const db = openDatabase(config.database_path, options);
  try {
    await command(db, config);
  } catch (error) {
    if (!(error instanceof InvalidModelEntry)) throw error;
    console.error(`switchyard: ${error.message}`);
    process.exitCode = 1;
  } finally {
    db.close();
  }
}

const models = program
  .command('models')
  .description('Manage the model registry (SQLITE_DB_PATH, default data/models.db); a running router picks up changes within seconds')
  .option('-c, --config <file>', 'YAML config file (for database_path and providers)');
const configFile = () => models.opts<{ config?: string }>().config;

models
  .command('add')
  .description('Add or replace a registry entry: a model at TYPE ENDPOINT, or a group of --target models; either may have --fallbacks')
  .argument('<name>', 'model name clients ask for')
  .argument('[type]', 'local, openai, llm-d, anthropic, google, openrouter, grok, venice or service')
  .argument('[endpoint]', 'http(s) base URL of the target')
  .argument('[kind]', 'api or weight', 'api')
  .option('--target <MODEL[@SERVICE][:WEIGHT]>', 'a weighted target of the group (repeatable)', (value: string, all: string[] = []) => [...all, value])
  .option('--fallbacks <models>', 'comma-separated models tried in order when every target failed')
  .action((name: string, type: string | undefined, endpoint: string | undefined, kind: string, opts: { target?: string[]; fallbacks?: string }) =>
    withDatabase(configFile(), (db) => {
      const entry = addModel(db, name, type, endpoint, kind, opts);
      const where = entry.endpoint ? `(${entry.type}, ${entry.kind}) → ${entry.endpoint}` : `→ ${formatTargets(entry.targets!)}`;
      console.log(`added ${entry.name} ${where}${entry.fallbacks.length > 0 ? `, falling back to ${entry.fallbacks.join(', ')}` : ''}`);
    }),
  );

models
  .command('list')
  .description('List registry entries')
  .option('--json', 'print JSON')
  .action((opts: { json?: boolean }) =>
    withDatabase(configFile(), (db) => {
      const rows = listModels(db);
      console.log(opts.json ? JSON.stringify(rows, null, 2) : formatModelTable(rows));
    }, { create: false }),
  );

models
  .command('remove')
  .description('Remove a registry entry')
  .argument('<name>')
  .action((name: string) =>
    withDatabase(configFile(), (db) => {
      removeModel(db, name);
      console.log(`removed ${name}`);
    }),
  );

models
  .command('refresh-openai')
  .description('Import the model list of OPENAI_BASE_URL (read with EXTERNAL_OPENAI_KEY); existing entries of the same name that point elsewhere are kept')
  .option('--force', 'replace existing entries of the same name that point elsewhere')
  .action((opts: { force?: boolean }) =>
    withDatabase(configFile(), async (db, config) => {
      console.log(formatOpenAiRefresh(await refreshOpenAiModels(db, config.providers, { force: opts.force })));
    }),
  );

program
  .command('route')
  .description('Show which target would serve MODEL and why, without sending anything')
  .argument('<model>')
  .option('-c, --config <file>', 'YAML config file (default ./switchyard.yaml when present)')
  .option('--prompt <text>', "ask a running router which replica this prompt would go to now (prefix affinity, load)")
  .option('--url <url>', 'router URL for --prompt (default: http://127.0.0.1:<configured port>)', httpUrl)
  .option('--token <token>', 'API key or admin token for --prompt, once the router requires keys (default: ADMIN_TOKEN)')
  .option('--previous-response <id>', 'with --prompt: ask about a Responses API request continuing this response (previous_response_id)')
  .option('--fallbacks <models>', 'with --prompt: comma-separated models the request names to fall back to (its fallbacks field)', modelNameList)
  .option('--json', 'print JSON')
  .action(async (model: string, opts: { config?: string; prompt?: string; url?: string; token?: string; previousResponse?: string; fallbacks?: string[]; json?: boolean }, command: Command) => {
    if (opts.previousResponse !== undefined && opts.prompt === undefined) command.error("error: option '--previous-response <id>' needs --prompt");
    if (opts.fallbacks !== undefined && opts.prompt === undefined) command.error("error: option '--fallbacks <models>' needs --prompt");
    const { config } = loadConfig(opts.config);
    if (opts.prompt !== undefined) {
      const asked = { token: opts.token ?? config.admin_token, previousResponse: opts.previousResponse, fallbacks: opts.fallbacks };
      const answer = await explainPrompt(opts.url ?? `http://127.0.0.1:${config.port}`, model, opts.prompt, asked);
      console.log(opts.json ? JSON.stringify(answer, null, 2) : formatPromptExplanation(answer));
      return;
    }
    // No store at that path yet (or a mistyped one): explained from the config alone, as a router started on it would route at first, and no file is made for it.
    const stored = existsSync(config.database_path);
    if (!stored) console.error(`switchyard: no database at ${config.database_path} (SQLITE_DB_PATH, database_path): explained without the model registry, agents and discovered models`);
    const log = createLogger('silent');
    const table = stored ? buildRoutingTable(config, log, { create: false }) : buildRoutingTable({ ...config, database_path: ':memory:' }, log);
    const explanation = explainRoute(model, table);
    table.db.close();
    console.log(opts.json ? JSON.stringify(explanation, null, 2) : formatExplanation(explanation));
    if (!explanation.routable) process.exitCode = 1;
  });

const withSource = (command: Command) =>
  command
    .option('-c, --config <file>', 'YAML config file (for the database path and admin token)')
    .option('--url <url>', "read from a running router's admin API instead of the database file", httpUrl)
    .option('--db <file>', "SQLite database (default: SQLITE_DB_PATH, else the config's database_path, else data/models.db)")
    .option('--token <token>', 'admin token for --url (default: ADMIN_TOKEN)');

const logs = program.command('logs').description('Read the request log');

withSource(logs.command('tail').description('Print recent requests, then new ones as they arrive'))
  .option('--model <model>', 'only this model')
  .option('--status <status>', 'only this status code (502) or class (5xx)', statusFilter)
  .option('-n, --lines <n>', 'recent requests shown first', positiveInteger, 20)
  .action(async (flags: SourceFlags & { model?: string; status?: string; lines: number }) => {
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    process.once('SIGTERM', () => stop.abort());
    await tailCommand({ ...sourceFrom(flags), model: flags.model, status: flags.status, lines: flags.lines, intervalMs: 500, color: Boolean(process.stdout.isTTY) }, (line) => console.log(line), stop.signal);
  });

withSource(logs.command('analyze').description('Counts, error rates, latency percentiles, tokens and cost by model and target'))
  .option('--last <duration>', 'period to analyze, e.g. 15m, 1h, 7d', duration, '1h')
  .option('--model <model>', 'only this model')
  .action(async (flags: SourceFlags & { last: string; model?: string }) => {
    console.log(await analyzeCommand({ ...sourceFrom(flags), last: flags.last, model: flags.model }));
  });

program
  .command('status')
  .description("The fleet at a glance, from a running router's admin API")
  .option('-c, --config <file>', 'YAML config file (for the port and admin token)')
  .option('--url <url>', 'router URL (default: http://127.0.0.1:<configured port>)', httpUrl)
  .option('--token <token>', 'admin token (default: ADMIN_TOKEN)')
  .option('--json', "print the router's fleet state (GET /admin/fleet) as JSON instead of the table")
  .action(async (flags: SourceFlags & { json?: boolean }) => {
    const source = sourceFrom(flags);
    console.log(await statusCommand({ url: source.url ?? `http://127.0.0.1:${source.port}`, token: source.token, color: Boolean(process.stdout.isTTY), json: Boolean(flags.json) }));
  });
program
  .command('bench')
  .description('Load-test an OpenAI-compatible endpoint with streaming chat completions; prints a Markdown table')
  .requiredOption('-u, --url <url>', 'base URL of the endpoint (without /v1)', httpUrl)
  .requiredOption('-m, --model <name>', 'model to request')
  .option('-w, --workload <name>', 'shared-prefix | multi-turn | random', 'shared-prefix')
  .option('--rate <n>', 'open loop: Poisson arrivals per second', positiveNumber)
  .option('--concurrency <n>', 'closed loop: clients each sending one request at a time', positiveInteger)
  .option('-d, --duration <s>', 'seconds of arrivals', positiveNumber, 30)
  .option('--max-tokens <n>', 'max_tokens of each request', positiveInteger, 64)
  .option('--label <text>', 'name of this run in tables and charts', 'run')
  .option('--api-key <key>', 'sent as Authorization: Bearer')
  .option('--groups <n>', 'shared-prefix: number of system prompts', positiveInteger, WORKLOAD_DEFAULTS.groups)
  .option('--system-words <n>', 'shared-prefix: words per system prompt', positiveInteger, WORKLOAD_DEFAULTS.systemWords)
  .option('--skew <s>', 'shared-prefix: Zipf exponent of group popularity (0 = uniform)', nonNegativeNumber, 0)
  .option('-o, --out <file>', 'write this run as JSON')
  .option('--compare <files>', 'comma-separated JSON results of earlier runs to table and chart with this one', (v) => v.split(','), [] as string[])
  .option('--chart <file>', 'write an SVG chart comparing the runs')
  .action(async (opts: BenchCommandOptions) => {
    console.log(await benchCommand(opts));
  });
program.addCommand(keysCommand());

try {
  loadDotEnv();
  await program.parseAsync();
} catch (error) {
  exitWithFailure(error);
}
