import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { ConfigError } from '../src/config/env';
import { parseAmount } from '../src/domain/money';
import { buildChecks } from '../tools/loadtest/checks';
import { CompletionTracker } from '../tools/loadtest/completion';
import { findKnee, judgeStep, stressRates } from '../tools/loadtest/knee';
import {
  logBins,
  newHistogram,
  percentile,
  recordMs,
  summarize,
  summarizeValues,
} from '../tools/loadtest/metrics';
import { MinHeap } from '../tools/loadtest/min-heap';
import { faultPatch, restorePatch } from '../tools/loadtest/mock-admin';
import {
  FlagError,
  loadTestOptions,
  parseFlags,
  usage,
  type LoadTestOptions,
} from '../tools/loadtest/options';
import { renderHtml } from '../tools/loadtest/report-html';
import { renderJson, writeReports } from '../tools/loadtest/report-json';
import type { LoadTestResult } from '../tools/loadtest/result';
import { LoadTestAbort, runLoadTest } from '../tools/loadtest/run-load-test';
import {
  arrivalsFor,
  poissonArrivals,
  runOpenLoop,
  uniformArrivals,
  type Clock,
} from '../tools/loadtest/schedule';
import { escapeXml, histogramChart, lineChart, logTicks, niceTicks } from '../tools/loadtest/svg-chart';
import { renderTable } from '../src/reconcile/table';
import { formatSummary } from '../tools/loadtest/summary';
import { verifyDownstream } from '../tools/loadtest/verify';
import { buildWorkload, makeTransaction, runIdPrefix } from '../tools/loadtest/workload';
import { mockSettings } from '../tools/mock/config';
import { startWorker, testClient, type RunningWorker } from './support/harness';
import { listingPage } from './support/listing-page';
import { startMock, type RunningMock } from './support/mock-server';
import { uniqueTaskQueue } from './support/temporal';
import { testApp } from './support/api';
import { createMockApp } from '../tools/mock/app';
import { Faults } from '../tools/mock/faults';
import { mulberry32 } from '../tools/mock/random';
import { TransactionStore, type MockStats } from '../tools/mock/store';

/** A clock that only moves when told: sleep jumps to the wake-up time (the scheduler is alone on it). */
class FakeClock implements Clock {
  t = 0;
  now = () => this.t;
  sleep = async (ms: number) => {
    this.t += ms;
  };
  yield = async () => {};
}

