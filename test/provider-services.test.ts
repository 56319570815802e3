import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceSchema } from '../src/config/schema.js';
import { runCli } from './support/cli.js';
import { fixture, providerBehindRouter, type FakeUpstream } from './support/fake-upstream.js';
import { stopAll, waitFor, type Proc } from './support/processes.js';

describe('service provider setting', () => {
  it('defaults to the OpenAI wire format', () => {
    expect(ServiceSchema.parse({ name: 'a', url: 'http://127.0.0.1:1' }).provider).toBe('openai');
  });

  it.each(['anthropic', 'gemini'])('requires a model list for %s, since hosted APIs are not probed', (provider) => {
    const result = ServiceSchema.safeParse({ name: 'a', url: 'https://api.example.com', provider });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('must list its models');
    expect(ServiceSchema.safeParse({ name: 'a', url: 'https://api.example.com', provider, models: ['m'] }).success).toBe(true);
  });

  it('refuses an unknown provider', () => {
    expect(ServiceSchema.safeParse({ name: 'a', url: 'https://api.example.com', provider: 'cohere', models: ['m'] }).success).toBe(false);
  });
});

describe('health of a hosted provider (passive only)', () => {
  let fake: FakeUpstream;
  let router: Proc;
  let client: OpenAI;

  const healthy = async () => {
    const body = (await (await fetch(`${router.url}/services`)).json()) as unknown;
    return JSON.stringify(body).includes('"healthy":true');
  };

  beforeAll(async () => {
    ({ fake, router, client } = await providerBehindRouter(
      { name: 'claude', provider: 'anthropic', models: ['claude-x'], api_key: 'k' },
      { health_check: { interval_s: 0.2, timeout_s: 1, failure_threshold: 1 }, retry: { max_attempts: 1 } },
    ));
  });
  afterAll(async () => {
    await stopAll();
    await fake.close();
  });

  it('is taken out by failed requests and let back in by the next health round, with no probe sent', async () => {
    fake.reply({ status: 529, json: fixture('anthropic/error-overloaded.json') });
    const overloaded = await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
    expect((overloaded as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    // the health checker logs each return to health: once at start-up, once after the ejection
    const readmissions = () => router.lines.filter((line) => line.includes('backend healthy')).length;
    await waitFor(() => readmissions() === 2 || undefined, 'the provider to be ejected and let back in');
    expect(await healthy()).toBe(true);
    fake.reply({ status: 200, json: fixture('anthropic/message-text.json') });
    const completion = await client.chat.completions.create({ model: 'claude-x', messages: [{ role: 'user', content: 'Hi' }] });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(fake.received.map((request) => `${request.method} ${request.url}`)).toEqual(['POST /v1/messages', 'POST /v1/messages']);
  });

  it('says it is checked passively: no last probe in /stats, /metrics or `switchyard status`, since none is sent', async () => {
    const stats = (await (await fetch(`${router.url}/stats`)).json()) as { services: Array<{ name: string; health_check: string; last_check: unknown }> };
    expect(stats.services.find((service) => service.name === 'claude')).toMatchObject({ health_check: 'passive', last_check: null });
    expect(await (await fetch(`${router.url}/metrics`)).text()).not.toMatch(/switchyard_target_last_probe_\w+\{target="claude"\}/);
    const status = await runCli(['status', '--url', router.url]);
    expect(status.stdout).toMatch(/^claude\s+service\s+healthy\s+claude-x\s.*\spassive \(not probed\)$/m);
    expect(fake.received.every((request) => request.method === 'POST')).toBe(true);
  });
});
