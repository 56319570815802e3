import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface RedisProc {
  url: string;
  port: number;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered — a hung Redis. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** A free loopback port (released before use; good enough for a test-owned server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Starts a throwaway redis-server on loopback, without persistence; `port` reuses a previous one's. */
export async function startRedis(port?: number): Promise<RedisProc> {
  const chosen = port ?? (await freePort());
  const child: ChildProcess = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const lines: string[] = [];
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${lines.join('\n')}`)), 10_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`redis-server exited:\n${lines.join('\n')}`)));
  });
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface RedisMonitor {
  /** Each command Redis has run since the monitor started, as its quoted words (`['get', 'key']`). */
  readonly commands: string[][];
  close(): void;
}

/**
 * Watches every command Redis runs (MONITOR) through a plain socket: ioredis's monitor mode loses
 * its command queue when another client's command is logged in the same packet as MONITOR's OK.
 */
export async function monitorRedis(port: number): Promise<RedisMonitor> {
  const socket = connect(port, '127.0.0.1');
  const commands: string[][] = [];
  const lines = createInterface({ input: socket, crlfDelay: Infinity });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => socket.write('MONITOR\r\n'));
    lines.on('line', (line) => {
      if (line === '+OK') return resolve();
      // `+1795551756.154942 [0 127.0.0.1:46398] "get" "key"`: the words are quoted, with backslash escapes.
      const words = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1]!);
      if (words.length > 0) commands.push([words[0]!.toLowerCase(), ...words.slice(1)]);
    });
  });
  return { commands, close: () => socket.destroy() };
}
