import type { Backend } from '../fleet/backend.js';
import type { Usage } from '../gateway/inference-request.js';

/** What a policy may look at when choosing among candidates. */
export interface RouteRequest {
  /** The fleet model the candidates serve. */
  model: string;
  /** The name of the request's chain step the pick is for (a model group's, else the model's own): its policy, when it has one, governs the pick. */
  group?: string;
  /** The parsed request body. */
  body: Record<string, unknown>;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** How a routed request ended, as far as the gateway saw it. */
export interface RouteOutcome {
  ok: boolean;
  ttftS: number | undefined;
  usage: Usage | undefined;
}

/** A policy's choice and the reason for it, in words an operator can read. */
export interface RouteChoice {
  backend: Backend;
  /** Short machine-readable reason, e.g. "prefix-match", "least-load", "imbalance". */
  reason: string;
  /** True when the choice followed a likely cached prompt prefix. */
  affinity: boolean;
  details?: Record<string, unknown>;
  /** Applies the choice to the policy's own state (rotation, prefix index); absent when there is none. */
  commit?: () => void;
}

export interface RoutingPolicy {
  readonly name: string;
  /**
   * Chooses one of `candidates` (never empty, all healthy, none already tried for this request)
   * and records that the request goes there. Must be cheap: it runs on every request.
   */
  pick(candidates: readonly Backend[], request: RouteRequest): Backend;
  /** The choice `pick` would make now, with its reason, changing nothing. */
  explain?(candidates: readonly Backend[], request: RouteRequest): RouteChoice;
  /**
   * Called exactly once for every pick (for feedback such as latency averages, and to release what
   * the pick claimed): when the relayed answer has ended, or with `ok: false` as soon as the attempt
   * is abandoned (failed, refused, aborted) and the request retries, falls back or ends. (A
   * benched backend's probe is no policy's pick; its relayed answer is reported to its model's.)
   */
  onResult?(backend: Backend, request: RouteRequest, outcome: RouteOutcome): void;
}

/**
 * Base of the built-in policies: each implements `choose` without side effects; `pick` commits the
 * choice and counts it on the backend, `explain` only reports it.
 */
export abstract class ChoosingPolicy implements RoutingPolicy {
  abstract readonly name: string;
  abstract choose(candidates: readonly Backend[], request: RouteRequest): RouteChoice;

  pick(candidates: readonly Backend[], request: RouteRequest): Backend {
    const choice = this.choose(candidates, request);
    choice.commit?.();
    choice.backend.noteRouted(choice.affinity);
    return choice.backend;
  }

  explain(candidates: readonly Backend[], request: RouteRequest): RouteChoice {
    return this.choose(candidates, request);
  }

  onResult(_backend: Backend, _request: RouteRequest, _outcome: RouteOutcome): void {}

  /** Drops whatever the policy remembers about a backend that left the fleet. */
  forget(_backendName: string): void {}

  /** Drops what the policy believes a backend's engine has cached: it was ejected, and an engine back from that has usually restarted cold. */
  forgetCache(_backendName: string): void {}
}
