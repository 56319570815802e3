import type { Backend } from '../fleet/backend.js';

/**
 * The upstream path for a versioned API path such as `/v1` + `/chat/completions`.
 * A base URL that already ends in the version (as provider base URLs often do) is not given a second one.
 */
export function versionedPath(backend: Backend, version: string, path: string): string {
  return backend.basePath.endsWith(version) ? backend.basePath + path : `${backend.basePath}${version}${path}`;
}

/** The upstream path for an OpenAI API path such as `/chat/completions`. */
export function openAiPath(backend: Backend, path: string): string {
  return versionedPath(backend, '/v1', path);
}
