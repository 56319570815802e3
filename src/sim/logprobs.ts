import { SimRequestError } from './choices.js';
import { hash32, prng, word } from './text.js';

/**
 * Made-up log probabilities for the sim's tokens (the same token, the same figures), in the chat
 * API's shape and the legacy completions API's, so that clients reading them get the right shape.
 */

/** OpenAI's limits: chat `top_logprobs` 0–20, completions `logprobs` 0–5. */
const MAX_CHAT_ALTERNATIVES = 20;
const MAX_COMPLETION_ALTERNATIVES = 5;

/** How many alternatives per token a chat request asks for; undefined when it asks for no log probabilities. */
export function chatLogprobsAsked(body: Record<string, unknown>): number | undefined {
  const top = body.top_logprobs ?? 0;
  if (typeof top !== 'number' || !Number.isInteger(top) || top < 0 || top > MAX_CHAT_ALTERNATIVES) {
    throw new SimRequestError(`top_logprobs must be an integer from 0 to ${MAX_CHAT_ALTERNATIVES}`, 'top_logprobs');
  }
  if (body.logprobs !== true) {
    if (body.top_logprobs !== undefined && body.top_logprobs !== null) throw new SimRequestError('top_logprobs requires logprobs to be true', 'top_logprobs');
    return undefined;
  }
  return top;
}

/** How many alternatives per token a completions request asks for (`logprobs` is a count there). */
export function completionLogprobsAsked(body: Record<string, unknown>): number | undefined {
  const top = body.logprobs;
  if (top === undefined || top === null) return undefined;
  if (typeof top !== 'number' || !Number.isInteger(top) || top < 0 || top > MAX_COMPLETION_ALTERNATIVES) {
    throw new SimRequestError(`logprobs must be an integer from 0 to ${MAX_COMPLETION_ALTERNATIVES}`, 'logprobs');
  }
  return top;
}

interface Alternative {
  token: string;
  logprob: number;
}

/** The token's log probability and `top` likeliest tokens at its place, itself first. */
function alternatives(token: string, top: number): Alternative[] {
  const random = prng(hash32(token));
  let logprob = -Math.round(random() * 2000) / 1000;
  const list = [{ token, logprob }];
  while (list.length < Math.max(1, top)) {
    logprob = Math.round((logprob - 0.25 - random()) * 1000) / 1000;
    list.push({ token: ` ${word(random)}`, logprob });
  }
  return list;
}

const withBytes = ({ token, logprob }: Alternative) => ({ token, logprob, bytes: [...Buffer.from(token)] });

/** Chat's `logprobs.content` entries for `tokens`. */
export function chatTokenLogprobs(tokens: readonly string[], top: number) {
  return tokens.map((token) => {
    const list = alternatives(token, top);
    return { ...withBytes(list[0]!), top_logprobs: top > 0 ? list.map(withBytes) : [] };
  });
}

/** The legacy completions API's `logprobs` object for `tokens`, whose text starts at `offset`. */
export function completionLogprobs(tokens: readonly string[], top: number, offset: number) {
  const textOffset: number[] = [];
  for (const token of tokens) {
    textOffset.push(offset);
    offset += token.length;
  }
  const lists = tokens.map((token) => alternatives(token, top));
  return {
    tokens: [...tokens],
    token_logprobs: lists.map((list) => list[0]!.logprob),
    top_logprobs: lists.map((list) => Object.fromEntries((top > 0 ? list : []).map(({ token, logprob }) => [token, logprob]))),
    text_offset: textOffset,
  };
}