describe('loadtest: open-loop scheduler', function () {
  it('fires every item at its planned time on the grid, however slow the answers', async function () {
    const clock = new FakeClock();
    const items = uniformArrivals(100, 50).map((atMs, i) => ({ atMs, item: i }));
    const fired: { i: number; planned: number; actual: number }[] = [];
    const pending: Promise<void>[] = [];
    const report = await runOpenLoop(
      items,
      (i, planned, actual) => {
        fired.push({ i, planned, actual });
        // A slow server: each answer takes 5 s (of fake time, never reached here). Not awaited by the loop.
        pending.push(new Promise(() => {}));
      },
      { start: 1_000, clock },
    );
    assert.equal(report.dispatched, 50);
    assert.equal(fired.length, 50);
    fired.forEach((f, i) => {
      assert.equal(f.i, i);
      assert.equal(f.planned, 1_000 + i * 10, 'planned on the 10 ms grid');
      assert.equal(f.actual, f.planned, 'left on time');
    });
    assert.equal(report.lagMs.max, 0);
    // 50 items at 100/s end 490 ms after the start, not 50 x 5 s later as a closed loop would.
    assert.equal(clock.now(), 1_490);
  });

  it('keeps planned times on the grid when the sender itself is slow, and reports the lag', async function () {
    const clock = new FakeClock();
    const items = uniformArrivals(100, 20).map((atMs, i) => ({ atMs, item: i }));
    const fired: { planned: number; actual: number }[] = [];
    const report = await runOpenLoop(
      items,
      (_i, planned, actual) => {
        fired.push({ planned, actual });
        clock.t += 25; // each send blocks the process for 25 ms: the generator falls behind its 10 ms grid
      },
      { start: 0, clock },
    );
    fired.forEach((f, i) => assert.equal(f.planned, i * 10, 'planned time unchanged by the lag'));
    const lags = fired.map((f) => f.actual - f.planned);
    assert.deepEqual(
      lags,
      lags.map((_, i) => i * 15),
      'lag grows by 25 - 10 ms per send',
    );
    assert.equal(report.lagMs.max, 19 * 15);
    assert.ok(report.lagMs.p99 >= 270 && report.lagMs.p99 <= 285, `p99 lag ${report.lagMs.p99}`);
  });

  it('with the real clock, slow answers do not slow the sends (open, not closed loop)', async function () {
    this.timeout(10_000);
    const items = uniformArrivals(100, 30).map((atMs, i) => ({ atMs, item: i }));
    const answers: Promise<void>[] = [];
    const t0 = performance.now();
    const report = await runOpenLoop(
      items,
      () => {
        answers.push(new Promise((resolve) => setTimeout(resolve, 500)));
      },
      { start: performance.now() },
    );
    const dispatchMs = performance.now() - t0;
    assert.equal(report.dispatched, 30);
    // Closed loop: 30 x 500 ms = 15 s. Open loop: the 290 ms schedule plus timer slack.
    assert.ok(dispatchMs < 1_500, `dispatched in ${dispatchMs} ms`);
    assert.ok(report.lagMs.p99 < 200, `lag p99 ${report.lagMs.p99} ms`);
    await Promise.all(answers);
  });

  it('stops when the signal aborts', async function () {
    const clock = new FakeClock();
    const stop = new AbortController();
    const items = uniformArrivals(10, 100).map((atMs, i) => ({ atMs, item: i }));
    const report = await runOpenLoop(items, (i) => i === 9 && stop.abort(), {
      start: 0,
      clock,
      signal: stop.signal,
    });
    assert.equal(report.dispatched, 10);
  });

  it('makes uniform and Poisson arrivals at the asked rate', function () {
    assert.deepEqual(uniformArrivals(4, 4), [0, 250, 500, 750]);
    const poisson = poissonArrivals(50, 5_000, mulberry32(7));
    const rate = (poisson.length - 1) / ((poisson[poisson.length - 1] as number) / 1000);
    assert.ok(Math.abs(rate - 50) < 3, `rate ${rate}`);
    assert.ok(poisson.every((t, i) => i === 0 || t >= (poisson[i - 1] as number)));
    const bySeconds = arrivalsFor('uniform', 20, { seconds: 2 }, mulberry32(1));
    assert.equal(bySeconds.offsets.length, 40);
    assert.equal(bySeconds.windowMs, 2_000);
    const byCount = arrivalsFor('uniform', 20, { count: 10 }, mulberry32(1));
    assert.equal(byCount.windowMs, 500);
    const poissonWindow = arrivalsFor('poisson', 100, { seconds: 3 }, mulberry32(3));
    assert.ok(poissonWindow.offsets.every((t) => t < 3_000));
  });
});

