import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { DailyFile } from './daily-file.js';

/** Paths whose values never reach a log line: credentials in any shape the code might log them. */
export const CREDENTIAL_PATHS = [
  'authorization', '*.authorization', 'req.headers.authorization', '*.headers.authorization', 'headers["x-api-key"]', '*.headers["x-api-key"]',
  'apiKey', '*.apiKey', 'api_key', '*.api_key', 'key', '*.key',
];
/** Prompt and completion text: redacted too unless `logPrompts` is set. */
export const CONTENT_PATHS = ['messages', '*.messages', 'prompt', '*.prompt', 'input', '*.input', 'completion', '*.completion', 'choices', '*.choices'];

export interface LoggerOptions {
  level: string;
  /** When set, lines also go to `<dir>/router.log`, rotated daily, keeping `keepDays` past days. */
  file?: { dir: string; keepDays: number; now?: () => number };
  logPrompts?: boolean;
  /** Replaces stdout (tests). */
  stdout?: { write(line: string): void };
}

export function createLogger(options: LoggerOptions | string): Logger {
  const { level, file, logPrompts = false, stdout } = typeof options === 'string' ? ({ level: options } as LoggerOptions) : options;
  // Streams take everything; the logger's own level filters once for all of them.
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: stdout ?? pino.destination(1) }];
  if (file) streams.push({ level: 'trace', stream: openLogFile(file) });
  const paths = logPrompts ? CREDENTIAL_PATHS : [...CREDENTIAL_PATHS, ...CONTENT_PATHS];
  return pino(
    { level, base: { service: 'switchyard' }, redact: { paths, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.multistream(streams),
  );
}

function openLogFile(file: NonNullable<LoggerOptions['file']>): DailyFile {
  try {
    return new DailyFile({ dir: file.dir, name: 'router.log', keepDays: file.keepDays, now: file.now });
  } catch (error) {
    // fs's own messages name the one directory or file that failed, not the setting to change.
    throw new Error(`cannot write the log file ${join(file.dir, 'router.log')} (LOG_DIR or LOG_PATH, logging.dir): ${(error as Error).message}`, { cause: error });
  }
}
