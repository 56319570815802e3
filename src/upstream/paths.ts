import type { Backend } from '../fleet/backend.js';

/**
 * The upstream path for an OpenAI API path such as `/chat/completions`.
 * A base URL that already ends in `/v1` (as provider base URLs do) is not given a second one.
 */
export function openAiPath(backend: Backend, path: string): string {
  return backend.basePath.endsWith('/v1') ? backend.basePath + path : `${backend.basePath}/v1${path}`;
}
