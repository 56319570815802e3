import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Backend } from '../fleet/backend.js';
import { continuationOf, continuationRefusal, continuedModelRefusal, seenBy, type BridgedResponses, type Continuation } from '../gateway/bridged-responses.js';
import { modelRefusal, type Caller } from '../gateway/caller.js';
import { clientFallbacks, namedModels } from '../gateway/client-fallbacks.js';
import type { Endpoint } from '../gateway/inference-request.js';
import { unroutableError, type ModelResolver, type ResolvedStep } from '../gateway/model-resolver.js';
import type { Route } from '../gateway/resolve.js';
import { effectiveLoad } from '../routing/load.js';
import type { PolicyTable } from '../routing/policy-table.js';
import { continuedResponse, mayUse, usableHolder, type ResponseAffinity } from '../routing/response-affinity.js';
import type { Cooldowns } from '../state/shared-state.js';
import type { RouteGuard } from './admin-auth.js';
import { noHealthyBackend, type ApiError } from './errors.js';
import { validateInference } from './validate.js';

type Headers = Record<string, string | string[] | undefined>;

/**
 * `POST /route/explain` with a chat (`messages`), completion (`prompt`) or Responses API (`input`) body: which replica the
 * request would go to now and why, without sending it or changing any routing state. Headers such
 * as the session header are taken from this request, as they would be from the real one. A model
 * group is explained whole: each model of its chain (the group, then its fallbacks) with each
 * weighted target and the replica the policy would pick there. The fallbacks a body names
 * (LiteLLM's `fallbacks`, see clientFallbacks) are explained the same way after the model's own
 * chain (`client_fallbacks`), and make the answer an explanation rather than the model's error
 * while one of them is routable, as they let the real request go on. A Responses API body continuing a
 * stored response (`previous_response_id`) is explained with where that response is
 * (`previous_response`: its id, the replica holding it and whether it decided the pick, whether the
 * router keeps it, the model that made it); where the real request would be refused for it (see
 * continuationRefusal), that refusal is the answer, as the request's would be. Asked with an API
 * key, the answer is that key's request's: a 403 for a model off its list (its own or a fallback
 * it names), or for continuing a response made with one (continuedModelRefusal).
 */
