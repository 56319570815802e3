/**
 * Time a request spends waiting on upstreams, so that the router's own overhead (the rest) can be
 * reported. An attempt's clock starts when it is sent and stops once its answer has been read.
 */
export interface UpstreamTiming {
  /** Time spent waiting on upstreams so far, in ms (their answers, and the pauses before retrying them). */
  upstreamMs: number;
  /** performance.now() when the attempt in progress was sent; cleared once its answer ended. */
  upstreamSentAt?: number;
  /** performance.now() when the latest attempt was sent, kept once it ended: where the answering target's own time starts. */
  lastSentAt?: number;
}

export function startUpstream(timing: UpstreamTiming): void {
  timing.upstreamSentAt = timing.lastSentAt = performance.now();
}

/** Adds the time since the current attempt was sent to the total (once per attempt). */
export function endUpstream(timing: UpstreamTiming): void {
  if (timing.upstreamSentAt === undefined) return;
  timing.upstreamMs += performance.now() - timing.upstreamSentAt;
  timing.upstreamSentAt = undefined;
}
