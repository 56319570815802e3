import { badRequest } from '../../server/errors.js';
import { shown } from '../chat-translation.js';

type Fields = Record<string, unknown>;

/**
 * The kinds of tool the bridge carries as chat function tools: the client's functions, its custom
 * (free-form text) tools such as Codex's `apply_patch`, and the local shell Codex runs itself.
 */
export type ToolKind = 'function' | 'custom' | 'local_shell';

/** A request's tools in chat's words, and the kind of tool each name calls, which decides the output item of a chat tool call. */
export interface RequestTools {
  chat: Fields[] | undefined;
  kinds: ReadonlyMap<string, ToolKind>;
}

/** The name the local shell tool has as a chat function. */
export const LOCAL_SHELL = 'local_shell';

/** A grammar longer than this is cut in a custom tool's description, which every request of the conversation carries. */
export const MAX_GRAMMAR_CHARS = 8000;

const CUSTOM_PARAMETERS = {
  type: 'object',
  properties: { input: { type: 'string', description: 'The free-form text input of the tool.' } },
  required: ['input'],
};

/** Chat's view of LocalShellExecAction (less its constant `type`). */
const LOCAL_SHELL_PARAMETERS = {
  type: 'object',
  properties: {
    command: { type: 'array', items: { type: 'string' }, description: 'The command to run, as its argument vector.' },
    timeout_ms: { type: 'integer', description: 'Timeout in milliseconds for the command.' },
    working_directory: { type: 'string', description: 'Working directory to run the command in.' },
    env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Environment variables to set for the command.' },
    user: { type: 'string', description: 'User to run the command as.' },
  },
  required: ['command'],
};

const NO_TOOLS: RequestTools = { chat: undefined, kinds: new Map() };

/** Each `tools` array's translation, made once whether the request's translation or its answer asks first. */
const translations = new WeakMap<object, RequestTools>();

/**
 * A request's tools as chat tools: function tools as they are, a `custom` tool as a function taking
 * its text as one string `input` (its grammar, if any, told in the description), `local_shell` as a
 * function `local_shell` taking the exec action's fields. A tool only OpenAI runs (web search, file
 * search, computer use, MCP, …) is refused, named, as is a name given to tools of two kinds (a chat
 * call of it could be either).
 */
export function requestTools(tools: unknown): RequestTools {
  if (tools === undefined || tools === null) return NO_TOOLS;
  if (!Array.isArray(tools)) throw badRequest("Invalid type for 'tools': expected an array", 'tools', 'invalid_type');
  let translation = translations.get(tools);
  if (translation === undefined) {
    translation = translated(tools);
    translations.set(tools, translation);
  }
  return translation;
}

/** The kind of tool a chat tool call of `name` calls: a function, unless the request's tools say otherwise. */
export const toolKind = (tools: unknown, name: string): ToolKind => requestTools(tools).kinds.get(name) ?? 'function';

function translated(tools: unknown[]): RequestTools {
  if (tools.length === 0) return NO_TOOLS;
  const named = new Map<string, { kind: ToolKind; at: number }>();
  const chat = tools.map((tool: unknown, at) => {
    const { kind, definition } = chatFunction((tool ?? {}) as Fields, `tools[${at}]`);
    const name = definition.name as string;
    const first = named.get(name);
    if (first === undefined) named.set(name, { kind, at });
    else if (first.kind !== kind) {
      throw badRequest(`tools[${first.at}] (${first.kind}) and tools[${at}] (${kind}) are both named '${name}': a call of that name could be either`, `tools[${at}].name`, 'duplicate_tool_name');
    }
    return { type: 'function', function: definition };
  });
  return { chat, kinds: new Map([...named].map(([name, { kind }]) => [name, kind])) };
}

function chatFunction(tool: Fields, where: string): { kind: ToolKind; definition: Fields } {
  const { type, name, description, parameters, strict } = tool;
  if (type === LOCAL_SHELL) {
    return { kind: 'local_shell', definition: { name: LOCAL_SHELL, description: 'Runs a command on the local shell and returns its output.', parameters: LOCAL_SHELL_PARAMETERS } };
  }
  if (type !== 'function' && type !== 'custom') {
    throw badRequest(`${where}: tool type '${shown(type)}' is not supported for this model (its target has no Responses API): only function, custom and local_shell tools are`, `${where}.type`, 'unsupported_tool');
  }
  if (typeof name !== 'string') throw badRequest(`${where}.name must be a string`, `${where}.name`, 'invalid_type');
  const describes = typeof description === 'string' && description !== '';
  if (type === 'custom') {
    const text = `${describes ? `${description}\n\n` : ''}This tool takes free-form text: put all of it, unquoted, in the string "input".${grammarNote(tool.format, where)}`;
    return { kind: 'custom', definition: { name, description: text, parameters: CUSTOM_PARAMETERS } };
  }
  return { kind: 'function', definition: { name, ...(describes && { description }), ...(parameters !== undefined && parameters !== null && { parameters }), ...(typeof strict === 'boolean' && { strict }) } };
}

/** What the description says of a custom tool's input format: nothing for plain text, the grammar (bounded) its input must follow. */
function grammarNote(format: unknown, where: string): string {
  if (format === undefined || format === null) return '';
  const { type, syntax, definition } = format as Fields;
  if (type === 'text') return '';
  if (type !== 'grammar' || typeof definition !== 'string') {
    throw badRequest(`${where}.format must be {type: 'text'} or {type: 'grammar', syntax, definition}`, `${where}.format`, 'invalid_value');
  }
  const cut = definition.length > MAX_GRAMMAR_CHARS;
  const grammar = cut ? `${definition.slice(0, MAX_GRAMMAR_CHARS)}\n… (the grammar is cut here)` : definition;
  return `\n\nThe input must follow this ${typeof syntax === 'string' ? `${syntax} ` : ''}grammar:\n${grammar}`;
}