export function registerRouteExplain(
  app: FastifyInstance,
  resolver: ModelResolver,
  routing: PolicyTable,
  guard: RouteGuard,
  readerOf: (request: FastifyRequest) => Caller | undefined,
  responses: ResponseAffinity,
  bridged: BridgedResponses,
  cooldowns: Cooldowns,
): void {
  app.post('/route/explain', { onRequest: guard }, async (request) => {
    const endpoint = explainedEndpoint(request.body);
    const { model } = validateInference(endpoint, request.body, request.headers);
    const body = request.body as Record<string, unknown>;
    const fallbacks = clientFallbacks(body);
    const reader = readerOf(request);
    // Refused before it is routed, as the real request is (Policies.admit): for its model, or for a fallback it names.
    for (const named of namedModels(model, fallbacks)) {
      const notAllowed = modelRefusal(reader, named);
      if (notAllowed) throw notAllowed;
    }
    // A request continuing a stored response goes to the replica holding it, wherever that replica may serve (see AttemptRunner.holderChoice).
    const continued = endpoint === 'responses' ? continuedResponse(body) : undefined;
    const continuation = continued === undefined ? undefined : readableBy(await continuationOf(continued, responses, bridged), reader?.key?.id);
    const unusable = continuation && continuedModelRefusal(continuation, reader);
    if (unusable) throw unusable;
    const holder = continuation?.holder;
    const previous = continuation && {
      id: continuation.id,
      holder: holder?.replica ?? null,
      decided: false,
      kept: continuation.kept !== undefined,
      model: continuation.kept?.model ?? holder?.model ?? null,
    };
    /** The first refusal a pick would get: a real request ends with it. */
    let refused: ApiError | undefined;
    const explainPick = (target: string, backends: readonly Backend[], group?: string) => {
      const held = holder && usableHolder(backends, holder.replica, cooldowns);
      if (held) previous!.decided = true;
      const { backend, explained } = pick(routing, target, backends, body, request.headers, group, held);
      const refusal = continuation && continuationRefusal(backend.adapterFor('responses'), continuation, model);
      if (refusal === undefined) return explained;
      refused ??= refusal;
      return { error: errorEntry(refusal) };
    };
    const explainStep = (step: ResolvedStep) => ({
      model: step.model,
      targets: step.targets.map(({ target, route }) => ({
        model: target.model,
        ...(target.service ? { service: target.service } : {}),
        weight: target.weight,
        resolution: route.reason,
        // Picked by the group's own policy when it has one, as a real request's would be.
        ...explainTarget(target.model, route, (targetModel, backends) => explainPick(targetModel, backends, step.model)),
      })),
    });
    // The same resolution a real request gets: groups and fallbacks, then registry, services and agents, prefix rules.
    const chain = resolver.resolveChain(model, fallbacks);
    const ownSteps = resolver.steps(model).length;
    let answer: object;
    let targets: object[];
    if (resolver.isGroup(model)) {
      const steps = chain.slice(0, ownSteps).map(explainStep);
      answer = { model, resolution: resolver.describeGroup(model), chain: steps };
      targets = steps.flatMap((step) => step.targets);
    } else {
      const route = resolver.resolve(model);
      answer = { model, resolution: route.reason, ...explainTarget(model, route, explainPick) };
      // Its pick refused for the response it continues, a real request ends there, whatever fallbacks it names.
      if (refused) throw refused;
      targets = [answer];
    }
    // After the model's own chain, as a real request tries them (ModelResolver.steps leaves out those that chain holds).
    const client = fallbacks && chain.slice(ownSteps).map(explainStep);
    if (client) targets.push(...client.flatMap((step) => step.targets));
    if (!targets.some((target) => !('error' in target))) throw refused ?? unroutableError(model, chain);
    return { ...answer, ...(client ? { client_fallbacks: client } : {}), ...(previous ? { previous_response: previous } : {}) };
  });
}

function explainTarget(model: string, route: Route, explainPick: (model: string, backends: readonly Backend[]) => object) {
  if ('error' in route) return { error: errorEntry(route.error) };
  if (route.backends.length === 0) return { error: errorEntry(noHealthyBackend(model)) };
  return explainPick(model, route.backends);
}

/** The error a request to a target would get, as a group's explanation lists it. */
const errorEntry = ({ status, message, code }: ApiError) => ({ status, message, code });

/** A continuation as a reader (an API key's id; undefined for one that sees everything) may learn it: as its requests do (seenBy). */
const readableBy = (continuation: Continuation, readerKey: string | undefined): Continuation => seenBy(continuation, (response) => readerKey === undefined || mayUse(response, readerKey));

/** `held`: the replica holding the response the request continues, the only candidate its policy is offered. */
function pick(routing: PolicyTable, model: string, candidates: readonly Backend[], body: Record<string, unknown>, headers: Headers, group?: string, held?: Backend) {
  const choice = routing.explain(held ? [held] : candidates, { model, group, body, headers });
  const now = performance.now();
  const explained = {
    policy: choice.policy,
    target: choice.backend.name,
    reason: held ? 'previous-response' : choice.reason,
    affinity: held ? true : choice.affinity,
    details: choice.details ?? {},
    candidates: candidates.map((b) => ({ name: b.name, in_flight: b.inflight, load: effectiveLoad(b, now), routed: b.dispatchCount, affinity_hits: b.affinityHits })),
  };
  return { backend: choice.backend, explained };
}

/** A completion body when it has a prompt and no messages, a Responses API body when it has only an input; anything else is judged as a chat request. */
function explainedEndpoint(body: unknown): Endpoint {
  const fields = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  if (fields.messages !== undefined) return 'chat';
  if (fields.prompt !== undefined) return 'completions';
  return fields.input !== undefined ? 'responses' : 'chat';
}
