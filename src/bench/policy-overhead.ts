import { ConfigSchema } from '../config/schema.js';
import { Backend } from '../fleet/backend.js';
import { OPENAI_COMPATIBLE_TARGET } from '../providers/by-name.js';
import type { RouteRequest } from '../routing/policy.js';
import { createPolicy, POLICY_NAMES } from '../routing/registry.js';

/**
 * `npm run bench:routing-overhead`: microseconds per `pick` of every policy for 8 and 64 replicas and
 * 32 KB chat prompts (16 groups sharing 24 KB system prompts, each request with its own 8 KB tail),
 * in process, so that only the policy's own work is measured.
 */
const PROMPT_BYTES = 32 * 1024;
const PICKS = 3000;
const routing = ConfigSchema.parse({}).routing;

function requests(count: number): RouteRequest[] {
  const word = (i: number) => `w${(i * 2654435761) % 9973}`;
  const system = (g: number) => Array.from({ length: 4000 }, (_, i) => word(i + g * 7)).join(' ').slice(0, (PROMPT_BYTES * 3) / 4);
  const systems = Array.from({ length: 16 }, (_, g) => system(g));
  return Array.from({ length: count }, (_, r) => {
    const tail = Array.from({ length: 1500 }, (_, i) => word(i * 31 + r)).join(' ').slice(0, PROMPT_BYTES / 4);
    return { model: 'm', headers: { 'x-session-id': `s${r}` }, body: { model: 'm', user: `u${r % 50}`, messages: [{ role: 'system', content: systems[r % 16]! }, { role: 'user', content: tail }] } };
  });
}

const inputs = requests(256);
const rows: string[] = ['| policy | 8 replicas µs/pick | 64 replicas µs/pick |', '|---|---:|---:|'];
for (const name of POLICY_NAMES) {
  const cells: string[] = [];
  for (const size of [8, 64]) {
    const fleet = Array.from({ length: size }, (_, i) => new Backend({ name: `r${i}`, url: `http://127.0.0.1:${10000 + i}`, kind: 'service', models: ['m'], adapter: OPENAI_COMPATIBLE_TARGET }));
    fleet.forEach((b, i) => (b.inflight = i % 5));
    const policy = createPolicy(name, routing);
    for (let i = 0; i < 500; i++) policy.pick(fleet, inputs[i % inputs.length]!);
    const started = process.hrtime.bigint();
    for (let i = 0; i < PICKS; i++) policy.pick(fleet, inputs[i % inputs.length]!);
    cells.push((Number(process.hrtime.bigint() - started) / 1000 / PICKS).toFixed(1));
  }
  rows.push(`| ${name} | ${cells.join(' | ')} |`);
}
console.log(rows.join('\n'));
