import type { Dispatcher } from 'undici';
import { ResponseTooLargeError } from './call.js';

/**
 * An answer's body as text, for the router's own calls (probes, model lists, metrics scrapes).
 * Past `maxBytes` the connection is closed and it throws: a hostile or broken backend's endless
 * answer must not fill the router's memory.
 */
export async function readText(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new ResponseTooLargeError(maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString();
}
