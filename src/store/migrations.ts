/**
 * Schema changes, applied in order once each (the database's user_version counts how many ran).
 * Append only: never edit a migration that has shipped.
 */
export const MIGRATIONS: readonly string[] = [];
