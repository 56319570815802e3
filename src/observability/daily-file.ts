import { closeSync, existsSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirectories } from '../store/make-directories.js';

export interface DailyFileOptions {
  dir: string;
  /** Active file name, e.g. "router.log"; past days become "router.YYYY-MM-DD.log". */
  name: string;
  /** Dated files kept besides the active one; older ones are deleted at rotation. */
  keepDays: number;
  now?: () => number;
}

const DAY_MS = 86_400_000;
const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * A pino destination that writes to one file and, at the first line of a new UTC day, renames it
 * after the day it covered and starts a fresh one. Writes are synchronous like pino's default
 * stdout: the router logs few lines (requests go to the request log), and a sync write cannot
 * put a line in the wrong day's file.
 */
export class DailyFile {
  private fd: number;
  private dayEndsAt: number;
  private readonly now: () => number;
  private readonly stem: string;
  private readonly extension: string;

  constructor(private readonly options: DailyFileOptions) {
    this.now = options.now ?? Date.now;
    const dot = options.name.lastIndexOf('.');
    this.stem = dot > 0 ? options.name.slice(0, dot) : options.name;
    this.extension = dot > 0 ? options.name.slice(dot) : '';
    makeDirectories(options.dir);
    this.setAsidePreviousDay();
    this.fd = this.open();
    this.dayEndsAt = this.nextMidnight(this.now());
  }

  write(line: string): void {
    const now = this.now();
    if (now >= this.dayEndsAt) this.rotate(now);
    writeSync(this.fd, line);
  }

  close(): void {
    closeSync(this.fd);
  }

  private rotate(now: number): void {
    closeSync(this.fd);
    this.archive(utcDate(this.dayEndsAt - 1));
    this.fd = this.open();
    this.dayEndsAt = this.nextMidnight(now);
    this.prune();
  }

  /** A file left by a run on an earlier day is archived under that day rather than appended to. */
  private setAsidePreviousDay(): void {
    if (!existsSync(this.activePath)) return;
    const lastWritten = statSync(this.activePath).mtimeMs;
    if (utcDate(lastWritten) === utcDate(this.now())) return;
    this.archive(utcDate(lastWritten));
    this.prune();
  }

  private archive(day: string): void {
    renameSync(this.activePath, join(this.options.dir, `${this.stem}.${day}${this.extension}`));
  }

  private prune(): void {
    const dated = new RegExp(`^${escapeRegExp(this.stem)}\\.(\\d{4}-\\d{2}-\\d{2})${escapeRegExp(this.extension)}$`);
    const old = readdirSync(this.options.dir)
      .filter((file) => dated.test(file))
      .sort()
      .reverse()
      .slice(this.options.keepDays);
    for (const file of old) rmSync(join(this.options.dir, file), { force: true });
  }

  private get activePath(): string {
    return join(this.options.dir, this.options.name);
  }

  private open(): number {
    return openSync(this.activePath, 'a');
  }

  private nextMidnight(ms: number): number {
    return (Math.floor(ms / DAY_MS) + 1) * DAY_MS;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
