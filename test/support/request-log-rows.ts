import type { StoredRequest } from '../../src/store/request-log.js';
import { waitFor } from './processes.js';

/** The router's request-log row for `requestId`, once flushed (`headers`: the admin token, where the router has one). */
export function loggedRequest(routerUrl: string, requestId: string, headers: Record<string, string> = {}): Promise<StoredRequest> {
  return waitFor(async () => {
    const { data } = (await (await fetch(`${routerUrl}/admin/requests?since=0`, { headers })).json()) as { data: StoredRequest[] };
    return data.find((row) => row.requestId === requestId);
  }, `request ${requestId} in the request log`);
}
