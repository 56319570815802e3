import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { getJson } from './support/http.js';
import { spawnNpmStart, stopAll } from './support/processes.js';

afterAll(stopAll);

describe('npm start with no config file', () => {
  it('serves a demo fleet of two simulated engines and says so', async () => {
    // The package's own start script (environment, node flags), with state kept out of the repository.
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-demo-'));
    const router = await spawnNpmStart({ PORT: '0', SQLITE_DB_PATH: join(dir, 'models.db'), LOG_DIR: join(dir, 'logs') });
    expect(router.lines.join('\n')).toMatch(/DEMO FLEET of 2 SIMULATED engines/);
    expect((await getJson(`${router.url}/health`)).body).toMatchObject({ status: 'healthy', healthy_services: '2/2' });
    const models = (await getJson(`${router.url}/v1/models`)).body.data.map((m: { id: string }) => m.id);
    expect(models).toEqual(['demo-chat', 'demo-small']);
    const client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused' });
    const completion = await client.chat.completions.create({ model: 'demo-chat', messages: [{ role: 'user', content: 'Hello!' }] });
    expect(completion.choices[0]!.message.content!.length).toBeGreaterThan(0);
  });
});
