/** Inline SVG charts, drawn here: no script, no font or file from elsewhere (docs/decisions/0005). */

import { logTicks, niceTicks, tickLabel } from './svg-ticks';

export interface Series {
  name: string;
  color: string;
  /** [x, y]; a null y breaks the line. */
  points: readonly (readonly [number, number | null])[];
  dashed?: boolean;
}

/** A labelled stretch of the x axis (a phase), shaded every other one. */
export interface Band {
  from: number;
  to: number;
  label: string;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  yScale?: 'linear' | 'log';
  bands?: readonly Band[];
  width?: number;
  height?: number;
}

export interface HistogramOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  bins: readonly { fromMs: number; toMs: number; count: number }[];
  /** Vertical lines, e.g. p50 and p99. */
  markers?: readonly { value: number; label: string }[];
  color?: string;
  width?: number;
  height?: number;
}

const M = { left: 64, right: 16, top: 46, bottom: 46 };

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Frame {
  width: number;
  height: number;
  x: (v: number) => number;
  y: (v: number) => number;
}

function frame(
  width: number,
  height: number,
  xDomain: [number, number],
  yDomain: [number, number],
  yLog: boolean,
  xLog = false,
): Frame {
  const plotW = width - M.left - M.right;
  const plotH = height - M.top - M.bottom;
  const scale = (domain: [number, number], log: boolean, size: number, invert: boolean) => {
    const f = log ? Math.log10 : (v: number) => v;
    const [a, b] = [f(domain[0]), f(domain[1])];
    const span = b - a || 1;
    return (v: number) => {
      const t = (f(log ? Math.max(v, domain[0]) : v) - a) / span;
      return invert ? M.top + size * (1 - t) : M.left + size * t;
    };
  };
  return {
    width,
    height,
    x: scale(xDomain, xLog, plotW, false),
    y: scale(yDomain, yLog, plotH, true),
  };
}

const n = (v: number) => (Math.round(v * 10) / 10).toString();

function axes(
  f: Frame,
  xTicks: number[],
  yTicks: number[],
  title: string,
  xLabel: string,
  yLabel: string,
): string[] {
  const parts: string[] = [];
  const bottom = f.height - M.bottom;
  const right = f.width - M.right;
  parts.push(`<text x="${M.left}" y="18" class="title">${escapeXml(title)}</text>`);
  for (const t of yTicks) {
    const y = n(f.y(t));
    parts.push(`<line x1="${M.left}" x2="${right}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${M.left - 6}" y="${y}" class="ytick">${escapeXml(tickLabel(t))}</text>`);
  }
  for (const t of xTicks) {
    const x = n(f.x(t));
    parts.push(`<line x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 4}" class="axis"/>`);
    parts.push(`<text x="${x}" y="${bottom + 16}" class="xtick">${escapeXml(tickLabel(t))}</text>`);
  }
  parts.push(`<line x1="${M.left}" x2="${right}" y1="${bottom}" y2="${bottom}" class="axis"/>`);
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${bottom}" class="axis"/>`);
  parts.push(
    `<text x="${(M.left + right) / 2}" y="${f.height - 8}" class="xlabel">${escapeXml(xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${(M.top + bottom) / 2}) rotate(-90)" class="ylabel">${escapeXml(yLabel)}</text>`,
  );
  return parts;
}

function svg(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<style>.title{font:600 14px sans-serif;fill:#222}.xtick,.xlabel{font:11px sans-serif;fill:#555;text-anchor:middle}` +
      `.ytick{font:11px sans-serif;fill:#555;text-anchor:end;dominant-baseline:middle}.ylabel{font:11px sans-serif;fill:#555;text-anchor:middle}` +
      `.grid{stroke:#e5e5e5;stroke-width:1}.axis{stroke:#888;stroke-width:1}.band{fill:#f3f6fa}.bandlabel{font:10px sans-serif;fill:#789}` +
      `.legend{font:11px sans-serif;fill:#333;dominant-baseline:middle}.marker{stroke:#c33;stroke-width:1;stroke-dasharray:4 3}` +
      `.markerlabel{font:10px sans-serif;fill:#c33}</style>`,
    ...body,
    '</svg>',
  ].join('\n');
}

/** An empty frame that says so. */
function noData(width: number, height: number, title: string): string {
  return svg(width, height, title, [
    `<text x="${M.left}" y="18" class="title">${escapeXml(title)}</text>`,
    `<text x="${width / 2}" y="${height / 2}" class="xlabel">no data</text>`,
  ]);
}

function legend(
  series: readonly { name: string; color: string; dashed?: boolean }[],
  width: number,
): string[] {
  const parts: string[] = [];
  let x = width - M.right;
  for (const s of [...series].reverse()) {
    const w = 26 + s.name.length * 6.2;
    x -= w;
    const dash = s.dashed === true ? ' stroke-dasharray="5 3"' : '';
    parts.push(
      `<line x1="${n(x)}" x2="${n(x + 18)}" y1="34" y2="34" stroke="${s.color}" stroke-width="2"${dash}/>`,
    );
    parts.push(`<text x="${n(x + 22)}" y="34" class="legend">${escapeXml(s.name)}</text>`);
  }
  return parts;
}

