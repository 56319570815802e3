import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_PROVIDER_ENV, runCli, type CliResult } from './support/cli.js';
import { closedLoopbackPort, listenOnLoopback } from './support/http.js';
import { startRouter, startSim, stopAll, waitFor, writeConfig } from './support/processes.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'switchyard-cli-'));

/** What an operator should see when a command cannot go on: one `switchyard:` line, status 2, no stack. */
function expectFailure(result: CliResult, message: RegExp): void {
  expect(result.stderr).toMatch(/^switchyard: [^\n]+\n$/);
  expect(result.stderr).toMatch(message);
  expect(result.stdout).toBe('');
  expect(result.code).toBe(2);
}

/** A refused argument: commander's one line naming the option, status 1, and the command never ran. */
function expectRefusedArgument(result: CliResult, message: RegExp): void {
  expect(result.stderr).toMatch(message);
  expect(result.stdout).toBe('');
  expect(result.code).toBe(1);
}

describe('switchyard --version', () => {
  it("prints the package's version", async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8')) as { version: string };
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('commands that cannot go on', () => {
  it('name a database they cannot open, by its path', async () => {
    const dir = tempDir();
    const notADirectory = join(dir, 'a-file');
    writeFileSync(notADirectory, 'x');
    const notADatabase = join(dir, 'garbage.db');
    writeFileSync(notADatabase, 'this is not SQLite');
    for (const db of [join(notADirectory, 'models.db'), notADatabase]) {
      // A path with no database at all is no failure for route: see below.
      for (const args of [['models', 'list'], ['keys', 'list'], ...(db === notADatabase ? [['route', 'm']] : [])]) {
        expectFailure(await runCli(args, { SQLITE_DB_PATH: db }, dir), new RegExp(`cannot open the database ${db} \\(SQLITE_DB_PATH, database_path\\): `));
      }
    }
  });

  // procfs answers ENOENT for a directory it will not make: Node's recursive mkdir takes that for a missing parent and tries again, forever.
  it.runIf(existsSync('/proc/self'))('fail at once on a database or log directory they cannot make, /proc included', async () => {
    const dir = tempDir();
    const unmakeable = '/proc/self/switchyard';
    for (const args of [['models', 'add', 'm', 'local', 'http://127.0.0.1:9'], ['keys', 'create', 'ci']]) {
      expectFailure(await runCli(args, { SQLITE_DB_PATH: `${unmakeable}/models.db` }, dir, 10_000), /cannot open the database \/proc\/self\/switchyard\/models\.db \(SQLITE_DB_PATH, database_path\): ENOENT: no such file or directory, mkdir '\/proc\/self\/switchyard'$/m);
    }
    const env = { SQLITE_DB_PATH: join(dir, 'models.db'), PORT: '0' };
    const config = writeConfig({ services: [] });
    const badLogs = await runCli(['serve', '--config', config], { ...env, LOG_DIR: `${unmakeable}/logs` }, dir, 10_000);
    expectFailure(badLogs, /^switchyard: cannot write the log file \/proc\/self\/switchyard\/logs\/router\.log \(LOG_DIR or LOG_PATH, logging\.dir\): ENOENT: no such file or directory, mkdir '\/proc\/self\/switchyard'\n$/);
    const badDb = await runCli(['serve', '--config', config], { ...env, LOG_DIR: join(dir, 'logs'), SQLITE_DB_PATH: `${unmakeable}/models.db` }, dir, 10_000);
    expect(badDb.stderr).toMatch(/^switchyard: cannot open the database \/proc\/self\/switchyard\/models\.db \(SQLITE_DB_PATH, database_path\): ENOENT[^\n]*\n$/);
    expect(badDb.code).toBe(2);
    // Directories that can be made still are, however deep.
    expect((await runCli(['keys', 'create', 'ci'], { SQLITE_DB_PATH: join(dir, 'a', 'b', 'models.db') }, dir)).code).toBe(0);
    expect(existsSync(join(dir, 'a', 'b', 'models.db'))).toBe(true);
  });

  it('that only read the store refuse a path with no database, creating nothing', async () => {
    const dir = tempDir();
    const mistyped = join(dir, 'modles.db');
    writeFileSync(join(dir, 'none.yaml'), 'port: 8000\n');
    for (const args of [['logs', 'analyze', '--db', mistyped], ['logs', 'tail', '--db', mistyped], ['keys', 'list', '--config', 'none.yaml'], ['models', 'list']]) {
      const message = args[0] === 'logs' ? /no request log at .*modles\.db: point --db/ : /cannot open the database .*modles\.db \(SQLITE_DB_PATH, database_path\): no such file/;
      expectFailure(await runCli(args, { SQLITE_DB_PATH: mistyped }, dir), message);
      expect(existsSync(mistyped), args.join(' ')).toBe(false);
    }
  });

  it('route explains a model from the config alone at a path with no database, saying so, creating nothing', async () => {
    const dir = tempDir();
    const config = join(dir, 'switchyard.yaml');
    writeFileSync(config, 'services:\n  - name: gpu-0\n    url: http://127.0.0.1:9\n    models: [m]\n');
    for (const missing of [join(dir, 'modles.db'), join(dir, 'no', 'such', 'dir', 'models.db')]) {
      const routed = await runCli(['route', 'm', '--config', config, '--json'], { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: missing }, dir);
      expect(routed.code).toBe(0);
      expect(JSON.parse(routed.stdout)).toMatchObject({ model: 'm', routable: true, targets: [{ name: 'gpu-0' }] });
      expect(routed.stderr).toBe(`switchyard: no database at ${missing} (SQLITE_DB_PATH, database_path): explained without the model registry, agents and discovered models\n`);
      const unknown = await runCli(['route', 'not-configured', '--config', config], { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: missing }, dir);
      expect(unknown.code).toBe(1);
      expect(unknown.stdout).toContain('404');
    }
    expect(readdirSync(dir)).toEqual(['switchyard.yaml']);
    // With a database, its registry too, and nothing said.
    const db = join(dir, 'models.db');
    expect((await runCli(['models', 'add', 'registered', 'local', 'http://127.0.0.1:9'], { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: db }, dir)).code).toBe(0);
    const registered = await runCli(['route', 'registered', '--config', config, '--json'], { ...NO_PROVIDER_ENV, SQLITE_DB_PATH: db }, dir);
    expect(registered).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(registered.stdout)).toMatchObject({ routable: true });
  });

  it('that read the request log from a file (logs --db) neither migrate nor take over one that is not this version\'s store', async () => {
    const dir = tempDir();
    const foreign = join(dir, 'other.db');
    const older = join(dir, 'older.db');
    for (const [file, version] of [[foreign, 0], [older, 2]] as const) {
      const db = new Database(file);
      db.exec('CREATE TABLE notes (text TEXT)');
      db.pragma(`user_version = ${version}`);
      db.close();
    }
    const tables = (file: string) => {
      const db = new Database(file, { readonly: true });
      const names = db.prepare('SELECT name FROM sqlite_master').pluck().all();
      db.close();
      return names;
    };
    for (const [file, message] of [[foreign, /not a Switchyard database/], [older, /written by an older Switchyard \(schema 2 of \d+\): start this version's router on it/]] as const) {
      for (const command of ['analyze', 'tail']) {
        expectFailure(await runCli(['logs', command, '--db', file], {}, dir), message);
        expect(tables(file), command).toEqual(['notes']);
      }
    }
  });

  it('that read the request log from a file (logs --db) leave no -wal or -shm file beside one no router has open, and leave a running router\'s alone', async () => {
    const dir = tempDir();
    const file = join(dir, 'models.db');
    expect((await runCli(['keys', 'create', 'ci'], { SQLITE_DB_PATH: file }, dir)).code).toBe(0);
    expect(readdirSync(dir)).toEqual(['models.db']);
    expect(await runCli(['logs', 'analyze', '--db', file], {}, dir)).toMatchObject({ code: 0, stdout: expect.stringContaining('no requests') });
    expect(readdirSync(dir)).toEqual(['models.db']);
    // tail, stopped as an operator stops it, once it has the file open.
    const tail = spawn(process.execPath, [join(import.meta.dirname, '../dist/cli.js'), 'logs', 'tail', '--db', file], { cwd: dir, stdio: 'ignore' });
    const exited = new Promise((resolve) => tail.once('exit', resolve));
    await waitFor(() => existsSync(`${file}-shm`), 'logs tail to open the database');
    tail.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(readdirSync(dir)).toEqual(['models.db']);
    // Refused (an older schema), in WAL mode: nothing left either.
    const older = join(dir, 'older.db');
    const made = new Database(older);
    made.pragma('journal_mode = WAL');
    made.pragma('user_version = 2');
    made.close();
    expectFailure(await runCli(['logs', 'analyze', '--db', older], {}, dir), /written by an older Switchyard/);
    expect(readdirSync(dir).sort()).toEqual(['models.db', 'older.db']);
    // A router's connection (this one, writing) keeps its files, and goes on reading and writing.
    const router = new Database(file);
    router.exec('CREATE TABLE scratch (n INTEGER)');
    router.prepare('INSERT INTO scratch VALUES (?)').run(1);
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect((await runCli(['logs', 'analyze', '--db', file], {}, dir)).code).toBe(0);
    expect(existsSync(`${file}-wal`) && existsSync(`${file}-shm`)).toBe(true);
    router.prepare('INSERT INTO scratch VALUES (?)').run(2);
    expect(router.prepare('SELECT count(*) FROM scratch').pluck().get()).toBe(2);
    router.close();
    expect(readdirSync(dir).sort()).toEqual(['models.db', 'older.db']);
  });

  it('say that the port is in use (serve and sim), and give the stack only at LOG_LEVEL debug', async () => {
    const taken = createServer();
    const port = Number(new URL(await listenOnLoopback(taken)).port);
    try {
      const config = writeConfig({ port });
      const dir = dirname(config);
      const env = { SQLITE_DB_PATH: join(dir, 'models.db'), LOG_DIR: join(dir, 'logs') };
      const serve = await runCli(['serve', '--config', config], env);
      expect(serve.stderr).toMatch(/^switchyard: listen EADDRINUSE: address already in use 127\.0\.0\.1:\d+\n$/m);
      expect(serve.stderr).not.toMatch(/\n\s+at /);
      expect(serve.code).toBe(2);
      expectFailure(await runCli(['sim', '--port', String(port), '--model', 'm']), /EADDRINUSE/);
      const debug = await runCli(['sim', '--port', String(port), '--model', 'm'], { LOG_LEVEL: 'debug' });
      expect(debug.stderr).toMatch(/^switchyard: listen EADDRINUSE[^\n]*\nError: listen EADDRINUSE[^\n]*\n\s+at /);
      expect(debug.code).toBe(2);
    } finally {
      taken.close();
    }
  });

  it('say why a .env they cannot read is unreadable', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.env'));
    expectFailure(await runCli(['route', 'm'], { SQLITE_DB_PATH: join(dir, 'models.db') }, dir), /^switchyard: cannot read \.env: EISDIR/);
  });

  it('refuse a REDIS_URL ioredis would misread at start-up, naming the variable, rather than serve on local state', async () => {
    const dir = tempDir();
    const env = { SQLITE_DB_PATH: join(dir, 'models.db'), LOG_DIR: join(dir, 'logs'), PORT: '0', REDIS_URL: 'http://localhost:6379' };
    const serve = await runCli(['serve', '--config', writeConfig({ services: [] })], env, dir, 10_000);
    expect(serve.stderr).toMatch(/^switchyard: invalid config file [^\n]+:\n  redis\.url \(from the environment variable REDIS_URL\): must be a redis:\/\/ or rediss:\/\/ URL [^\n]+\n$/);
    expect(serve.code).toBe(2);
  });

  it('refuse a config file whose top level is not a mapping, naming the file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'list.yaml'), '- port: 8000\n');
    expectFailure(await runCli(['route', 'm', '--config', 'list.yaml'], { SQLITE_DB_PATH: join(dir, 'models.db') }, dir), /invalid config file list\.yaml: the top level must be a mapping of keys .*, not a list/);
  });
});

describe('debugging commands asking a router', () => {
  let notARouter: Server;
  let notARouterUrl: string;
  beforeAll(async () => {
    notARouter = createServer((request, response) => {
      response.writeHead(request.url!.startsWith('/ok') ? 200 : 502, { 'content-type': 'text/html' });
      response.end('<html>Bad gateway</html>');
    });
    notARouterUrl = await listenOnLoopback(notARouter);
  });
  afterAll(() => notARouter.close());

  const commands = (url: string) => [
    ['status', '--url', url],
    ['logs', 'analyze', '--url', url],
    ['route', 'm', '--prompt', 'hi', '--url', url],
  ];

  it('say which address they could not reach, and why', async () => {
    const url = `http://127.0.0.1:${await closedLoopbackPort()}`;
    for (const args of commands(url)) expectFailure(await runCli(args), new RegExp(`cannot reach ${url}: ECONNREFUSED`));
  });

  it('say when the router does not answer, within seconds, rather than wait for it', async () => {
    const silent = createServer(() => {});
    const url = await listenOnLoopback(silent);
    try {
      const results = await Promise.all(commands(url).map((args) => runCli(args)));
      for (const result of results) expectFailure(result, new RegExp(`^switchyard: ${url} did not answer within 10 s\n$`));
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('say when what answered is not a router, whether it answers an error or a 200', async () => {
    for (const url of [notARouterUrl, `${notARouterUrl}/ok`]) {
      for (const args of commands(url)) expectFailure(await runCli(args), /answered (502|200)(:|,) not as a Switchyard router answers: is that the router's address\?/);
    }
  });

  it('refuse a --url that is not an http(s) URL before sending anything', async () => {
    for (const args of [...commands('localhost:8000'), ['logs', 'tail', '--url', 'localhost:8000'], ['bench', '--url', 'localhost:8000', '--model', 'm', '--concurrency', '1']]) {
      expectRefusedArgument(await runCli(args), /option '(-u, )?--url <url>' argument 'localhost:8000' is invalid\. expected an http:\/\/ or https:\/\/ URL/);
    }
  });
});

describe('switchyard route GROUP --prompt', () => {
  afterAll(stopAll);

  it("prints each model of the group's chain with the replica it would go to, or the error it would get", async () => {
    const sim = await startSim({ models: ['m1'], ttftMs: 0 });
    const router = await startRouter(
      {
        services: [
          { name: 'gpu', url: sim.url, models: ['m1'] },
          { name: 'gpu-with-a-rather-long-name', url: sim.url, models: ['m1'] },
        ],
        model_groups: { smart: { targets: [{ model: 'm1' }], fallbacks: ['gpt-4o'] } },
      },
      NO_PROVIDER_ENV,
    );
    const result = await runCli(['route', 'smart', '--prompt', 'hi', '--url', router.url], NO_PROVIDER_ENV);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 4)).toEqual([
      "smart  (model group 'smart': m1 (weight 1), then falling back to gpt-4o)",
      'group: smart',
      '  m1 (weight 1) → gpu  (policy least-outstanding)',
      '    resolved: served by a configured service or registered agent',
    ]);
    // Candidates are a table: columns stay aligned whatever the length of the replicas' names.
    expect(lines.slice(lines.indexOf('    candidates:') + 1, lines.indexOf('fallback: gpt-4o'))).toEqual([
      '      replica                      in-flight  load  routed  affinity hits',
      '      ---------------------------  ---------  ----  ------  -------------',
      '      gpu                                  0     0       0              0',
      '      gpu-with-a-rather-long-name          0     0       0              0',
    ]);
    expect(lines.at(-1)).toBe("    result: 503 The provider 'openai' is not configured: set EXTERNAL_OPENAI_KEY");
  });
});

describe('switchyard status --json', () => {
  afterAll(stopAll);

  it("prints the router's fleet state that the table is made of, as JSON alone on stdout", async () => {
    const sim = await startSim({ models: ['m1'], ttftMs: 0 });
    const router = await startRouter({ services: [{ name: 'gpu', url: sim.url, models: ['m1'] }] }, NO_PROVIDER_ENV);
    const result = await runCli(['status', '--json', '--url', router.url], NO_PROVIDER_ENV);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const fleet = JSON.parse(result.stdout) as { services: Array<Record<string, unknown>>; activity: Record<string, unknown> };
    expect(fleet.services).toEqual([expect.objectContaining({ name: 'gpu', kind: 'service', healthy: true, models: ['m1'], in_flight: 0, request_count: 0, cooldown: expect.objectContaining({ state: 'ok' }) })]);
    expect(fleet.activity).toMatchObject({ requests: 0, failed: 0, retries: 0 });
  });
});

describe('switchyard sim', () => {
  it('refuses flag values it cannot simulate instead of starting with them', async () => {
    const refusals: Array<[string[], RegExp]> = [
      [['--model', ' , '], /option '-m, --model <names>' argument ' , ' is invalid\. expected at least one name/],
      [['--fail-status', 'abc'], /option '--fail-status <code>' argument 'abc' is invalid\. expected a whole number from 400 to 599/],
      [['--fail-status', '200'], /--fail-status <code>' argument '200' is invalid/],
      [['--max-batch', '1.5'], /--max-batch <n>' argument '1\.5' is invalid\. expected a positive integer/],
      [['--block-size', '0.5'], /--block-size <tokens>' argument '0\.5' is invalid/],
      [['--kv-blocks', '100.5'], /--kv-blocks <n>' argument '100\.5' is invalid/],
      [['--ttft-ms', '3e9'], /--ttft-ms <ms>' argument '3e9' is invalid\. expected a number of milliseconds from 0 to 2147483647/],
      [['--embedding-dimensions', '100000'], /--embedding-dimensions <n>' argument '100000' is invalid\. expected a whole number from 1 to 16384/],
    ];
    const results = await Promise.all(refusals.map(([flags]) => runCli(['sim', '--port', '0', '--model', 'm', ...flags], {}, undefined, 10_000)));
    results.forEach((result, i) => expectRefusedArgument(result, refusals[i]![1]));
  });
});

describe('switchyard bench', () => {
  let failing: Server;
  let failingUrl: string;
  beforeAll(async () => {
    failing = createServer((_, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html>Bad gateway</html>');
    });
    failingUrl = await listenOnLoopback(failing);
  });
  afterAll(() => failing.close());

  it('fails when every request failed, with the first reason, rather than print a table of zeros', async () => {
    expectFailure(await runCli(['bench', '--url', failingUrl, '--model', 'm', '--concurrency', '1', '--duration', '0.5']), /^switchyard: all \d+ requests failed; the first: HTTP 502: <html>Bad gateway<\/html>/);
  });

  it('checks the --compare files and where -o goes before the run, so that a mistyped one fails at once', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'other.json'), '{"not":"a bench result"}');
    const started = Date.now();
    expectFailure(await runCli(['bench', '--url', failingUrl, '--model', 'm', '--concurrency', '1', '--duration', '60', '--compare', 'missing.json'], {}, dir), /cannot read the earlier run missing\.json: ENOENT/);
    expectFailure(await runCli(['bench', '--url', failingUrl, '--model', 'm', '--concurrency', '1', '--duration', '60', '--compare', 'other.json'], {}, dir), /other\.json is not a result of switchyard bench -o/);
    expectFailure(await runCli(['bench', '--url', failingUrl, '--model', 'm', '--concurrency', '1', '--duration', '60', '-o', 'no-such-dir/run.json'], {}, dir), /cannot write no-such-dir\/run\.json: ENOENT/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('option values out of range', () => {
  it('are refused: counts that are not whole numbers, a blank listen address', async () => {
    for (const args of [['serve', '--host', ' '], ['sim', '--port', '0', '--model', 'm', '--host', '']]) {
      expectRefusedArgument(await runCli(args, {}, undefined, 10_000), /option '--host <host>' argument ' ?' is invalid\. expected a host name or address/);
    }
    expectRefusedArgument(await runCli(['bench', '--url', 'http://127.0.0.1:9', '--model', 'm', '--concurrency', '1.5']), /--concurrency <n>' argument '1\.5' is invalid\. expected a positive integer/);
    expectRefusedArgument(await runCli(['logs', 'tail', '-n', '2.5']), /--lines <n>' argument '2\.5' is invalid\. expected a positive integer/);
  });

  it("are decimal, as the environment's numbers: a blank or hexadecimal number is refused, not read as 0 (any free port) or 80", async () => {
    for (const value of ['', ' ', '0x50']) {
      expectRefusedArgument(await runCli(['serve', '--port', value], {}, undefined, 10_000), /--port <port>' argument '.*' is invalid\. expected a port number/);
      expectRefusedArgument(await runCli(['keys', 'create', 'ci', '--rpm', value], { SQLITE_DB_PATH: join(tempDir(), 'models.db') }), /--rpm <n>' argument '.*' is invalid\. expected a positive integer/);
    }
  });
});

describe('switchyard keys create', () => {
  it('refuses a blank name, one with control characters, and a --models list without a model or with a name no request may carry, creating nothing', async () => {
    const env = { SQLITE_DB_PATH: join(tempDir(), 'models.db') };
    expectRefusedArgument(await runCli(['keys', 'create', '  '], env), /value '  ' is invalid for argument 'name'\. expected a name/);
    expectRefusedArgument(await runCli(['keys', 'create', 'ops\u001b[2J'], env), /for argument 'name'\. "ops\\u001b\[2J" is not a key name: a name has no control characters/);
    expectRefusedArgument(await runCli(['keys', 'create', 'ci', '--models', ' , '], env), /--models <names>' argument ' , ' is invalid\. expected at least one name/);
    expectRefusedArgument(await runCli(['keys', 'create', 'ci', '--models', 'm1,m2\u0007'], env), /--models <names>' argument .* is invalid\. "m2\\u0007" is not a model name a request may carry/);
    expect(existsSync(env.SQLITE_DB_PATH)).toBe(false);
    const created = JSON.parse((await runCli(['keys', 'create', ' ci ', '--models', 'm1, m2'], env)).stdout) as { name: string; models: string[] };
    expect(created).toMatchObject({ name: 'ci', models: ['m1', 'm2'] });
  });
});

describe('switchyard keys revoke with Redis unreachable', () => {
  it('prints the revoked key as JSON alone on stdout, and the warning on stderr', async () => {
    const env = { SQLITE_DB_PATH: join(tempDir(), 'models.db'), REDIS_URL: `redis://127.0.0.1:${await closedLoopbackPort()}` };
    expect((await runCli(['keys', 'create', 'leaked'], env)).code).toBe(0);
    const revoked = await runCli(['keys', 'revoke', 'leaked'], env);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ name: 'leaked', revoked: true });
    expect(revoked.stderr).toBe('switchyard: redis is unreachable; running routers refuse the key once they re-read it (within api_keys.cache_ttl_s)\n');
  });
});