describe('loadtest: metrics and knee', function () {
  it('summarizes an HDR histogram within 0.1% and never above the maximum', function () {
    const h = newHistogram();
    for (let v = 1; v <= 10_000; v++) recordMs(h, v / 10); // 0.1 ms .. 1000 ms
    const s = summarize(h);
    h.destroy();
    assert.equal(s.count, 10_000);
    const near = (actual: number, expected: number) =>
      assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 0.001, `${actual} vs ${expected}`);
    near(s.p50, 500);
    near(s.p90, 900);
    near(s.p99, 990);
    near(s.p999, 999);
    assert.equal(s.max, 1000);
    const one = newHistogram(true);
    recordMs(one, 80.804);
    const o = summarize(one);
    one.destroy();
    assert.ok(o.p99 <= o.max, `${o.p99} <= ${o.max}`);
  });

  it('takes nearest-rank percentiles of plain values', function () {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 50), 50);
    assert.equal(percentile(sorted, 99), 99);
    assert.equal(percentile(sorted, 99.9), 100);
    assert.equal(percentile([], 50), 0);
    assert.equal(percentile([7], 1), 7);
    const s = summarizeValues([5, 1, 3, 2, 4]);
    assert.deepEqual([s.count, s.p50, s.max, s.mean], [5, 3, 5, 3]);
  });

  it('bins values on a log scale', function () {
    const bins = logBins([1, 2, 5, 10, 100, 1000], 1);
    assert.deepEqual(
      bins.map((b) => [b.fromMs, b.count]),
      [
        [1, 3],
        [10, 1],
        [100, 1],
        [1000, 1],
      ],
    );
    assert.equal(
      bins.reduce((a, b) => a + b.count, 0),
      6,
    );
  });

  const criteria = { minAcceptRatio: 0.95, maxP99Ms: 1000 };

  it('judges a step on accept ratio and p99', function () {
    assert.equal(
      judgeStep({ rate: 20, plannedPerSecond: 22, acceptedPerSecond: 21.9, p99Ms: 80 }, criteria).keptUp,
      true,
    );
    const slow = judgeStep({ rate: 40, plannedPerSecond: 44, acceptedPerSecond: 44, p99Ms: 1500 }, criteria);
    assert.equal(slow.keptUp, false);
    assert.match(slow.reasons.join(), /p99 1500 ms > 1000 ms/);
    const behind = judgeStep({ rate: 60, plannedPerSecond: 66, acceptedPerSecond: 50, p99Ms: 200 }, criteria);
    assert.equal(behind.keptUp, false);
    assert.match(behind.reasons.join(), /accepted 50.0\/s < 95% of planned 66.0\/s/);
    assert.ok(Math.abs(behind.acceptRatio - 50 / 66) < 1e-9);
  });

  it('finds the knee: the last step of the unbroken run that kept up', function () {
    const v = (...ok: boolean[]) => ok.map((keptUp) => ({ keptUp }));
    assert.equal(findKnee(v(true, true, true, false)), 2);
    assert.equal(findKnee(v(true, true, true)), 2, 'never broke: the last step');
    assert.equal(findKnee(v(false, true)), null, 'the first step already failed');
    assert.equal(findKnee(v(true, false, true)), 0, 'a recovery after a failure does not move the knee');
    assert.equal(findKnee([]), null);
  });

  it('lists the stress rates from start to max', function () {
    assert.deepEqual(stressRates(20, 20, 100), [20, 40, 60, 80, 100]);
    assert.deepEqual(stressRates(10, 15, 50), [10, 25, 40]);
    assert.deepEqual(stressRates(0.1, 0.1, 0.3), [0.1, 0.2, 0.3]);
    assert.deepEqual(stressRates(5, 0, 100), [5]);
  });

  it('orders a min-heap', function () {
    const heap = new MinHeap<number>((n) => n);
    for (const n of [5, 3, 9, 1, 7, 1]) heap.push(n);
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop() as number);
    assert.deepEqual(out, [1, 1, 3, 5, 7, 9]);
  });
});