/** The y axis of a line chart: ticks and domain, from 0 (linear) or the decades of the positive values (log). */
function yAxis(ys: readonly number[], log: boolean): { ticks: number[]; domain: [number, number] } {
  if (log) {
    const positive = ys.filter((v) => v > 0);
    const values = positive.length > 0 ? positive : [1];
    const ticks = logTicks(Math.min(...values), Math.max(...values));
    return { ticks, domain: [ticks[0] ?? 1, ticks[ticks.length - 1] ?? 10] };
  }
  const ticks = niceTicks(0, Math.max(...ys, 1e-9), 5);
  return { ticks, domain: [0, ticks[ticks.length - 1] ?? 1] };
}

/** The phases along the x axis: every other one shaded, each labelled. */
function bandShapes(f: Frame, bands: readonly Band[]): string[] {
  const parts: string[] = [];
  bands.forEach((b, i) => {
    const x1 = f.x(b.from);
    const x2 = f.x(b.to);
    if (i % 2 === 0) {
      parts.push(
        `<rect x="${n(x1)}" y="${M.top}" width="${n(Math.max(0, x2 - x1))}" height="${f.height - M.top - M.bottom}" class="band"/>`,
      );
    }
    parts.push(`<text x="${n(x1 + 3)}" y="${M.top + 11}" class="bandlabel">${escapeXml(b.label)}</text>`);
  });
  return parts;
}

/** One series as a path; a null (or, on a log scale, a value <= 0) lifts the pen. Null if nothing to draw. */
function seriesPath(f: Frame, s: Series, log: boolean): string | null {
  let d = '';
  let pen = false;
  for (const [x, y] of s.points) {
    if (y === null || (log && y <= 0)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${n(f.x(x))} ${n(f.y(y))}`;
    pen = true;
  }
  if (d === '') return null;
  const dash = s.dashed === true ? ' stroke-dasharray="5 3"' : '';
  return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6" stroke-linejoin="round"${dash}/>`;
}

/** A line chart; empty series give an empty frame with "no data". */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 960;
  const height = o.height ?? 300;
  const log = o.yScale === 'log';
  const bands = o.bands ?? [];
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1]).filter((v): v is number => v !== null));
  const xMin = Math.min(...xs, ...bands.map((b) => b.from));
  const xMax = Math.max(...xs, ...bands.map((b) => b.to));
  if (xs.length === 0 || ys.length === 0 || !Number.isFinite(xMin)) return noData(width, height, o.title);
  const y = yAxis(ys, log);
  const f = frame(width, height, [xMin, Math.max(xMax, xMin + 1)], y.domain, log);
  const paths = o.series.map((s) => seriesPath(f, s, log)).filter((p): p is string => p !== null);
  return svg(width, height, o.title, [
    ...bandShapes(f, bands),
    ...axes(f, niceTicks(xMin, xMax, 10), y.ticks, o.title, o.xLabel, o.yLabel),
    ...paths,
    ...legend(o.series, width),
  ]);
}

/** Bars over a log x axis (bins given in ms), with marker lines. */
export function histogramChart(o: HistogramOptions): string {
  const width = o.width ?? 960;
  const height = o.height ?? 300;
  const bins = o.bins.filter((b) => b.toMs > 0);
  if (bins.length === 0) return noData(width, height, o.title);
  const lo = Math.min(...bins.map((b) => b.fromMs));
  const hi = Math.max(...bins.map((b) => b.toMs));
  const xTicks = logTicks(lo, hi).filter((t) => t >= lo && t <= hi);
  const yTicks = niceTicks(0, Math.max(...bins.map((b) => b.count)), 5);
  const f = frame(width, height, [lo, hi], [0, yTicks[yTicks.length - 1] ?? 1], false, true);
  const body = axes(f, xTicks, yTicks, o.title, o.xLabel, o.yLabel);
  const color = o.color ?? '#4a7dbf';
  for (const b of bins) {
    const x1 = f.x(b.fromMs);
    const x2 = f.x(b.toMs);
    const y = f.y(b.count);
    body.push(
      `<rect x="${n(x1 + 0.5)}" y="${n(y)}" width="${n(Math.max(0.5, x2 - x1 - 1))}" height="${n(height - M.bottom - y)}" fill="${color}">` +
        `<title>${escapeXml(`${tickLabel(b.fromMs)}-${tickLabel(b.toMs)} ms: ${b.count}`)}</title></rect>`,
    );
  }
  (o.markers ?? []).forEach((m, i) => {
    if (m.value < lo || m.value > hi) return;
    const px = f.x(m.value);
    const x = n(px);
    // Labels right of the line, or left of it near the right edge; alternate heights so close ones do not overlap.
    const anchor = px > width - M.right - 80 ? ' text-anchor="end"' : '';
    const dx = anchor === '' ? 3 : -3;
    body.push(`<line x1="${x}" x2="${x}" y1="${M.top}" y2="${height - M.bottom}" class="marker"/>`);
    body.push(
      `<text x="${n(px + dx)}" y="${M.top + 10 + (i % 2) * 12}" class="markerlabel"${anchor}>${escapeXml(m.label)}</text>`,
    );
  });
  return svg(width, height, o.title, body);
}
