import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

export interface Spawned {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Starts `switchyard ARGS` and resolves with its URL once a log line matching `ready` names the port. */
export function spawnSwitchyard(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<Spawned> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`switchyard ${args.join(' ')} did not start:\n${lines.join('\n')}`)), 15_000);
    const onLine = (line: string) => {
      if (lines.length < 50) lines.push(line);
      if (!ready.test(line)) return;
      clearTimeout(timer);
      const port = Number(/"port":(\d+)/.exec(line)?.[1]);
      resolve({
        child,
        url: `http://127.0.0.1:${port}`,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`switchyard ${args.join(' ')} exited:\n${lines.join('\n')}`));
    });
  });
}
