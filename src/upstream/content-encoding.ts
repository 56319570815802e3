import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

const DECODERS: Readonly<Record<string, (body: Buffer, options: { maxOutputLength: number }) => Buffer>> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/**
 * An answer's bytes as sent before `content-encoding` was applied, for reading them (usage, the
 * JSON check, the cache); the client still gets the encoded bytes. Undefined for an encoding the
 * router cannot undo, or bytes that do not decode. The router does not ask for compression, but a
 * backend or a proxy in front of it may compress anyway. Bytes that would decode to more than
 * `maxBytes` count as not decoding: a few kilobytes of gzip can expand to gigabytes.
 */
export function decodedBody(body: Buffer, encoding: string | string[] | number | undefined, maxBytes: number): Buffer | undefined {
  if (encoding === undefined) return body;
  let decoded = body;
  // Codings are listed in the order they were applied.
  for (const coding of String(encoding).split(',').map((name) => name.trim().toLowerCase()).reverse()) {
    if (coding === '' || coding === 'identity') continue;
    const decode = DECODERS[coding];
    if (!decode) return undefined;
    try {
      decoded = decode(decoded, { maxOutputLength: maxBytes });
    } catch {
      return undefined;
    }
  }
  return decoded;
}