describe('loadtest: workload and options', function () {
  it('makes valid transactions in both dialects, with canonical amounts', function () {
    const random = mulberry32(5);
    const txs = Array.from({ length: 400 }, (_, i) =>
      makeTransaction('lt-x-', i, 'performance', 0.3, random),
    );
    const webhook = txs.filter((t) => t.dialect === 'webhook').length;
    assert.ok(webhook > 80 && webhook < 160, `webhook ${webhook}`);
    for (const tx of txs) {
      const body = JSON.parse(tx.body) as Record<string, unknown>;
      assert.equal(tx.dialect === 'api' ? body.id : body.transaction_id, tx.id);
      const parsed = parseAmount(body.amount, tx.currency);
      assert.ok(parsed.ok, tx.body);
      assert.equal(parsed.ok && parsed.amount, tx.amount, 'what the downstream must hold');
      assert.notEqual(body.source_account, body.destination_account);
    }
    const { idPrefix } = runIdPrefix(new Date('2026-11-23T10:00:00.123Z'), () => 0.5);
    assert.match(idPrefix, /^lt-20261123T100000Z-[0-9a-z]{4}-$/);
  });

  it('adds duplicates: the asked share, same body, concurrent ones at the same instant', function () {
    const { items, transactions } = buildWorkload({
      arrivals: uniformArrivals(100, 2_000),
      windowMs: 20_000,
      phase: 'performance',
      idPrefix: 'lt-y-',
      firstN: 10,
      duplicates: 0.2,
      webhookShare: 0.5,
      random: mulberry32(11),
    });
    assert.equal(transactions.length, 2_000);
    assert.equal(transactions[0]?.id, 'lt-y-10');
    const dups = items.filter((i) => i.item.kind !== 'original');
    const share = dups.length / items.length;
    assert.ok(Math.abs(share - 0.2) < 0.03, `duplicate share ${share}`);
    assert.ok(
      items.every((it, i) => i === 0 || it.atMs >= (items[i - 1] as { atMs: number }).atMs),
      'sorted',
    );
    const originalAt = new Map(
      items.filter((i) => i.item.kind === 'original').map((i) => [i.item.tx.id, i.atMs]),
    );
    for (const d of dups) {
      const at = originalAt.get(d.item.tx.id) as number;
      if (d.item.kind === 'duplicate-concurrent') assert.equal(d.atMs, at);
      else assert.ok(d.atMs > at && d.atMs <= at + 3_000 && d.atMs < 20_000);
    }
    assert.ok(dups.some((d) => d.item.kind === 'duplicate-concurrent'));
    assert.ok(dups.some((d) => d.item.kind === 'duplicate-later'));
  });

  it('parses flags with defaults, --quick defaults, and overrides', function () {
    const full = parseFlags([], () => 42);
    assert.ok(!full.help);
    const o = full.options;
    assert.equal(o.api, 'http://127.0.0.1:3000');
    assert.equal(o.mock, 'http://127.0.0.1:8080');
    assert.deepEqual(o.phases, ['warmup', 'performance', 'stress']);
    assert.equal(o.rate, 20);
    assert.equal(o.warmupRate, 10);
    assert.equal(o.seed, 42);
    assert.deepEqual(o.faults, {});
    assert.deepEqual([o.sweepSeconds, o.drainSweepSeconds, o.sweepPollRate], [5, 2, 5]);
    assert.deepEqual([o.pollRate, o.drainPollRate], [10, 100]);
    const quick = parseFlags(['--quick', '--rate', '8', '--transactions', '16', '--mock', 'none'], () => 1);
    assert.ok(!quick.help);
    assert.equal(quick.options.quick, true);
    assert.equal(quick.options.rate, 8);
    assert.equal(quick.options.durationSeconds, 2);
    assert.equal(quick.options.transactions, 16);
    assert.equal(quick.options.mock, null);
    assert.equal(quick.options.stressMax, 30);
    const faults = parseFlags(
      [
        '--pre-write',
        '0.2',
        '--post-write=0.1',
        '--get-failure',
        '0',
        '--post-latency',
        '0-50',
        '--phases',
        'stress,warmup',
      ],
      () => 1,
    );
    assert.ok(!faults.help);
    assert.deepEqual(faults.options.faults, {
      preWriteFailureRate: 0.2,
      postWriteFailureRate: 0.1,
      getFailureRate: 0,
      postLatencyMs: { min: 0, max: 50 },
    });
    assert.deepEqual(faults.options.phases, ['warmup', 'stress'], 'natural order');
    assert.deepEqual(parseFlags(['--help']), { help: true });
    assert.match(usage(), /--stress-step-seconds <v>\s+stress: length of each step\s+15 \(3\)/);
  });

  it('refuses bad flags naming each one (exit code 2 through runMain)', function () {
    const bad = (argv: string[], ...patterns: RegExp[]) => {
      assert.throws(
        () => parseFlags(argv),
        (err: unknown) => {
          assert.ok(err instanceof FlagError && err instanceof ConfigError);
          for (const p of patterns) assert.match(err.message, p);
          return true;
        },
      );
    };
    bad(['--rate', 'fast'], /--rate="fast": must be a number/);
    bad(['--rate', '0'], /--rate="0": must be greater than 0/);
    bad(
      ['--duplicates', '0.8', '--webhook-share', '2'],
      /--duplicates="0.8"/,
      /--webhook-share="2": must be at most 1/,
    );
    bad(['--nope'], /Unknown option '--nope'/);
    bad(['--phases', 'warmup,soak'], /--phases="warmup,soak"/);
    bad(['--api', 'localhost:3000'], /--api="localhost:3000": must be an http\(s\) URL/);
    bad(['--post-latency', '50-10'], /--post-latency="50-10": min must not exceed max/);
    bad(['--duration', '5', '--transactions', '10'], /--duration, --transactions: give one of them/);
    bad(['--mock', 'none', '--pre-write', '0.1'], /--pre-write: needs a mock/);
    bad(['--stress-start', '50', '--stress-max', '10'], /--stress-max=10/);
    bad(['extra'], /positional/i);
    bad(['--sweep-seconds', 'often'], /--sweep-seconds="often": must be a number/);
    bad(['--sweep-poll-rate', '0'], /--sweep-poll-rate="0": must be greater than 0/);
  });

  it('restores exactly the fault knobs it changed', function () {
    const previous = mockSettings({}, () => 9).faults;
    const patch = faultPatch({ preWriteFailureRate: 0.2, postLatencyMs: { min: 0, max: 50 } });
    assert.deepEqual(patch, { preWriteFailureRate: 0.2, postLatencyMs: { min: 0, max: 50 } });
    assert.deepEqual(restorePatch(previous, patch), {
      preWriteFailureRate: 0,
      postLatencyMs: { min: 0, max: 0 },
    });
  });
});

