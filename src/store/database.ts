import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeDirectories } from './make-directories.js';
import { MIGRATIONS } from './migrations.js';
import { adoptReplacedRouterDatabase } from './replaced-router-database.js';

export type Db = Database.Database;

/** SQLite's own default page cache, in KiB. */
export const PAGE_CACHE_KIB = 2000;

/**
 * Opens the embedded store, in WAL mode so the CLI and a running server can use the same file at
 * once, and brings its schema up to date. It is created (its directories too) unless `create` is
 * false, as for the commands that only list what is in it: a mistyped path would otherwise become
 * an empty database that lists nothing.
 */
export function openDatabase(path: string, { create = true }: { create?: boolean } = {}): Db {
  const connect = () => {
    if (!create) refuseMissing(path);
    else if (path !== ':memory:') makeDirectories(dirname(path));
    return new Database(path, { fileMustExist: !create });
  };
  return opened(path, connect, (db) => {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection, and the request log's
    // appends fill all of it within minutes of traffic: resident memory the router never gave back
    // (~12 MB of the 2,000-idle-streams benchmark). Appends and recent reads touch a few pages at the
    // b-trees' right edges; anything else is read again from the kernel's file cache.
    db.pragma(`cache_size = ${-PAGE_CACHE_KIB}`);
    migrate(db, path);
  });
}

/** A store opened for reading, and how to close it. */
export interface StoreReader {
  db: Db;
  close(): void;
}

/**
 * Opens an existing store read-only, for reading the request log from a file named by hand
 * (`logs --db`), often the one a router is writing: a file that is not this version's store
 * (another program's, the replaced router's, an older schema) is neither migrated nor taken over.
 * Its caller says in its own words that the file is missing (openRequestReader). Closed, it leaves
 * the directory as it found it (see removeWalFilesIfUnused).
 */
export function openDatabaseForReading(path: string): StoreReader {
  const walFilesFound = walFilesExist(path);
  const tidy = () => {
    if (!walFilesFound) removeWalFilesIfUnused(path);
  };
  let db: Db;
  try {
    db = opened(path, () => new Database(path, { readonly: true, fileMustExist: true }), (db) => {
      db.pragma('busy_timeout = 5000');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version === 0) throw new Error('not a Switchyard database (no router has used it)');
      if (version < MIGRATIONS.length) throw new Error(`written by an older Switchyard (schema ${version} of ${MIGRATIONS.length}): start this version's router on it once to bring it up to date`);
    });
  } catch (error) {
    tidy();
    throw error;
  }
  return {
    db,
    close() {
      db.close();
      tidy();
    },
  };
}

const walFilesExist = (path: string) => existsSync(`${path}-wal`) || existsSync(`${path}-shm`);

/**
 * Removes the `-wal` and `-shm` files a read-only connection made beside a WAL database no other
 * connection has open. The last connection to close a WAL database checkpoints it and deletes them,
 * but a read-only one cannot checkpoint, so it leaves them behind. A read-write connection that
 * reads and closes does it instead, and SQLite decides: only as the last connection (it must get
 * the file's exclusive lock), so a router that opened the file meanwhile keeps them; and with
 * nothing written, its checkpoint writes nothing. Only when they were not there before opening:
 * ones found there are a running router's (or a crashed one's, with what it wrote). A failure
 * leaves them (a file whose directory or mode lets this connection only read, say): they are
 * harmless, and the request log has already been read.
 */
function removeWalFilesIfUnused(path: string): void {
  if (!walFilesExist(path)) return;
  try {
    const db = new Database(path, { fileMustExist: true });
    try {
      db.pragma('user_version', { simple: true });
    } finally {
      db.close();
    }
  } catch {
    // See above: left as they are.
  }
}

/** Said before opening, as fileMustExist alone would say "unable to open database file". */
function refuseMissing(path: string): void {
  if (!existsSync(path)) throw new Error('no such file (only the router and the commands that change the store create it)');
}

/** The connection `connect` made and `prepare` readied, closed again if either failed, which is then said with the file's path. */
function opened(path: string, connect: () => Db, prepare: (db: Db) => void): Db {
  let db: Db | undefined;
  try {
    db = connect();
    prepare(db);
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
