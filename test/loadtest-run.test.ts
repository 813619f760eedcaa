import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderHtml } from '../tools/loadtest/report-html';
import { renderJson, writeReports } from '../tools/loadtest/report-json';
import type { LoadTestResult } from '../tools/loadtest/result';
import { LoadTestAbort, runLoadTest } from '../tools/loadtest/run-load-test';
import { formatSummary } from '../tools/loadtest/summary';
import { startFakeTxflow, startMockServer, tinyOptions, type Bug } from './support/loadtest-stand-in';

describe('loadtest: runLoadTest against a stand-in txflow and the real mock', function () {
  this.timeout(60_000);
  let mock: Awaited<ReturnType<typeof startMockServer>>;
  let result: LoadTestResult;

  before(async function () {
    mock = await startMockServer();
  });
  after(async function () {
    await mock.stop();
  });

  it('runs every phase, verifies the downstream and passes', async function () {
    const api = await startFakeTxflow(mock.url, 'none');
    try {
      result = await runLoadTest(
        tinyOptions(api.url, mock.url, {
          faults: { postLatencyMs: { min: 0, max: 5 }, preWriteFailureRate: 0 },
        }),
      );
    } finally {
      await api.stop();
    }
    const failed = result.checks.filter((c) => c.ok === false);
    assert.deepEqual(failed, [], formatSummary(result));
    assert.equal(result.passed, true);
    assert.deepEqual(
      result.phases.map((p) => p.name),
      ['warmup', 'performance', 'stress'],
    );
    const perf = result.phases[1];
    assert.ok(perf !== undefined);
    assert.equal(perf.transactions, 40);
    assert.equal(perf.submissions.sent, perf.submissions.planned);
    assert.equal(perf.submissions.accepted, perf.submissions.sent);
    assert.ok(perf.submissions.duplicates > 0);
    assert.ok(perf.latencyMs.fromPlanned.count === perf.submissions.sent);
    assert.ok(perf.latencyMs.fromPlanned.p50 >= perf.latencyMs.fromSent.p50 - 0.01);
    assert.ok(result.stress !== null && result.stress.steps.length >= 1);
    assert.ok(result.stress.steps.every((s) => s.name.startsWith('stress@')));
    const v = result.verification;
    assert.ok(v !== null);
    const transactions = result.phases.reduce((a, p) => a + p.transactions, 0);
    assert.equal(v.started, transactions);
    assert.equal(v.heldOnce, transactions);
    assert.equal(v.rowsForRun, transactions);
    assert.equal(result.completion.completed, transactions);
    assert.ok(result.completion.endToEndMs.count === transactions);
    // Most statuses came from the listing; per-ID polls only filled in.
    const c = result.completion;
    assert.equal(c.sweep.listing, 'used');
    assert.equal(c.settledBy.sweep + c.settledBy.poll, transactions);
    assert.ok(c.settledBy.sweep > c.settledBy.poll, JSON.stringify(c.settledBy));
    assert.match(
      formatSummary(result),
      /settled: \d+ by a listing sweep, \d+ by a per-ID poll; \d+ listing sweeps/,
    );
    assert.ok(result.timeline.length >= 2);
    // The fault knobs were set for the run and put back.
    assert.equal(result.faults.restored, true);
    assert.deepEqual(mock.faults.settings().postLatencyMs, { min: 0, max: 0 });
    assert.equal(result.faults.during?.postLatencyMs.max, 5);
  });

  it('writes a JSON result with the expected keys', async function () {
    const parsed = JSON.parse(renderJson(result)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed).sort(), [
      'apiHealth',
      'checks',
      'completion',
      'durationSeconds',
      'endToEndBins',
      'environment',
      'faults',
      'finishedAt',
      'idPrefix',
      'interrupted',
      'options',
      'passed',
      'phases',
      'runId',
      'schema',
      'startedAt',
      'stress',
      'target',
      'timeline',
      'verification',
      'verificationError',
      'warnings',
    ]);
    assert.equal(parsed.schema, 'txflow-loadtest/1');
    const phase = (parsed.phases as Record<string, unknown>[])[0] as Record<string, unknown>;
    for (const key of ['latencyMs', 'scheduleLagMs', 'acceptedPerSecond', 'errors', 'submissions', 'hdr']) {
      assert.ok(key in phase, key);
    }
    const latency = (phase.latencyMs as Record<string, Record<string, unknown>>).fromPlanned as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(latency), ['count', 'mean', 'p50', 'p90', 'p99', 'p999', 'max']);
    const dir = await mkdtemp(path.join(tmpdir(), 'txflow-loadtest-'));
    try {
      const files = await writeReports(result, dir);
      assert.match(path.basename(files.json), /^loadtest-\d{8}T\d{6}Z\.json$/);
      assert.deepEqual(JSON.parse(await readFile(files.json, 'utf8')), parsed);
      assert.match(await readFile(files.html, 'utf8'), /<svg/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes a self-contained HTML report: inline SVG charts, nothing fetched, text escaped', function () {
    const html = renderHtml({ ...result, warnings: ['<script>alert(1)</script>'] });
    assert.match(html, /^<!doctype html>/);
    assert.ok((html.match(/<svg /g) ?? []).length >= 4, 'latency, throughput, backlog and end-to-end charts');
    assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i, 'no external src or href');
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\(/i, 'no script, stylesheet or image');
    assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
    assert.match(html, /PASS/);
    assert.match(formatSummary(result), /RESULT: PASS/);
  });

  const bugs: [Bug, RegExp][] = [
    ['post-twice', /no transaction posted twice/],
    ['ack-without-post', /no accepted transaction lost/],
    ['never-finish', /every accepted transaction finished/],
    ['conflict-on-repeat', /no submission refused/],
  ];
  for (const [bug, check] of bugs) {
    it(`fails when the target has a bug: ${bug}`, async function () {
      const api = await startFakeTxflow(mock.url, bug);
      let r: LoadTestResult;
      try {
        r = await runLoadTest(
          tinyOptions(api.url, mock.url, {
            phases: ['performance'],
            durationSeconds: 0.5,
            deadlineSeconds: 2,
          }),
        );
      } finally {
        await api.stop();
      }
      assert.equal(r.passed, false);
      const failed = r.checks.filter((c) => c.ok === false).map((c) => c.name);
      assert.ok(
        failed.some((name) => check.test(name)),
        `failed checks: ${failed.join(' | ')}`,
      );
    });
  }

  it('finds the knee of a target with a capacity of 40 submissions/s', async function () {
    const api = await startFakeTxflow(mock.url, 'none', 25);
    let r: LoadTestResult;
    try {
      r = await runLoadTest(
        tinyOptions(api.url, mock.url, {
          phases: ['stress'],
          duplicates: 0,
          stressStart: 20,
          stressStep: 60,
          stressMax: 140,
          stressStepSeconds: 1,
        }),
      );
    } finally {
      await api.stop();
    }
    const s = r.stress;
    assert.ok(s !== null);
    assert.deepEqual(
      s.steps.map((st) => [st.rate, st.judged, st.verdict.keptUp]),
      [
        [20, true, true],
        [80, true, false],
        [140, false, false],
      ],
      formatSummary(r),
    );
    assert.equal(s.kneeIndex, 0);
    assert.equal(s.knee?.rate, 20);
    assert.equal(s.saturated, true);
    assert.match(s.stopReason, /^stress@80 did not keep up/);
    assert.match(s.steps[2]?.verdict.reasons[0] ?? '', /cut short/);
    const cutStep = s.steps[2];
    assert.ok(
      cutStep !== undefined &&
        cutStep.submissions.sent < 140 &&
        cutStep.submissions.planned === cutStep.submissions.sent,
    );
    // Everything that was sent is still verified.
    assert.equal(r.passed, true, formatSummary(r));
  });

  it('follows a target without the listing by per-ID polls only, and says so', async function () {
    const api = await startFakeTxflow(mock.url, 'none', 0, false);
    let r: LoadTestResult;
    try {
      r = await runLoadTest(
        tinyOptions(api.url, mock.url, { phases: ['performance'], durationSeconds: 0.5 }),
      );
    } finally {
      await api.stop();
    }
    assert.equal(r.passed, true, formatSummary(r));
    const c = r.completion;
    assert.equal(c.sweep.listing, 'unsupported');
    assert.deepEqual(c.settledBy, { sweep: 0, poll: c.completed });
    assert.ok(c.completed > 0);
    assert.ok(
      r.warnings.some((w) => /listing is not available .*answered 404/.test(w)),
      r.warnings.join('\n'),
    );
    assert.match(renderHtml(r), /listing sweep \(unsupported\)/);
  });

  it('runs without a mock, skipping the downstream checks', async function () {
    const api = await startFakeTxflow(mock.url, 'none');
    try {
      const r = await runLoadTest(
        tinyOptions(api.url, null, { phases: ['performance'], durationSeconds: 0.5 }),
      );
      assert.equal(r.verification, null);
      assert.equal(r.passed, true);
      assert.ok(r.checks.some((c) => c.ok === null));
    } finally {
      await api.stop();
    }
  });

  it('refuses to start when the API or the mock cannot be reached', async function () {
    await assert.rejects(
      runLoadTest(tinyOptions('http://127.0.0.1:9', null)),
      (err: unknown) => err instanceof LoadTestAbort && /127\.0\.0\.1:9/.test(err.message),
    );
    const api = await startFakeTxflow(mock.url, 'none');
    try {
      await assert.rejects(
        runLoadTest(tinyOptions(api.url, 'http://127.0.0.1:9')),
        (err: unknown) => err instanceof LoadTestAbort && /--mock none/.test(err.message),
      );
    } finally {
      await api.stop();
    }
  });
});
