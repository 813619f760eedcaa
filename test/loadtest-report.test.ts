import assert from 'node:assert/strict';
import { renderTable } from '../src/reconcile/table';
import { buildChecks } from '../tools/loadtest/checks';
import { logBins } from '../tools/loadtest/metrics';
import { escapeXml, histogramChart, lineChart, logTicks, niceTicks } from '../tools/loadtest/svg-chart';

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
