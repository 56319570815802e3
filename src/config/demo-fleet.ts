import type { Logger } from 'pino';
import { SIM_DEFAULTS, startSim } from '../sim/server.js';
import { ServiceSchema, type Config } from './schema.js';

export const DEMO_MODELS = ['demo-chat', 'demo-small'];

/**
 * With no config file, the router fronts two simulated engines started in this process, so that
 * `npm start` answers at once. The log says loudly that they are simulated.
 */
export async function withDemoFleet(config: Config, log: Logger): Promise<{ config: Config; stop: () => Promise<void> }> {
  const sims = await Promise.all(
    ['sim-a', 'sim-b'].map(async (name) => ({ name, ...(await startSim({ ...SIM_DEFAULTS, port: 0, host: '127.0.0.1', models: DEMO_MODELS })) })),
  );
  log.warn(
    { services: sims.map((s) => `${s.name} http://127.0.0.1:${s.port}`), models: DEMO_MODELS },
    'no config file: serving a DEMO FLEET of 2 SIMULATED engines (not real models); pass --config FILE or create ./switchyard.yaml',
  );
  return {
    config: { ...config, services: sims.map((s) => ServiceSchema.parse({ name: s.name, url: `http://127.0.0.1:${s.port}` })) },
    stop: async () => {
      await Promise.all(sims.map((s) => s.app.close()));
    },
  };
}
