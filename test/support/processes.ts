import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';

const CLI = join(import.meta.dirname, '../../dist/cli.js');

export interface Proc {
  child: ChildProcess;
  port: number;
  url: string;
  /** Every stdout/stderr line so far (JSON log lines for the router). */
  lines: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<Proc>();

/** Spawns `switchyard ARGS` and resolves once a line matching `ready` names its port. */
export function spawnCli(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000, cwd?: string): Promise<Proc> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return whenReady(child, `switchyard ${args.join(' ')}`, ready, timeoutMs, (signal) => child.kill(signal));
}

/** Runs `npm start` in the repository, as a user would; stopping it signals the whole process group (npm, sh, node). */
export function spawnNpmStart(env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<Proc> {
  const child = spawn('npm', ['start'], { cwd: join(import.meta.dirname, '../..'), env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return whenReady(child, 'npm start', /router listening/, timeoutMs, (signal) => process.kill(-child.pid!, signal));
}

function whenReady(child: ChildProcess, what: string, ready: RegExp, timeoutMs: number, kill: (signal: NodeJS.Signals) => void): Promise<Proc> {
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not become ready:\n${lines.join('\n')}`)), timeoutMs);
    const onLine = (line: string) => {
      lines.push(line);
      if (!ready.test(line)) return;
      const port = Number(/"port":(\d+)/.exec(line)?.[1]);
      clearTimeout(timer);
      const proc: Proc = {
        child,
        port,
        url: `http://127.0.0.1:${port}`,
        lines,
        stop: async (signal = 'SIGKILL') => {
          running.delete(proc);
          if (child.exitCode === null && child.signalCode === null) kill(signal);
          return exited;
        },
      };
      running.add(proc);
      resolve(proc);
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${lines.join('\n')}`));
    });
  });
}

export interface SimArgs {
  models: string[];
  /** Fixed port (default: any free one). */
  port?: number;
  ttftMs?: number;
  tokensPerS?: number;
  maxConcurrency?: number;
  failStatus?: number;
  extra?: string[];
}

export function startSim(args: SimArgs): Promise<Proc> {
  const argv = ['sim', '--port', String(args.port ?? 0), '--model', args.models.join(',')];
  if (args.ttftMs !== undefined) argv.push('--ttft-ms', String(args.ttftMs));
  if (args.tokensPerS !== undefined) argv.push('--tokens-per-s', String(args.tokensPerS));
  if (args.maxConcurrency !== undefined) argv.push('--max-concurrency', String(args.maxConcurrency));
  if (args.failStatus !== undefined) argv.push('--fail-status', String(args.failStatus));
  argv.push(...(args.extra ?? []));
  return spawnCli(argv, /sim listening/);
}

/** Writes `config` as YAML to a temporary file; returns its path. */
export function writeConfig(config: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'switchyard-')), 'switchyard.yaml');
  writeFileSync(file, stringify({ host: '127.0.0.1', port: 0, ...config }));
  return file;
}

/**
 * Starts the router with `config` on a free port, with its SQLite store and log files beside the
 * config file (never in the working tree) unless `env` names others.
 */
export function startRouter(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<Proc> {
  const file = writeConfig(config);
  const dir = dirname(file);
  return spawnCli(['serve', '--config', file], /router listening/, { SQLITE_DB_PATH: join(dir, 'models.db'), LOG_DIR: join(dir, 'logs'), ...env });
}

/** Kills every process a test started and did not stop. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
