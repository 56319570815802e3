import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { modelNameList, positiveInteger, positiveNumber } from './arguments.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { isPlausibleName, NAME_RULE } from '../server/validate.js';
import { ApiKeyStore, describeKey, unrevokedReason } from '../store/api-keys.js';
import { openDatabase } from '../store/database.js';

function withStore<T>(file: string | undefined, use: (store: ApiKeyStore, config: Config) => T, options?: { create: boolean }): T {
  const { config } = loadConfig(file);
  const db = openDatabase(config.database_path, options);
  try {
    return use(new ApiKeyStore(db), config);
  } finally {
    db.close();
  }
}

/** Trimmed and checked as the admin API takes it: a blank name would list as nothing and could be revoked by no name. */
function keyName(value: string): string {
  const name = value.trim();
  if (name === '') throw new InvalidArgumentError('expected a name');
  if (!isPlausibleName(name)) throw new InvalidArgumentError(`${JSON.stringify(name)} is not a key name: ${NAME_RULE}`);
  return name;
}

/** Tells running instances at once, through Redis, when it is configured. */
async function announceRevocation(config: Config, keyHash: string): Promise<void> {
  if (!config.redis) return;
  // Silent: its lines (on stdout, about a router's local state) would break the JSON this command prints; an unreachable Redis is said below.
  const log = pino({ level: 'silent' });
  const { RedisState } = await import('../state/redis-state.js');
  const state = new RedisState(
    { url: config.redis.url, keyPrefix: config.redis.key_prefix, commandTimeoutMs: 2000, cooldown: { failureThreshold: 1, windowS: 1, cooldownS: 1 } },
    log,
  );
  if (await state.whenReady(3000)) await state.revocations.revoke(keyHash);
  else console.error('switchyard: redis is unreachable; running routers refuse the key once they re-read it (within api_keys.cache_ttl_s)');
  await state.close();
}

/** `switchyard keys create|list|revoke`. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('Manage API keys (stored hashed in the SQLite store, SQLITE_DB_PATH)');
  keys
    .command('create')
    .description('Create a key; it is printed once and never stored')
    .argument('<name>', 'who or what the key is for (need not be unique)', keyName)
    .option('-c, --config <file>', 'YAML config file')
    .option('--rpm <n>', 'requests per minute', positiveInteger)
    .option('--tpm <n>', 'tokens per minute', positiveInteger)
    .option('--models <names>', 'comma-separated models the key may use (default: all)', modelNameList)
    .option('--budget <usd>', 'spend limit in USD', positiveNumber)
    .action((name: string, opts: { config?: string; rpm?: number; tpm?: number; models?: string[]; budget?: number }) => {
      const { key, record } = withStore(opts.config, (store) => store.create(name, { rpm: opts.rpm, tpm: opts.tpm, models: opts.models, budgetUsd: opts.budget }));
      console.log(JSON.stringify({ ...describeKey(record), key }, null, 2));
    });
  keys
    .command('list')
    .description('List keys (never the keys themselves)')
    .option('-c, --config <file>', 'YAML config file')
    .action((opts: { config?: string }) => {
      console.log(JSON.stringify(withStore(opts.config, (store) => store.list().map(describeKey), { create: false }), null, 2));
    });
  keys
    .command('revoke <id-or-name>')
    .description('Revoke a key by id, or by name when one active key has it; running routers refuse it at once when they share Redis')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (idOrName: string, opts: { config?: string }) => {
      const { config } = loadConfig(opts.config);
      const revocation = withStore(opts.config, (store) => store.revoke(idOrName));
      if (revocation.outcome !== 'revoked') {
        console.error(`switchyard: ${unrevokedReason(idOrName, revocation)}`);
        process.exit(1);
      }
      await announceRevocation(config, revocation.record.keyHash);
      console.log(JSON.stringify(describeKey(revocation.record), null, 2));
    });
  return keys;
}
