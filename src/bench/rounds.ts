/**
 * Measures `count` variants in `rounds` interleaved rounds, the order rotated each round, so that
 * load from elsewhere on the machine (a shared VM's speed drifts by tens of percent over
 * minutes) hits every variant alike. Returns each variant's results, one per round.
 */
export async function interleavedRounds<T>(count: number, rounds: number, measure: (variant: number) => Promise<T>): Promise<T[][]> {
  const results: T[][] = Array.from({ length: count }, () => []);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < count; i++) {
      const variant = (i + round) % count;
      results[variant]!.push(await measure(variant));
    }
  }
  return results;
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The median over rounds of `a / b` measured in the same round. */
export const medianRatio = (a: number[], b: number[]) => median(a.map((value, round) => value / b[round]!));

/** Errors summed over every round, not only the median one's. */
export const totalErrors = (rounds: ReadonlyArray<{ errors: number }>) => rounds.reduce((sum, round) => sum + round.errors, 0);