const stats = (over: Partial<MockStats> = {}): MockStats => ({
  posts: 0,
  distinctIds: 0,
  duplicates: [],
  rejected: 0,
  requests: { get: 0, post: 0, other: 0 },
  faults: { preWrite: 0, postWrite: 0, postWriteHang: 0, getFailure: 0, outage: 0 },
  idempotency: { replayed: 0, inProgress: 0, mismatched: 0 },
  lateWrites: { started: 0, landed: 0, unanswered: 0 },
  ...over,
});

describe('loadtest: downstream verification', function () {
  it('finds duplicates, lost, unexpected, mismatched and failed-but-posted transactions of this run only', function () {
    const expected = new Map([
      ['lt-a-1', { amount: '1.00', currency: 'EUR' }],
      ['lt-a-2', { amount: '2.00', currency: 'EUR' }],
      ['lt-a-3', { amount: '3', currency: 'JPY' }],
      ['lt-a-4', { amount: '4.000', currency: 'BHD' }],
      ['lt-a-5', { amount: '5.00', currency: 'USD' }],
      ['lt-a-6', { amount: '6.00', currency: 'USD' }],
      ['lt-a-7', { amount: '7.00', currency: 'USD' }],
    ]);
    const statuses = new Map([
      ['lt-a-1', 'completed'], // held once: fine
      ['lt-a-2', 'completed'], // held twice: duplicate
      ['lt-a-3', 'completed'], // not held: lost
      ['lt-a-4', 'failed'], // held: failed but posted
      ['lt-a-5', 'processing'], // not finished, not held: counted by the terminal check
      ['lt-a-6', 'absent'], // never started but held: unexpected
      ['lt-a-7', 'completed'], // held with another amount
    ]);
    const rows = [
      { id: 'lt-a-1', amount: '1.00', currency: 'EUR' },
      { id: 'lt-a-2', amount: '2.00', currency: 'EUR' },
      { id: 'lt-a-2', amount: '2.00', currency: 'EUR' },
      { id: 'lt-a-4', amount: '4.000', currency: 'BHD' },
      { id: 'lt-a-6', amount: '6.00', currency: 'USD' },
      { id: 'lt-a-7', amount: '7.5', currency: 'USD' },
      { id: 'lt-other-1', amount: '1.00', currency: 'EUR' },
      { id: 'lt-other-1', amount: '1.00', currency: 'EUR' },
    ];
    const v = verifyDownstream({
      idPrefix: 'lt-a-',
      expected,
      statuses,
      rows,
      statsBefore: stats({ posts: 10, requests: { get: 1, post: 10, other: 0 } }),
      statsAfter: stats({
        posts: 16,
        duplicates: ['lt-other-1', 'lt-a-2'],
        requests: { get: 9, post: 20, other: 0 },
      }),
    });
    assert.equal(v.rowsForRun, 6);
    assert.equal(v.distinctIds, 5);
    assert.equal(v.started, 6);
    assert.equal(v.heldOnce, 3); // 1, 4 (failed but terminal) and 7
    assert.deepEqual(v.duplicates, [{ id: 'lt-a-2', copies: 2 }]);
    assert.deepEqual(v.lost, [{ id: 'lt-a-3', status: 'completed' }]);
    assert.equal(v.missingNotTerminal, 1);
    assert.deepEqual(v.unexpected, ['lt-a-6']);
    assert.deepEqual(v.failedButPosted, ['lt-a-4']);
    assert.deepEqual(v.mismatched, [{ id: 'lt-a-7', expected: '7.00 USD', stored: '7.5 USD' }]);
    assert.deepEqual(v.counts, { duplicates: 1, lost: 1, unexpected: 1, failedButPosted: 1, mismatched: 1 });
    assert.equal(v.mock.posts, 6);
    assert.deepEqual(v.mock.requests, { get: 8, post: 10, other: 0 });
    assert.deepEqual(v.mock.duplicatesReported, ['lt-a-2']);
  });
});

