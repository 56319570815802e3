/** A numbered Claude model id's family and version (`claude-opus-4-7`, `claude-sonnet-4-5-20250929`, `claude-haiku-5-5`); the date is no minor version. */
const NUMBERED = /claude-(opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?!\d)/;

/** Claude models named without a version number: each came after every numbered model before Claude 5. */
const UNNUMBERED = /claude-(mythos|fable)/;

export interface ClaudeVersion {
  family: string;
  major: number;
  minor: number;
}

/**
 * What an upstream model id says of the Claude model it names, for features that depend on the
 * model: Mythos and Fable count as newer than any numbered version; an id that names no version
 * (an alias of the operator's own) says nothing.
 */
export function claudeVersion(model: string): ClaudeVersion | undefined {
  const unnumbered = UNNUMBERED.exec(model);
  if (unnumbered) return { family: unnumbered[1]!, major: Number.POSITIVE_INFINITY, minor: 0 };
  const numbered = NUMBERED.exec(model);
  if (!numbered) return undefined;
  const [, family, major, minor] = numbered;
  return { family: family!, major: Number(major), minor: Number(minor ?? 0) };
}
