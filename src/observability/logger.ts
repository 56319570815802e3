import { pino, type Logger } from 'pino';

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = ['req.headers.authorization', 'headers.authorization', '*.apiKey', '*.api_key', 'apiKey', 'api_key'];

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'switchyard' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}
