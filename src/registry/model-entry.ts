import { PROVIDER_NAMES, type ProviderName } from '../config/providers.js';
import { isPlausibleModelName, MODEL_NAME_RULE } from '../server/validate.js';
import type { NewModel } from '../store/models.js';

/** A registry entry's type: a provider, or `service` for an OpenAI-compatible service by URL. */
export type ModelType = ProviderName | 'service';
export const MODEL_TYPES: readonly ModelType[] = [...PROVIDER_NAMES, 'service'];
export const MODEL_KINDS = ['api', 'weight'] as const;

export class InvalidModelEntry extends Error {
  override readonly name = 'InvalidModelEntry';
}

export function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * A name clients ask for: spaces around it (a quoting slip) would have to be in every request too,
 * and a name no request may carry (too long, control characters) would never be asked for.
 */
export function validateModelName(name: string): void {
  if (name.trim() === '') throw new InvalidModelEntry('model name must not be empty');
  // JSON-quoted: the name's control characters are not for the terminal.
  if (!isPlausibleModelName(name)) throw new InvalidModelEntry(`model name ${JSON.stringify(name)} is not one a request may carry: ${MODEL_NAME_RULE}`);
  if (name.trim() !== name) throw new InvalidModelEntry(`model name "${name}" must not start or end with spaces`);
}

/** Checks a registry entry as given on the command line; throws with a message fit for the user. */
export function validateModelEntry(name: string, type: string, endpoint: string, kind = 'api'): NewModel {
  validateModelName(name);
  if (!(MODEL_TYPES as readonly string[]).includes(type)) {
    throw new InvalidModelEntry(`unknown model type "${type}" (expected one of: ${MODEL_TYPES.join(', ')})`);
  }
  if (!isHttpUrl(endpoint)) throw new InvalidModelEntry(`invalid endpoint "${endpoint}": must be an http:// or https:// URL`);
  if (!(MODEL_KINDS as readonly string[]).includes(kind)) {
    throw new InvalidModelEntry(`unknown model kind "${kind}" (expected one of: ${MODEL_KINDS.join(', ')})`);
  }
  return { name, type, endpoint, kind: kind as NewModel['kind'] };
}
