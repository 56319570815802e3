/** Time as the simulated engine sees it: injected so that tests can step it by hand. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(ms: number, fire: () => void): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer: (ms, fire) => void setTimeout(fire, ms),
};
