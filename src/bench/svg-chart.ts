import type { BenchRun } from './report.js';

const COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f'];

const escape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

interface Panel {
  title: string;
  value: (run: BenchRun) => number;
  format: (value: number) => string;
}

/**
 * Grouped bar charts, one panel per metric: a group per workload, a bar per label (policy).
 * Hand-written SVG so that the chart needs no dependency and diffs as text.
 */
export function comparisonChart(runs: BenchRun[], title: string): string {
  const panels: Panel[] = [
    { title: 'TTFT p50 (ms, lower is better)', value: (r) => r.summary.ttftMs.p50, format: (v) => v.toFixed(0) },
    { title: 'TTFT p99 (ms, lower is better)', value: (r) => r.summary.ttftMs.p99, format: (v) => v.toFixed(0) },
    { title: 'Prefix-cache hit rate (%, higher is better)', value: (r) => r.summary.prefixCacheHitRate * 100, format: (v) => v.toFixed(0) },
  ];
  const workloads = [...new Set(runs.map((r) => r.workload))];
  const labels = [...new Set(runs.map((r) => r.label))];
  const barWidth = 14;
  const groupGap = 28;
  const groupWidth = labels.length * barWidth + groupGap;
  const panelWidth = 60 + workloads.length * groupWidth;
  const panelHeight = 220;
  const plotHeight = 150;
  const width = Math.max(panelWidth, 640);
  const legendHeight = 24 + Math.ceil(labels.length / 4) * 18;
  const height = 40 + panels.length * panelHeight + legendHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`,
  ];
  panels.forEach((panel, p) => {
    const top = 40 + p * panelHeight;
    const baseline = top + 30 + plotHeight;
    const max = Math.max(1, ...runs.map(panel.value));
    parts.push(`<text x="10" y="${top + 16}" font-size="13" font-weight="bold">${escape(panel.title)}</text>`);
    parts.push(`<line x1="50" y1="${baseline}" x2="${panelWidth}" y2="${baseline}" stroke="#333"/>`);
    workloads.forEach((workload, w) => {
      const left = 60 + w * groupWidth;
      labels.forEach((label, l) => {
        const run = runs.find((r) => r.workload === workload && r.label === label);
        if (!run) return;
        const value = panel.value(run);
        const h = (value / max) * plotHeight;
        const x = left + l * barWidth;
        parts.push(`<rect x="${x}" y="${(baseline - h).toFixed(1)}" width="${barWidth - 2}" height="${h.toFixed(1)}" fill="${COLOURS[l % COLOURS.length]}"><title>${escape(`${workload} · ${label}: ${panel.format(value)}`)}</title></rect>`);
        parts.push(`<text x="${x + (barWidth - 2) / 2}" y="${(baseline - h - 3).toFixed(1)}" text-anchor="middle" font-size="8">${panel.format(value)}</text>`);
      });
      parts.push(`<text x="${left + (labels.length * barWidth) / 2}" y="${baseline + 14}" text-anchor="middle">${escape(workload)}</text>`);
    });
  });
  const legendTop = 40 + panels.length * panelHeight;
  labels.forEach((label, l) => {
    const x = 20 + (l % 4) * 150;
    const y = legendTop + Math.floor(l / 4) * 18;
    parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${COLOURS[l % COLOURS.length]}"/><text x="${x + 18}" y="${y + 10}">${escape(label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
