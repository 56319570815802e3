#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from './config/load.js';
import { withDemoFleet } from './config/demo-fleet.js';
import { keysCommand } from './keys-command.js';
import { createLogger } from './observability/logger.js';
import { startRouter } from './server/router.js';
import { SIM_DEFAULTS, startSim } from './sim/server.js';

const program = new Command('switchyard').description('An OpenAI-compatible LLM router and gateway');

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
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
  .option('--ttft-ms <ms>', 'time to first token', Number, SIM_DEFAULTS.ttftMs)
  .option('--tokens-per-s <n>', 'decode speed per request', positiveNumber, SIM_DEFAULTS.tokensPerS)
  .option('--max-concurrency <n>', 'requests generated at once; the rest queue', positiveNumber, SIM_DEFAULTS.maxConcurrency)
  .option('--embedding-dimensions <n>', 'embedding vector length', positiveNumber, SIM_DEFAULTS.embeddingDimensions)
  .option('--fail-status <code>', 'answer every inference request with this HTTP status', Number)
  .action(async (opts: { port: number; model: string; host: string; ttftMs: number; tokensPerS: number; maxConcurrency: number; embeddingDimensions: number; failStatus?: number }) => {
    const models = opts.model.split(',').map((m) => m.trim()).filter(Boolean);
    const sim = await startSim({ ...opts, models });
    console.log(JSON.stringify({ msg: 'sim listening', port: sim.port, models }));
    untilSignal(() => sim.app.close(), { info: (msg) => console.log(JSON.stringify({ msg })) });
  });

program.addCommand(keysCommand());

await program.parseAsync();
