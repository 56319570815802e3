import { anthropicErrorBody, anthropicErrorType } from '../anthropic/errors.js';

/**
 * An error answer on the Anthropic Messages API route, the router's own or a target's translated,
 * in Anthropic's shape (`{"type":"error","error":{"type","message"}}`): the Anthropic SDK reads its
 * message from there. The type follows the status (404 `not_found_error`, 429 `rate_limit_error`, …), as Anthropic's do.
 */
export const messagesErrorBody = (status: number, message: string): string => anthropicErrorBody(anthropicErrorType(status), message);
