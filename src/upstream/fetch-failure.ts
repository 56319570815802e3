/** Why a `fetch` failed: it says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a timeout, …) is its cause. */
export function fetchFailureReason(error: unknown): string {
  const cause = (error as Error).cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
