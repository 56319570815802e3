/** A config the router cannot start with: the message says which file, key or variable, and why. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
