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

/** A target of a model group: its pick, or the error a request to it would get. */
type GroupTarget = { model: string; service?: string; weight: number; resolution: string } & (Pick | { error: { status: number; message: string } });

/** Where the response a Responses API request continues is: the replica holding it, or the router, which keeps it; the model that made it. */
interface PreviousResponse {
  id: string;
  holder: string | null;
  decided: boolean;
  kept: boolean;
  model: string | null;
}

/** A plain model's answer is one pick; a model group's, each model of its chain (the group, then its fallbacks). */
export type PromptExplanation = { model: string; resolution: string; previous_response?: PreviousResponse } & (Pick | { chain: Array<{ model: string; targets: GroupTarget[] }> });

/**
 * `token`: an API key or the admin token, for a router that requires keys. With `previousResponse`,
 * the prompt is a Responses API request's input continuing that response; else a chat request's.
 */
export async function explainPrompt(url: string, model: string, prompt: string, token?: string, previousResponse?: string): Promise<PromptExplanation> {
  const request = previousResponse === undefined ? { model, messages: [{ role: 'user', content: prompt }] } : { model, input: prompt, previous_response_id: previousResponse };
  return askRouter(`${url.replace(/\/+$/, '')}/route/explain`, token, (body) => typeof body.target === 'string' || Array.isArray(body.chain), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
}

export function formatPromptExplanation(answer: PromptExplanation): string {
  const previous = answer.previous_response ? [`  previous response: ${previousResponseLine(answer.previous_response)}`] : [];
  if (!('chain' in answer)) return [`${answer.model} → ${answer.target}  (policy ${answer.policy})`, `  resolved: ${answer.resolution}`, ...previous, ...pickLines(answer, '  ')].join('\n');
  const lines = [`${answer.model}  (${answer.resolution})`, ...previous];
  answer.chain.forEach((step, index) => {
    lines.push(index === 0 ? `group: ${step.model}` : `fallback: ${step.model}`);
    for (const target of step.targets) {
      const name = `  ${target.model}${target.service ? `@${target.service}` : ''} (weight ${target.weight})`;
      if ('error' in target) {
        lines.push(name, `    resolved: ${target.resolution}`, `    result: ${target.error.status} ${target.error.message}`);
      } else {
        lines.push(`${name} → ${target.target}  (policy ${target.policy})`, `    resolved: ${target.resolution}`, ...pickLines(target, '    '));
      }
    }
  });
  return lines.join('\n');
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
