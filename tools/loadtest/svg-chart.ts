/** Inline SVG charts, drawn here: no script, no font or file from elsewhere. */

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

/** About `count` round tick values (1, 2, 2.5 or 5 times a power of ten) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max <= min) max = min + 1;
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let t = Math.floor(min / step) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(Math.round(t / step) * step);
  }
  if ((ticks[ticks.length - 1] ?? -Infinity) < max) ticks.push((ticks[ticks.length - 1] ?? 0) + step);
  return ticks.map((t) => Number(t.toPrecision(12)));
}

/** 1, 2, 5 times powers of ten from below min to above max (min > 0). */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-6)));
  const hi = Math.ceil(Math.log10(Math.max(max, min * 10, 1e-6)));
  const ticks: number[] = [];
  for (let k = lo; k <= hi; k++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** k).toPrecision(12));
      if (v >= 10 ** lo && v <= 10 ** hi) ticks.push(v);
    }
  }
  return ticks;
}

/** A tick label: 0.5, 20, 1.5k, 2M. */
export function tickLabel(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
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
      return invert ? M.top + plotH * (1 - t) : M.left + plotW * t;
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

/** A line chart; empty series give an empty frame with "no data". */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 960;
  const height = o.height ?? 300;
  const log = o.yScale === 'log';
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1]).filter((v): v is number => v !== null));
  const positive = ys.filter((v) => v > 0);
  const xMin = Math.min(...xs, ...(o.bands ?? []).map((b) => b.from));
  const xMax = Math.max(...xs, ...(o.bands ?? []).map((b) => b.to));
  if (xs.length === 0 || ys.length === 0 || !Number.isFinite(xMin)) {
    return svg(width, height, o.title, [
      `<text x="${M.left}" y="18" class="title">${escapeXml(o.title)}</text>`,
      `<text x="${width / 2}" y="${height / 2}" class="xlabel">no data</text>`,
    ]);
  }
  const xTicks = niceTicks(xMin, xMax, 10);
  const xDomain: [number, number] = [xMin, Math.max(xMax, xMin + 1)];
  let yTicks: number[];
  let yDomain: [number, number];
  if (log) {
    yTicks = logTicks(
      Math.min(...(positive.length > 0 ? positive : [1])),
      Math.max(...(positive.length > 0 ? positive : [1])),
    );
    yDomain = [yTicks[0] ?? 1, yTicks[yTicks.length - 1] ?? 10];
  } else {
    yTicks = niceTicks(0, Math.max(...ys, 1e-9), 5);
    yDomain = [0, yTicks[yTicks.length - 1] ?? 1];
  }
  const f = frame(width, height, xDomain, yDomain, log);
  const body: string[] = [];
  (o.bands ?? []).forEach((b, i) => {
    const x1 = f.x(b.from);
    const x2 = f.x(b.to);
    if (i % 2 === 0) {
      body.push(
        `<rect x="${n(x1)}" y="${M.top}" width="${n(Math.max(0, x2 - x1))}" height="${height - M.top - M.bottom}" class="band"/>`,
      );
    }
    body.push(`<text x="${n(x1 + 3)}" y="${M.top + 11}" class="bandlabel">${escapeXml(b.label)}</text>`);
  });
  body.push(...axes(f, xTicks, yTicks, o.title, o.xLabel, o.yLabel));
  for (const s of o.series) {
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
    if (d === '') continue;
    const dash = s.dashed === true ? ' stroke-dasharray="5 3"' : '';
    body.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6" stroke-linejoin="round"${dash}/>`,
    );
  }
  body.push(...legend(o.series, width));
  return svg(width, height, o.title, body);
}

/** Bars over a log x axis (bins given in ms), with marker lines. */
export function histogramChart(o: HistogramOptions): string {
  const width = o.width ?? 960;
  const height = o.height ?? 300;
  const bins = o.bins.filter((b) => b.toMs > 0);
  if (bins.length === 0) {
    return svg(width, height, o.title, [
      `<text x="${M.left}" y="18" class="title">${escapeXml(o.title)}</text>`,
      `<text x="${width / 2}" y="${height / 2}" class="xlabel">no data</text>`,
    ]);
  }
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
