/** `switchyard route MODEL --prompt TEXT`: asks a running router's `/route/explain`. */

export interface PromptExplanation {
  model: string;
  resolution: string;
  policy: string;
  target: string;
  reason: string;
  affinity: unknown;
  details: Record<string, unknown>;
  candidates: Array<{ name: string; in_flight: number; load: number; routed: number; affinity_hits: number }>;
}

/** `token`: an API key or the admin token, for a router that requires keys. */
export async function explainPrompt(url: string, model: string, prompt: string, token?: string): Promise<PromptExplanation> {
  const response = await fetch(`${url.replace(/\/+$/, '')}/route/explain`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }] }),
  });
  const body = (await response.json()) as PromptExplanation & { error?: { message: string } };
  if (!response.ok) throw new Error(body.error?.message ?? `router answered ${response.status}`);
  return body;
}

export function formatPromptExplanation(answer: PromptExplanation): string {
  const lines = [
    `${answer.model} → ${answer.target}  (policy ${answer.policy})`,
    `  resolved: ${answer.resolution}`,
    `  why: ${answer.reason}`,
    ...Object.entries(answer.details).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`),
    '  candidates:',
    ...answer.candidates.map((c) => `    ${c.name.padEnd(20)} in-flight ${c.in_flight}  load ${c.load}  routed ${c.routed}  affinity hits ${c.affinity_hits}`),
  ];
  return lines.join('\n');
}
