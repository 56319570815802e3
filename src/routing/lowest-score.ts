import type { Backend } from '../fleet/backend.js';

/**
 * The candidate with the lowest `score`, scanning from index `start` (wrapped) and keeping the
 * first of equals, so that a start that moves on with each request makes ties round-robin.
 */
export function lowestScore(candidates: readonly Backend[], start: number, score: (backend: Backend) => number): { backend: Backend; score: number } {
  const count = candidates.length;
  let best = candidates[start % count]!;
  let bestScore = Infinity;
  for (let i = 0; i < count; i++) {
    const candidate = candidates[(start + i) % count]!;
    const candidateScore = score(candidate);
    if (candidateScore < bestScore) {
      best = candidate;
      bestScore = candidateScore;
    }
  }
  return { backend: best, score: bestScore };
}
