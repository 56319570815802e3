import { randomUUID } from 'node:crypto';

/** An id the router makes for what a translated answer must name and the target gave no id for (`resp_…`, `msg_…`, `toolu_…`, `fc_…`). */
export const routerId = (prefix: string): string => `${prefix}_${randomUUID().replaceAll('-', '')}`;
