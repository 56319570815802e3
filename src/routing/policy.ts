import type { Backend } from '../fleet/backend.js';

/** What a policy may look at when choosing among candidates. */
export interface RouteRequest {
  model: string;
  /** The parsed request body. */
  body: Record<string, unknown>;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface RoutingPolicy {
  readonly name: string;
  /**
   * Chooses one of `candidates` (never empty, all healthy, none already tried for this request).
   * Must be cheap: it runs on every request.
   */
  pick(candidates: readonly Backend[], request: RouteRequest): Backend;
}
