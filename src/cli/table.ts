/**
 * Plain-text table: columns padded to their widest cell. A column whose cells all look numeric is
 * right-aligned, its header included, so that digits line up under their header; a number in a
 * column of text (a model named "7") stays left-aligned with its neighbours.
 */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const numeric = /^[-+]?[\d.,]+(%| ms| s)?$|^–$/;
  const rightAligned = headers.map((_, i) => rows.length > 0 && rows.every((r) => numeric.test(stripAnsi(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i]! - visibleLength(cell));
        return rightAligned[i] ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const ANSI = /\x1b\[[0-9;]*m/g;
const stripAnsi = (text: string) => text.replace(ANSI, '');
const visibleLength = (text: string) => stripAnsi(text).length;

export const formatMs = (ms: number | null) => (ms === null ? '–' : ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);
export const formatPercent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

/** ANSI colours when writing to a terminal, plain text otherwise. */
export function palette(enabled: boolean) {
  const wrap = (code: number) => (text: string) => (enabled ? `\x1b[${code}m${text}\x1b[0m` : text);
  return { green: wrap(32), red: wrap(31), yellow: wrap(33), dim: wrap(2), bold: wrap(1) };
}
