import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p` that gives up at the first directory it cannot make, with that error. Node's own
 * (`mkdirSync(dir, { recursive: true })`, Node 20 and 22) never returns where an existing directory
 * refuses a new child with ENOENT, as /proc does: it takes ENOENT for a missing parent, finds the
 * parent there, and tries the child again, forever, at full CPU.
 */
export function makeDirectories(dir: string): void {
  const missing: string[] = [];
  let existing = resolve(dir);
  while (!existsSync(existing) && dirname(existing) !== existing) {
    missing.push(existing);
    existing = dirname(existing);
  }
  if (!statSync(existing).isDirectory()) throw new Error(`${existing} is not a directory`);
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path);
    } catch (error) {
      // Made meanwhile by another process (a router and the CLI starting at once).
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(path).isDirectory()) throw error;
    }
  }
}
