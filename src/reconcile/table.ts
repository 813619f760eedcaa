export type Align = 'left' | 'right';

/** A plain-text table: columns padded to their widest cell, numbers right-aligned by default. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align?: Align[],
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const alignOf = (i: number): Align =>
    align?.[i] ?? (rows.every((r) => /^[-\d.,/%→ ]*$/.test(r[i] ?? '')) && i > 0 ? 'right' : 'left');
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (alignOf(i) === 'right' ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
