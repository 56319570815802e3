import { analyzeRequests, isError, type RequestSummary } from '../observability/request-analysis.js';
import { MAX_READ_ROWS, type StoredRequest } from '../store/request-log.js';
import { parseDuration } from './duration.js';
import { openRequestReader, type SourceOptions } from './request-source.js';
import { formatMs, formatPercent, formatTable, palette } from './table.js';

export interface AnalyzeOptions extends SourceOptions {
  last: string;
  model?: string;
}

const formatCost = (cost: number | null) => (cost === null ? '–' : cost.toFixed(4));

function summaryRow(s: RequestSummary): string[] {
  return [
    s.model, s.target, String(s.requests), String(s.errors), formatPercent(s.errorRate),
    formatMs(s.latencyP50Ms), formatMs(s.latencyP90Ms), formatMs(s.latencyP99Ms), formatMs(s.ttftP50Ms),
    String(s.promptTokens), String(s.completionTokens), formatCost(s.cost),
  ];
}

/** `switchyard logs analyze`: the request log of the last period, summarized per model and target. */
export async function analyzeCommand(options: AnalyzeOptions, now = Date.now()): Promise<string> {
  // A period longer than the epoch is the whole log (a Date that far back is invalid).
  const since = Math.max(0, now - parseDuration(options.last));
  const reader = openRequestReader(options);
  try {
    const rows = await reader.read({ since, model: options.model });
    if (rows.length === 0) return `no requests in the last ${options.last}${options.model ? ` for model ${options.model}` : ''}`;
    const { groups, total } = analyzeRequests(rows);
    const headers = ['model', 'target', 'requests', 'errors', 'error rate', 'p50', 'p90', 'p99', 'TTFT p50', 'prompt tok', 'completion tok', 'cost'];
    const table = `requests in the last ${options.last} (since ${new Date(since).toISOString()})\n\n${formatTable(headers, [...groups.map(summaryRow), summaryRow(total)])}`;
    // A router answers at most MAX_READ_ROWS rows, the newest: say so rather than analyse part of the period as if it were all of it.
    const capped = options.url !== undefined && rows.length >= MAX_READ_ROWS;
    return capped ? `${table}\n\nonly the newest ${MAX_READ_ROWS} requests of the period: a router answers no more at once; --db reads its whole log` : table;
  } finally {
    reader.close();
  }
}

export interface TailOptions extends SourceOptions {
  model?: string;
  status?: string;
  /** Rows shown from before the start. */
  lines: number;
  intervalMs: number;
  color: boolean;
}

export function formatRequestLine(r: StoredRequest, color: boolean): string {
  const c = palette(color);
  const status = isError(r.status) ? c.red(String(r.status)) : c.green(String(r.status));
  const tokens = r.promptTokens === null && r.completionTokens === null ? '' : ` tokens=${r.promptTokens ?? 0}+${r.completionTokens ?? 0}`;
  const ttft = r.ttftMs === null ? '' : ` ttft=${formatMs(r.ttftMs)}`;
  const extra = (r.retries ? ` retries=${r.retries}` : '') + (r.fallbacks ? ` fallbacks=${r.fallbacks}` : '') + (r.cacheStatus ? ` cache=${r.cacheStatus}` : '');
  return `${c.dim(new Date(r.ts).toISOString())} ${status} ${r.model} → ${r.target ?? '-'} ${formatMs(r.latencyMs)}${ttft}${tokens}${extra} id=${r.requestId}`;
}

/** `switchyard logs tail`: prints the last rows, then new ones as they are written, until `signal` aborts. */
export async function tailCommand(options: TailOptions, write: (line: string) => void, signal: AbortSignal): Promise<void> {
  const reader = openRequestReader(options);
  try {
    const filter = { model: options.model, status: options.status };
    let lastId = 0;
    const show = (rows: StoredRequest[]) => {
      for (const row of rows) write(formatRequestLine(row, options.color));
      lastId = rows.at(-1)?.id ?? lastId;
    };
    show(await reader.read({ ...filter, limit: options.lines }));
    while (!signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
      if (signal.aborted) break;
      const rows = await reader.read({ ...filter, afterId: lastId });
      show(rows);
    }
  } finally {
    reader.close();
  }
}
