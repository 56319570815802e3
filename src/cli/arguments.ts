import { InvalidArgumentError } from 'commander';
import { envNumber } from '../config/env-values.js';
import { TIMER_MAX_MS } from '../config/timer-range.js';
import { isHttpUrl } from '../registry/model-entry.js';
import { isPlausibleModelName, MODEL_NAME_RULE } from '../server/validate.js';
import { parseStatusFilter } from '../store/request-log.js';
import { parseDuration } from './duration.js';

/** Argument parsers shared by the CLI's commands. */

/**
 * A number written in decimal, as the environment's numbers are (envNumber); NaN otherwise.
 * Number() alone read `--port ''` as 0 (any free port, silently) and `--port 0x50` as 80.
 */
function decimal(value: string): number {
  const n = envNumber(value);
  return typeof n === 'number' ? n : NaN;
}

export function positiveNumber(value: string): number {
  const n = decimal(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = decimal(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
}

export function positiveInteger(value: string): number {
  const n = decimal(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function port(value: string): number {
  const n = decimal(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

export function integerBetween(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = decimal(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A comma-separated list of names, with at least one. */
export function nameList(value: string): string[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError('expected at least one name (comma-separated)');
  return names;
}

/** A comma-separated list of model names (see nameList), each one a request may carry: another would never match. */
export function modelNameList(value: string): string[] {
  const names = nameList(value);
  const refused = names.find((name) => !isPlausibleModelName(name));
  if (refused !== undefined) throw new InvalidArgumentError(`${JSON.stringify(refused)} is not a model name a request may carry: ${MODEL_NAME_RULE}`);
  return names;
}

export function httpUrl(value: string): string {
  if (!isHttpUrl(value)) throw new InvalidArgumentError('expected an http:// or https:// URL');
  return value;
}

/** A listen address: blank would listen on every interface, the opposite of what an empty value suggests. */
export function host(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a host name or address');
  return value;
}

/** A delay in milliseconds that becomes a timer: Node fires a longer one at once. */
export function timerMilliseconds(value: string): number {
  const n = decimal(value);
  if (!Number.isFinite(n) || n < 0 || n > TIMER_MAX_MS) throw new InvalidArgumentError(`expected a number of milliseconds from 0 to ${TIMER_MAX_MS}`);
  return n;
}

/** Checks `value` with `parse` (which throws to refuse it), keeping it as written: the commands say it back and send it on. */
function checkedWith(parse: (value: string) => unknown): (value: string) => string {
  return (value) => {
    try {
      parse(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
    return value;
  };
}

/** A period such as 15m, 1h or 7d. */
export const duration = checkedWith(parseDuration);

/** A status code (502) or class (5xx). */
export const statusFilter = checkedWith(parseStatusFilter);
