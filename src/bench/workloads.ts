import { hash32, prng } from '../sim/text.js';

export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };

/** One request a workload wants sent, and what to do with the answer. */
export interface WorkItem {
  messages: ChatMessage[];
  /** Called with the generated text (multi-turn conversations grow with it). */
  done(answer: string): void;
}

export interface Workload {
  readonly name: WorkloadName;
  /** The next request, or undefined when none can be issued right now (every conversation is waiting). */
  next(): WorkItem | undefined;
}

export const WORKLOAD_NAMES = ['shared-prefix', 'multi-turn', 'random'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export interface WorkloadOptions {
  seed: number;
  /** shared-prefix: groups, each with its own long system prompt. */
  groups: number;
  /** shared-prefix: words in each system prompt (≈ tokens for the simulated engine). */
  systemWords: number;
  /** multi-turn: conversations in play at once. */
  conversations: number;
  /** multi-turn: turns before a conversation is replaced by a new one. */
  turns: number;
  /** Words in each user question (random: words in each whole prompt). */
  questionWords: number;
  /** shared-prefix: Zipf exponent of group popularity (0: uniform; 1.5: the first group takes ~40%). */
  skew: number;
}

export const WORKLOAD_DEFAULTS: WorkloadOptions = { seed: 1, groups: 16, systemWords: 1500, conversations: 32, turns: 8, questionWords: 40, skew: 0 };

const WORDS = (
  'axle ballast bogie buffer cab coupling crossing depot diesel freight gauge haul junction lever locomotive manifest ' +
  'platform points rail ramp route shunt siding signal sleeper switch tender timetable track tunnel wagon yard'
).split(' ');

function text(random: () => number, words: number, tag: string): string {
  const out = [tag];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(random() * WORDS.length)]!);
  return out.join(' ');
}

/** G groups of a long system prompt, many different questions each; groups chosen by Zipf popularity. */
function sharedPrefix(o: WorkloadOptions): Workload {
  const random = prng(o.seed);
  const weights = Array.from({ length: o.groups }, (_, g) => 1 / (g + 1) ** o.skew);
  const total = weights.reduce((sum, w) => sum + w, 0);
  const pickGroup = () => {
    let r = random() * total;
    for (let g = 0; g < o.groups; g++) if ((r -= weights[g]!) <= 0) return g;
    return o.groups - 1;
  };
  const systems = Array.from({ length: o.groups }, (_, g) => text(prng(hash32(`group-${g}-${o.seed}`)), o.systemWords, `Group ${g} operating manual.`));
  let asked = 0;
  return {
    name: 'shared-prefix',
    next: () => {
      const group = pickGroup();
      return {
        messages: [
          { role: 'system', content: systems[group]! },
          { role: 'user', content: text(random, o.questionWords, `Question ${asked++}:`) },
        ],
        done() {},
      };
    },
  };
}

/** Conversations that grow turn by turn; a conversation waits for its answer before its next turn. */
function multiTurn(o: WorkloadOptions): Workload {
  const random = prng(o.seed);
  let started = 0;
  const fresh = () => ({ messages: [{ role: 'system', content: text(random, 200, `Conversation ${started++} briefing.`) }] as ChatMessage[], turns: 0, busy: false });
  const conversations = Array.from({ length: o.conversations }, fresh);
  return {
    name: 'multi-turn',
    next: () => {
      const idle = conversations.filter((c) => !c.busy);
      if (idle.length === 0) return undefined;
      let conversation = idle[Math.floor(random() * idle.length)]!;
      if (conversation.turns >= o.turns) {
        const replacement = fresh();
        conversations[conversations.indexOf(conversation)] = replacement;
        conversation = replacement;
      }
      conversation.busy = true;
      conversation.turns++;
      conversation.messages.push({ role: 'user', content: text(random, o.questionWords, `Turn ${conversation.turns}:`) });
      const active = conversation;
      return {
        messages: active.messages.slice(),
        done(answer) {
          active.messages.push({ role: 'assistant', content: answer });
          active.busy = false;
        },
      };
    },
  };
}

/** Unrelated prompts of a similar length: nothing to share, only load matters. */
function randomPrompts(o: WorkloadOptions): Workload {
  const random = prng(o.seed);
  let asked = 0;
  return {
    name: 'random',
    next: () => ({ messages: [{ role: 'user', content: text(random, o.systemWords / 2, `Request ${asked++} ${random()}.`) }], done() {} }),
  };
}

export function createWorkload(name: WorkloadName, options: WorkloadOptions): Workload {
  if (name === 'shared-prefix') return sharedPrefix(options);
  if (name === 'multi-turn') return multiTurn(options);
  return randomPrompts(options);
}
