import { spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '../../dist/cli.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `switchyard ARGS` to completion (asynchronously, so servers in the test process keep answering).
 * A command still running after `timeoutMs` is killed (code null): one that should have refused its
 * arguments and serves instead fails its test rather than hanging it.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string, timeoutMs = 20_000): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  child.once('close', () => clearTimeout(timer));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Provider variables blanked (an empty value counts as unset), so a developer's own keys never reach a test. */
export const NO_PROVIDER_ENV: NodeJS.ProcessEnv = Object.fromEntries(
  ['OPENAI', 'ANTHROPIC', 'GOOGLE', 'OPENROUTER', 'GROK', 'VENICE'].flatMap((p) => [[`${p}_BASE_URL`, ''], [`EXTERNAL_${p}_KEY`, '']]).concat([['LLMD_ENDPOINT', ''], ['LOCAL_AGENT_URL', ''], ['REGISTRATION_TOKEN', '']]),
);
