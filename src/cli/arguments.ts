import { InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';

/** Argument parsers and config loading shared by the CLI's commands. */

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

/** The config (database path, providers, port, tokens); exits 2 with the message when it is invalid. */
export function configOrExit(file: string | undefined): Config {
  try {
    return loadConfig(file).config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`switchyard: ${error.message}`);
    process.exit(2);
  }
}
