import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { makeDirectories } from './make-directories.js';
import { MIGRATIONS } from './migrations.js';
import { adoptReplacedRouterDatabase } from './replaced-router-database.js';

export type Db = Database.Database;

/** SQLite's own default page cache, in KiB. */
export const PAGE_CACHE_KIB = 2000;

/**
 * Opens (creating if needed) the embedded store, in WAL mode so the CLI and a running server
 * can use the same file at once, and brings its schema up to date.
 */
export function openDatabase(path: string): Db {
  let db: Db | undefined;
  try {
    if (path !== ':memory:') makeDirectories(dirname(path));
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection, and the request log's
    // appends fill all of it within minutes of traffic: resident memory the router never gave back
    // (~12 MB of the 2,000-idle-streams benchmark). Appends and recent reads touch a few pages at the
    // b-trees' right edges; anything else is read again from the kernel's file cache.
    db.pragma(`cache_size = ${-PAGE_CACHE_KIB}`);
    migrate(db, path);
    return db;
  } catch (error) {
    db?.close();
    // SQLite's own messages ("unable to open database file") do not say which file.
    throw new Error(`cannot open the database ${path} (SQLITE_DB_PATH, database_path): ${(error as Error).message}`, { cause: error });
  }
}

function migrate(db: Db, path: string): void {
  adoptReplacedRouterDatabase(db, path, MIGRATIONS[0]!);
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
