import { badRequest } from '../../server/errors.js';
import { parsedChunk } from '../openai-chunks.js';
import type { ResponseStatus } from './response.js';
import type { ToolKind } from './tools.js';

type Item = Record<string, unknown>;

/** The prefix of the router's id for each kind of tool call item (`fc_…`, `ctc_…`, `lsh_…`). */
export const CALL_ITEM_PREFIX: Readonly<Record<ToolKind, string>> = { function: 'fc', custom: 'ctc', local_shell: 'lsh' };

/** A chat tool call (its whole arguments) as the output item of its tool's kind. */
export function toolCallItem(kind: ToolKind, id: string, callId: string, name: string, args: string, status: ResponseStatus): Item {
  if (kind === 'custom') return customToolCallItem(id, callId, name, customInput(args));
  if (kind === 'local_shell') return { id, type: 'local_shell_call', call_id: callId, action: localShellAction(args), status };
  return functionCallItem(id, callId, name, args, status);
}

export const functionCallItem = (id: string, callId: string, name: string, args: string, status: ResponseStatus): Item => ({
  id,
  type: 'function_call',
  call_id: callId,
  name,
  arguments: args,
  status,
});

/** A `custom_tool_call` (which has no status). */
export const customToolCallItem = (id: string, callId: string, name: string, input: string): Item => ({ id, type: 'custom_tool_call', call_id: callId, name, input });

/** A custom tool's text: the `input` string of the chat call's arguments, or the arguments' own text when they are not such an object. */
export function customInput(args: string): string {
  const input = parsedChunk<Item>(args)?.input;
  return typeof input === 'string' ? input : args;
}

/**
 * The LocalShellExecAction of a chat call's arguments, with the fields it always has. A command that
 * is no array is none (the client reports that to the model); its non-string words are their JSON.
 */
function localShellAction(args: string): Item {
  const { command, timeout_ms: timeout, working_directory: directory, env, user } = parsedChunk<Item>(args) ?? {};
  return {
    type: 'exec',
    command: Array.isArray(command) ? command.map((word: unknown) => (typeof word === 'string' ? word : JSON.stringify(word))) : [],
    timeout_ms: Number.isInteger(timeout) ? timeout : null,
    working_directory: typeof directory === 'string' ? directory : null,
    env: Object.fromEntries(Object.entries(env !== null && typeof env === 'object' ? env : {}).filter(([, value]) => typeof value === 'string')),
    user: typeof user === 'string' ? user : null,
  };
}

/** A `custom_tool_call` input item's chat arguments: its text as the `input` its chat function takes. */
export const customArguments = (input: string): string => JSON.stringify({ input });

/** A `local_shell_call` input item's chat arguments: its exec action's fields that have a value (as the model gave them). */
export function localShellArguments(action: unknown, where: string): string {
  if (action === null || typeof action !== 'object' || Array.isArray(action)) throw badRequest(`${where}.action must be an object`, `${where}.action`, 'invalid_type');
  return JSON.stringify(Object.fromEntries(Object.entries(action).filter(([field, value]) => field !== 'type' && value !== null && value !== undefined)));
}
