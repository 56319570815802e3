import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/**
 * A free loopback port for a server a test starts later on it (released before use). Drawn from
 * below the kernel's ephemeral range: a port there can be taken, between its release and its
 * use, as the source port of any outgoing connection on the machine, or by any `listen(0)` (a
 * late engine then failed to start with EADDRINUSE under a loaded full run).
 */
export async function freePort(): Promise<number> {
  const [ephemeralFrom] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const below = ephemeralFrom !== undefined && ephemeralFrom > 11_024 ? ephemeralFrom : undefined;
  for (;;) {
    const candidate = below === undefined ? 0 : below - 10_000 + Math.floor(Math.random() * 10_000);
    const port = await bindable(candidate);
    if (port !== undefined) return port;
  }
}

/** The port a loopback server could listen on (`port`, or any for 0); undefined when it is taken. */
function bindable(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error)));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
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
