/** `switchyard route MODEL --prompt TEXT`: asks a running router's `/route/explain`. */
import { askRouter } from './router-client.js';
import { formatTable } from './table.js';

/** The replica a policy picks for one model, and why. */
interface Pick {
  policy: string;
  target: string;
  reason: string;
  affinity: unknown;
  details: Record<string, unknown>;
  candidates: Array<{ name: string; in_flight: number; load: number; routed: number; affinity_hits: number }>;
}

/** The error a request to a model or target would get. */
type Unroutable = { error: { status: number; message: string } };

/** A target of a model group: its pick, or the error a request to it would get. */
type GroupTarget = { model: string; service?: string; weight: number; resolution: string } & (Pick | Unroutable);

/** One model of a chain: the requested model or group, a group's fallback, or a fallback the request names. */
interface ChainStep {
  model: string;
  targets: GroupTarget[];
}

/** Where the response a Responses API request continues is: the replica holding it, or the router, which keeps it; the model that made it. */
interface PreviousResponse {
  id: string;
  holder: string | null;
  decided: boolean;
  kept: boolean;
  model: string | null;
}

/**
 * A plain model's answer is one pick (or, when a fallback the request names may take it instead,
 * the error a request to the model gets); a model group's, each model of its chain (the group, then
 * its fallbacks). Then the fallbacks the request names, as the router would try them.
 */
export type PromptExplanation = { model: string; resolution: string; client_fallbacks?: ChainStep[]; previous_response?: PreviousResponse } & (Pick | Unroutable | { chain: ChainStep[] });

/** What the request names besides its model and prompt. */
export interface PromptOptions {
  /** An API key or the admin token, for a router that requires keys. */
  token?: string;
  /** The prompt is then a Responses API request's input continuing that response; else a chat request's. */
  previousResponse?: string;
  /** Models to fall back to (the body's `fallbacks`, as LiteLLM proxy clients send it). */
  fallbacks?: string[];
}

export async function explainPrompt(url: string, model: string, prompt: string, { token, previousResponse, fallbacks }: PromptOptions = {}): Promise<PromptExplanation> {
  const request = previousResponse === undefined ? { model, messages: [{ role: 'user', content: prompt }] } : { model, input: prompt, previous_response_id: previousResponse };
  const looksRight = (body: Record<string, unknown>) => typeof body.target === 'string' || Array.isArray(body.chain) || Array.isArray(body.client_fallbacks);
  return askRouter(`${url.replace(/\/+$/, '')}/route/explain`, token, looksRight, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fallbacks === undefined ? request : { ...request, fallbacks }),
  });
}

export function formatPromptExplanation(answer: PromptExplanation): string {
  const previous = answer.previous_response ? [`  previous response: ${previousResponseLine(answer.previous_response)}`] : [];
  const lines: string[] = [];
  if ('chain' in answer) {
    lines.push(`${answer.model}  (${answer.resolution})`, ...previous);
    answer.chain.forEach((step, index) => lines.push(...stepLines(index === 0 ? 'group' : 'fallback', step)));
  } else if ('error' in answer) {
    lines.push(answer.model, `  resolved: ${answer.resolution}`, `  result: ${answer.error.status} ${answer.error.message}`, ...previous);
  } else {
    lines.push(`${answer.model} → ${answer.target}  (policy ${answer.policy})`, `  resolved: ${answer.resolution}`, ...previous, ...pickLines(answer, '  '));
  }
  for (const step of answer.client_fallbacks ?? []) lines.push(...stepLines('client fallback', step));
  return lines.join('\n');
}

function stepLines(label: string, step: ChainStep): string[] {
  const lines = [`${label}: ${step.model}`];
  for (const target of step.targets) {
    const name = `  ${target.model}${target.service ? `@${target.service}` : ''} (weight ${target.weight})`;
    if ('error' in target) {
      lines.push(name, `    resolved: ${target.resolution}`, `    result: ${target.error.status} ${target.error.message}`);
    } else {
      lines.push(`${name} → ${target.target}  (policy ${target.policy})`, `    resolved: ${target.resolution}`, ...pickLines(target, '    '));
    }
  }
  return lines;
}

function pickLines(pick: Pick, indent: string): string[] {
  const candidates = formatTable(
    ['replica', 'in-flight', 'load', 'routed', 'affinity hits'],
    pick.candidates.map((c) => [c.name, String(c.in_flight), String(c.load), String(c.routed), String(c.affinity_hits)]),
  );
  return [
    `${indent}why: ${pick.reason}`,
    ...Object.entries(pick.details).map(([key, value]) => `${indent}${key}: ${JSON.stringify(value)}`),
    `${indent}candidates:`,
    ...candidates.split('\n').map((line) => `${indent}  ${line}`),
  ];
}

function previousResponseLine({ id, holder, decided, kept, model }: PreviousResponse): string {
  const madeWith = model === null ? '' : ` (made with ${model})`;
  if (kept) return `${id}, kept by the router${madeWith}: any model answered through its chat bridge continues it`;
  if (holder !== null) return `${id}, held by ${holder}${madeWith}${decided ? ', which decided the pick' : ', not usable now: routed as any other'}`;
  return `${id}, not known here: its target answers for it`;
}
