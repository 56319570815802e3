const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "1h", "7d" → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!match) throw new RangeError(`invalid duration "${text}": use a number and a unit, like 30s, 15m, 1h or 7d`);
  return Number(match[1]) * UNITS[match[2]!]!;
}