describe('loadtest: completion poller', function () {
  let server: Server;
  let base: string;
  let gets = 0;
  const agent = new Agent({ connections: 8 });

  before(async function () {
    // Every transaction is "processing" for its first two polls, then completed 300 ms after submission.
    const polls = new Map<string, number>();
    server = createServer((req, res) => {
      gets++;
      const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      if (id.startsWith('unknown')) {
        res.writeHead(404).end();
        return;
      }
      const n = (polls.get(id) ?? 0) + 1;
      polls.set(id, n);
      const status = n >= 3 ? 'completed' : 'processing';
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          status,
          attempts: 2,
          outcome: status === 'completed' ? 'posted' : null,
          lastError: null,
          submittedAt: '2026-01-01T00:00:00.000Z',
          completedAt: status === 'completed' ? '2026-01-01T00:00:00.300Z' : null,
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    await agent.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('polls at a bounded rate until every transaction finished, and reports the server times', async function () {
    this.timeout(20_000);
    const tracker = new CompletionTracker({
      api: base,
      dispatcher: agent,
      rate: 40,
      timeoutMs: 5_000,
      firstDelayMs: 20,
      maxIntervalMs: 100,
      wallOf: () => Date.parse('2026-01-01T00:00:00.000Z') - 50, // planned 50 ms before submittedAt
    });
    const now = performance.now();
    for (let i = 0; i < 20; i++) tracker.track(`tx-${i}`, now, true);
    tracker.track('unknown-1', now, false); // its submission failed and the API does not know it
    tracker.start();
    const t0 = performance.now();
    await tracker.waitAll(performance.now() + 15_000);
    const seconds = (performance.now() - t0) / 1000;
    await tracker.stop();
    const r = tracker.result();
    assert.equal(tracker.pending, 0);
    assert.equal(r.tracked, 20);
    assert.equal(r.completed, 20);
    assert.equal(r.absentUnacknowledged, 1);
    assert.equal(r.notTerminal, 0);
    assert.equal(r.polls, 61); // 3 per transaction, 1 for the unknown one
    assert.equal(gets, 61);
    // 61 polls at 40/s (burst of 4) take at least about 1.4 s.
    assert.ok(seconds >= 1.3, `took ${seconds} s: rate not bounded`);
    assert.equal(r.processingMs.p50, 300);
    assert.equal(r.endToEndMs.p50, 350);
    assert.deepEqual(r.outcomes, { posted: 20 });
    assert.deepEqual(r.attempts, { '2': 20 });
    assert.equal(tracker.statuses().get('unknown-1'), 'absent');
  });
});

// ---------------------------------------------------------------------------------------------------------
// A stand-in for txflow (both dialects, status reads, health) in this process, posting over HTTP to the
// real mock app: runLoadTest runs end to end in a second or two without Temporal. Bugs can be switched on to
// show that the checks catch them.

type Bug = 'none' | 'post-twice' | 'ack-without-post' | 'never-finish' | 'conflict-on-repeat';

interface FakeTx {
  id: string;
  fingerprint: string;
  status: 'processing' | 'completed';
  submittedAt: string;
  completedAt: string | null;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `serviceMs`: submissions are served one at a time, each taking that long (a capacity of 1000/serviceMs per
 * s). `listing: false`: no GET /api/transactions (404), as a target with only per-ID reads.
 */
async function startFakeTxflow(
  mockUrl: string,
  bug: Bug,
  serviceMs = 0,
  listing = true,
): Promise<{ url: string; stop(): Promise<void> }> {
  const txs = new Map<string, FakeTx>();
  let queue: Promise<void> = Promise.resolve();
  const serve = () => {
    const turn = queue.then(() => new Promise<void>((resolve) => setTimeout(resolve, serviceMs)));
    queue = turn;
    return turn;
  };
  const agent = new Agent({ connections: 16 });
  let n = 0;
  const post = async (id: string, amount: string, currency: string) => {
    const res = await request(`${mockUrl}/transactions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, amount, currency }),
    });
    await res.body.dump();
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = req.url ?? '';
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method === 'GET' && url === '/api/health') return json(200, { status: 'ok' });
      if (req.method === 'GET' && listing && url.startsWith('/api/transactions?')) {
        return json(200, listingPage(txs.values(), new URL(url, 'http://x').searchParams));
      }
      if (req.method === 'GET' && url.startsWith('/api/transactions/')) {
        const tx = txs.get(decodeURIComponent(url.slice('/api/transactions/'.length)));
        if (tx === undefined) return json(404, { title: 'not found' });
        return json(200, {
          ...tx,
          attempts: 2,
          outcome: tx.status === 'completed' ? 'posted' : null,
          lastError: null,
        });
      }
      if (req.method === 'POST' && (url === '/api/transactions' || url === '/v1/webhooks/transactions')) {
        const text = await readBody(req);
        if (serviceMs > 0) await serve();
        const body = JSON.parse(text) as Record<string, unknown>;
        const id = String(url === '/api/transactions' ? body.id : body.transaction_id);
        const currency = String(body.currency);
        const parsed = parseAmount(body.amount, currency);
        if (!parsed.ok) return json(400, { title: parsed.reason });
        const fingerprint = `${parsed.amount} ${currency} ${String(body.source_account)} ${String(body.description)}`;
        const known = txs.get(id);
        if (known !== undefined) {
          if (known.fingerprint !== fingerprint || bug === 'conflict-on-repeat')
            return json(409, { title: 'conflict' });
          return json(url === '/api/transactions' ? 200 : 202, {});
        }
        const tx: FakeTx = {
          id,
          fingerprint,
          status: 'processing',
          submittedAt: new Date().toISOString(),
          completedAt: null,
        };
        txs.set(id, tx);
        const k = n++;
        setTimeout(
          () => {
            void (async () => {
              if (bug === 'never-finish' && k % 10 === 0) return;
              if (!(bug === 'ack-without-post' && k % 10 === 0)) await post(id, parsed.amount, currency);
              if (bug === 'post-twice' && k % 10 === 0) await post(id, parsed.amount, currency);
              tx.status = 'completed';
              tx.completedAt = new Date().toISOString();
            })();
          },
          20 + (k % 7) * 10,
        );
        return json(202, {});
      }
      return json(404, {});
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await agent.close();
    },
  };
}

async function startMockServer(): Promise<{
  url: string;
  store: TransactionStore;
  faults: Faults;
  stop(): Promise<void>;
}> {
  const store = new TransactionStore();
  const faults = new Faults(mockSettings({}, () => 3).faults);
  const app = createMockApp({ store, faults });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    store,
    faults,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A run of about 2 s: 0.5 s warm-up, 1 s performance, stress 20 → 60 in 0.5 s steps. */
function tinyOptions(api: string, mock: string | null, over: Partial<LoadTestOptions> = {}): LoadTestOptions {
  return loadTestOptions({
    api,
    mock,
    warmupSeconds: 0.5,
    warmupRate: 20,
    rate: 40,
    durationSeconds: 1,
    stressStart: 20,
    stressStep: 20,
    stressMax: 60,
    stressStepSeconds: 0.5,
    kneeP99Ms: 500,
    deadlineSeconds: 10,
    pollRate: 100,
    drainPollRate: 200,
    sweepSeconds: 0.5,
    drainSweepSeconds: 0.2,
    duplicates: 0.2,
    webhookShare: 0.3,
    seed: 77,
    quiet: true,
    ...over,
  });
}

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

// The CI smoke: the quick profile against the real txflow (API, worker, dev server, mock over HTTP), with
// downstream faults. Correctness only (nothing lost or duplicated, reports written); no timing asserted.
describe('loadtest: quick run against the real txflow stack', function () {
  this.timeout(300_000);
  let mock: RunningMock;
  let worker: RunningWorker;
  let server: Server;
  let out: string;

  before(async function () {
    mock = await startMock();
    const taskQueue = uniqueTaskQueue('loadtest');
    worker = await startWorker({ taskQueue, postingUrl: mock.url, postingTimeoutMs: 1_000 });
    const app = testApp(await testClient(), taskQueue);
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    out = await mkdtemp(path.join(tmpdir(), 'txflow-loadtest-'));
  });

  after(async function () {
    server?.closeAllConnections();
    server?.close();
    await worker?.stop();
    await mock?.stop();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('passes --quick with faults: nothing lost, nothing duplicated, everything finished; reports parse', async function () {
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await runLoadTest(
      loadTestOptions({
        quick: true,
        api,
        mock: mock.url,
        quiet: true,
        out,
        faults: { preWriteFailureRate: 0.2, postWriteFailureRate: 0.1, postLatencyMs: { min: 0, max: 20 } },
      }),
    );
    assert.equal(r.passed, true, formatSummary(r));
    assert.equal(r.verification?.duplicates.length ?? -1, 0);
    assert.equal(r.verification?.lost.length ?? -1, 0);
    assert.ok(mock.store.stats().faults.preWrite > 0, 'faults were injected');
    // The real API's listing settled transactions in bulk (visibility), per-ID polls the rest.
    const c = r.completion;
    assert.equal(c.sweep.listing, 'used', formatSummary(r));
    assert.ok(c.settledBy.sweep > 0, formatSummary(r));
    assert.equal(c.settledBy.sweep + c.settledBy.poll, c.completed);
    const files = await writeReports(r, out);
    const json = JSON.parse(await readFile(files.json, 'utf8')) as { schema: string; passed: boolean };
    assert.equal(json.schema, 'txflow-loadtest/1');
    assert.equal(json.passed, true);
    const html = await readFile(files.html, 'utf8');
    assert.match(html, /<svg/);
    assert.doesNotMatch(html, /(src|href)="https?:/);
  });
});
