import type { ProviderAdapter, TargetAdapter } from './adapter.js';
import { messagesRoute } from './messages/adapter.js';
import { responsesRoute } from './responses/adapter.js';

/**
 * `adapter` with how its target serves the Messages API and Responses API routes. Made from the
 * adapter as sent to the target, its provider's changes (dropped parameters, answer limit) included.
 */
export const targetAdapter = (adapter: ProviderAdapter): TargetAdapter => ({ ...adapter, messagesRoute: messagesRoute(adapter), responsesRoute: responsesRoute(adapter) });
