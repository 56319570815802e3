import { PROVIDERS, providerAccess, type ProviderName } from '../config/providers.js';
import type { Config } from '../config/schema.js';
import type { Fleet } from '../fleet/fleet.js';
import { withoutRoutingHint } from '../gateway/prefix-rules.js';
import type { Route } from '../gateway/resolve.js';
import { providerAdapter } from '../providers/unsupported-params.js';
import { providerKeyMissing } from '../server/errors.js';

/**
 * One backend per available provider, for models that reach it by prefix rule, joining the fleet
 * on first use: a request, an explanation or a model retrieval that resolves a name to it (so
 * /services and the dashboard list only providers something asked for). A
 * provider without its key gets no backend: its route answers 503 naming the variable to set.
 */
export class ProviderTargets {
  private readonly routes = new Map<ProviderName, Route | (() => Route)>();
  /** Providers that need a key and have none, with the variable to set. */
  readonly missingKeys: Array<{ provider: ProviderName; variable: string }> = [];

  constructor(fleet: Fleet, settings: Config['providers']) {
    for (const { name } of PROVIDERS) {
      const { baseUrl, apiKey, missingKey } = providerAccess(settings, name);
      if (baseUrl === undefined) continue;
      const reason = `prefix rule for provider '${name}' (${baseUrl})`;
      if (missingKey) {
        this.missingKeys.push({ provider: name, variable: missingKey });
        this.routes.set(name, { error: providerKeyMissing(name, missingKey), reason });
        continue;
      }
      this.routes.set(name, () => {
        const backend = fleet.add({
          name: `provider:${name}`,
          url: baseUrl,
          kind: 'provider',
          models: [],
          apiKey,
          adapter: providerAdapter(name, settings[name]),
          upstreamModel: (model) => withoutRoutingHint(name, model),
        });
        fleet.setHealth(backend, true);
        return { backends: [backend], reason };
      });
    }
  }

  route(provider: ProviderName): Route | undefined {
    let route = this.routes.get(provider);
    if (typeof route === 'function') this.routes.set(provider, (route = route()));
    return route;
  }
}
