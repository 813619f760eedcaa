import assert from 'node:assert/strict';
import { renderTable } from '../src/reconcile/table';
import { buildChecks } from '../tools/loadtest/checks';
import { logBins } from '../tools/loadtest/metrics';
import { escapeXml, histogramChart, lineChart } from '../tools/loadtest/svg-chart';
import { logTicks, niceTicks, tickLabel } from '../tools/loadtest/svg-ticks';

describe('loadtest: charts and tables', function () {
  it('draws nice ticks and escapes text', function () {
    assert.deepEqual(niceTicks(0, 97, 5), [0, 20, 40, 60, 80, 100]);
    assert.deepEqual(niceTicks(0, 1, 4), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(logTicks(3, 700), [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    assert.equal(escapeXml(`<a href="x">&'`), '&#60;a href=&#34;x&#34;&#62;&#38;&#39;');
  });

  it('draws line and histogram charts as standalone SVG', function () {
    const line = lineChart({
      title: 'latency <ms>',
      xLabel: 's',
      yLabel: 'ms',
      yScale: 'log',
      bands: [{ from: 0, to: 2, label: 'warmup' }],
      series: [
        {
          name: 'p99',
          color: '#f00',
          points: [
            [0, 5],
            [1, null],
            [2, 50],
            [3, 500],
          ],
        },
      ],
    });
    assert.match(line, /^<svg [^>]*viewBox="0 0 960 300"/);
    assert.match(line, /latency &#60;ms&#62;/);
    assert.equal((line.match(/<path /g) ?? []).length, 1);
    assert.match(line, /d="M[\d.]+ [\d.]+M[\d.]+ [\d.]+L/, 'a null breaks the line');
    assert.match(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] }), /no data/);
    const hist = histogramChart({
      title: 'e2e',
      xLabel: 'ms',
      yLabel: 'n',
      bins: logBins([10, 20, 30, 400]),
      markers: [{ value: 20, label: 'p50' }],
    });
    assert.equal((hist.match(/<rect /g) ?? []).length, logBins([10, 20, 30, 400]).length);
    assert.match(hist, /p50/);
  });

  it('renders aligned text tables', function () {
    const t = renderTable(
      ['phase', 'p99'],
      [
        ['warmup', '12.5'],
        ['performance', '130'],
      ],
    );
    assert.equal(
      t,
      ['phase         p99', '-----------  ----', 'warmup       12.5', 'performance   130'].join('\n'),
    );
  });

  it('turns a result without a mock into skipped downstream checks', function () {
    const checks = buildChecks({
      phases: [],
      verification: null,
      verificationError: null,
      completion: {
        notTerminal: 0,
        completed: 1,
        failed: 0,
        cancelled: 0,
        deadlineSeconds: 1,
        notTerminalIds: [],
        failedTransactions: [],
      },
    } as unknown as Parameters<typeof buildChecks>[0]);
    assert.deepEqual(
      checks.map((c) => c.ok),
      [true, true, true, null],
    );
  });
});

describe('loadtest: SVG chart details', function () {
  const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;

  it('labels ticks compactly', function () {
    assert.deepEqual([0.5, 20, 1500, 15_000, 2_000_000].map(tickLabel), ['0.5', '20', '1500', '15k', '2M']);
  });

  it('draws a linear chart from 0: dashed series, every other band shaded, a legend entry per series', function () {
    const svg = lineChart({
      title: 'lin',
      xLabel: 'x',
      yLabel: 'y',
      bands: [
        { from: 0, to: 1, label: 'a' },
        { from: 1, to: 3, label: 'b' },
        { from: 3, to: 4, label: 'c' },
      ],
      series: [
        {
          name: 'one',
          color: '#f00',
          dashed: true,
          points: [
            [0, 1],
            [1, 2.5],
            [3, 7],
          ],
        },
        {
          name: 'two',
          color: '#00f',
          points: [
            [0, 0],
            [4, 3],
          ],
        },
      ],
    });
    assert.equal(count(svg, /class="band"/g), 2);
    assert.equal(count(svg, /class="bandlabel"/g), 3);
    assert.equal(count(svg, /<path [^>]*stroke-dasharray="5 3"/g), 1);
    assert.equal(count(svg, /<path /g), 2);
    assert.match(svg, /class="ytick">0</, 'the y axis starts at 0');
    assert.equal(count(svg, /class="legend"/g), 2);
  });

  it('leaves out what a log scale cannot show', function () {
    const svg = lineChart({
      title: 'log',
      xLabel: 'x',
      yLabel: 'y',
      yScale: 'log',
      series: [
        {
          name: 'a',
          color: '#f00',
          points: [
            [0, 0],
            [1, 0.5],
            [2, 3000],
          ],
        },
      ],
    });
    assert.match(svg, /<path d="M[\d.]+ [\d.]+L[\d.]+ [\d.]+"/, 'one line from 0.5 to 3000');
    assert.match(svg, /class="ytick">0\.1</);
    assert.match(svg, /class="ytick">10k</, 'decades up to 10k: 3000 on the scale');
  });

  it('draws a histogram without data, and one whose markers fall outside its bins or near its edge', function () {
    assert.match(histogramChart({ title: 'h', xLabel: 'ms', yLabel: 'n', bins: [] }), /no data/);
    const svg = histogramChart({
      title: 'h',
      xLabel: 'ms',
      yLabel: 'n',
      bins: logBins([1, 5, 10, 20, 30, 400, 9000]),
      markers: [
        { value: 20, label: 'p50' },
        { value: 8000, label: 'p99' },
        { value: 1e9, label: 'off the chart' },
      ],
    });
    assert.equal(count(svg, /class="marker"/g), 2);
    assert.doesNotMatch(svg, /off the chart/);
    assert.match(svg, /class="markerlabel" text-anchor="end">p99</, 'near the right edge: left of its line');
    assert.match(svg, /class="markerlabel">p50</);
    assert.match(svg, /<title>[^<]+ ms: \d+<\/title>/, 'each bar says its range and count');
  });
});
