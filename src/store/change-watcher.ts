import type { Db } from './database.js';

/**
 * Notices commits made to the database by other connections (the CLI) by polling SQLite's
 * `data_version`, which costs no I/O, on a timer off the request path.
 */
export function watchChanges(db: Db, onChange: () => void, intervalMs = 1000): { stop(): void } {
  const version = () => db.pragma('data_version', { simple: true }) as number;
  let seen = version();
  const timer = setInterval(() => {
    const now = version();
    if (now === seen) return;
    seen = now;
    onChange();
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
