import assert from 'node:assert/strict';
import { alternate, LoopTally } from '../tools/bench/closed-loop';
import { splitCpus } from '../tools/bench/cpu-split';
import { BENCH_FAULTS, measureWithFaults, NO_FAULTS, type EndToEnd } from '../tools/bench/end-to-end-steps';
import { fixedRate } from '../tools/bench/fixed-rate';
import { benchFlags, benchSize } from '../tools/bench/options';
import type { BenchRig } from '../tools/bench/rig';
import { peerSideResult, peerVerdicts, type SideRun } from '../tools/bench/peer-result';
import { judgeTargets } from '../tools/bench/targets';

describe('bench building blocks', function () {
  it('alternate runs the sides forwards then backwards, each call index exactly once per side', async function () {
    const order: string[] = [];
    const seen = { a: [] as number[], b: [] as number[], c: [] as number[] };
    const op = (side: 'a' | 'b' | 'c') => async (i: number) => {
      if (order.at(-1) !== side) order.push(side);
      seen[side].push(i);
    };
    const results = await alternate(2, 10, 4, [
      { operation: op('a') },
      { operation: op('b') },
      { operation: op('c') },
    ]);
    // a b c | c b a | a b c | c b a, with neighbours merged
    assert.deepEqual(order, ['a', 'b', 'c', 'b', 'a', 'b', 'c', 'b', 'a']);
    for (const side of ['a', 'b', 'c'] as const) {
      assert.deepEqual(
        [...seen[side]].sort((x, y) => x - y),
        Array.from({ length: 10 }, (_, i) => i),
      );
    }
    assert.deepEqual(
      results.map((r) => [r.operations, r.errors]),
      [
        [10, 0],
        [10, 0],
        [10, 0],
      ],
    );
  });

  it('a metered tally reports CPU per call from the meter, and failures as errors', async function () {
    let cpu = 0;
    const tally = new LoopTally(1, async () => ({ server: cpu }));
    await tally.round(4, async (i) => {
      cpu += 0.002; // 2 ms of "server CPU" per call
      if (i === 3) throw new Error('refused');
    });
    const result = tally.result();
    tally.destroy();
    assert.equal(result.errors, 1);
    assert.deepEqual(result.cpuMsPerOperation, { server: 2 });
  });

  it('fixedRate sends one in N as a repeat of an earlier transaction, the rest new', async function () {
    const calls: { id: number; repeat: boolean }[] = [];
    const result = await fixedRate(200, 0.5, 5, async (id, repeat) => {
      calls.push({ id, repeat });
    });
    assert.equal(calls.length, 100);
    const repeats = calls.filter((c) => c.repeat);
    assert.equal(repeats.length, 20);
    const fresh = calls.filter((c) => !c.repeat).map((c) => c.id);
    assert.deepEqual(
      fresh,
      Array.from({ length: 80 }, (_, i) => i),
    );
    for (const r of repeats) assert.ok(fresh.includes(r.id), `repeat of unknown ${r.id}`);
    assert.equal(result.fresh.count, 80);
    assert.equal(result.repeats.count, 20);
    assert.equal(result.errors, 0);
  });

  const latency = (p99: number) => ({ count: 100, mean: p99, p50: p99, p90: p99, p99, p999: p99, max: p99 });
  const loop = (perSecond: number) => ({
    concurrency: 16,
    operations: 100,
    errors: 0,
    seconds: 100 / perSecond,
    perSecond,
    latencyMs: latency(100),
  });
  const busy = (ratio: number, rawP99: number, txflowP99: number, errors = 0) => ({
    accept: {
      raw: loop(100),
      txflow: loop(100 * ratio),
      ratio,
      completedWhileAccepting: { raw: 0.1, txflow: 0.2 },
    },
    tail: { rate: 10, raw: latency(rawP99), txflow: latency(txflowP99), errors },
  });

  it('judges the targets, with "not measured" where a figure is missing', function () {
    const verdicts = judgeTargets({
      busy: busy(0.92, 45, 65),
      acceptRatios: [
        { concurrency: 1, ratio: 0.95 },
        { concurrency: 8, ratio: 0.85 },
      ],
      endToEndRatio: 0.8,
      halfRate: { fresh: { p99: 50, count: 80 }, repeats: { p99: 51, count: 20 }, errors: 0 },
      peakRssMb: { api: 120, worker: null },
    });
    const met = Object.fromEntries(verdicts.map((v) => [v.target, v.met]));
    assert.equal(met['accept rate ≥ 0.9 × raw starts, 1 caller'], true);
    assert.equal(met['accept rate ≥ 0.9 × raw starts, 8 callers'], false);
    assert.equal(met['end to end ≥ 1.0 × raw two-activity workflows'], false);
    assert.equal(met['accept rate ≥ 0.9 × raw starts, 16 callers, while the workers process'], true);
    assert.equal(
      met['submit p99 ≤ raw start p99 + 20 ms at half the raw end-to-end rate (10/s), while processing'],
      true,
    );
    assert.equal(met['submit p99 ≤ 50 ms at half the top accept rate, new transactions'], true);
    assert.equal(met['submit p99 ≤ 50 ms at half the top accept rate, repeated transactions'], false);
    assert.equal(met['API peak RSS < 250 MB'], true);
    assert.equal(met['worker peak RSS < 250 MB'], null);
  });

  it('a half-rate p99 with failed submits, or with none answered, is no pass', function () {
    const verdict = (halfRate: Parameters<typeof judgeTargets>[0]['halfRate']) =>
      judgeTargets({
        acceptRatios: [],
        endToEndRatio: 1,
        busy: busy(0.5, 45, 66, 1),
        halfRate,
        peakRssMb: { 'all-in-one': 300 },
      });
    const failing = verdict({ fresh: { p99: 10, count: 70 }, repeats: { p99: 10, count: 20 }, errors: 10 });
    assert.deepEqual(
      failing.filter((v) => v.target.startsWith('submit p99 ≤ 50')).map((v) => [v.met, v.value]),
      [
        [false, '10 ms, 10 failed'],
        [false, '10 ms, 10 failed'],
      ],
    );
    const empty = verdict({ fresh: { p99: 0, count: 0 }, repeats: { p99: 0, count: 0 }, errors: 100 });
    assert.deepEqual(
      empty.filter((v) => v.target.startsWith('submit p99 ≤ 50')).map((v) => v.met),
      [null, null],
    );
    // Under the accept ratio, and a tail 1 ms over raw + 20 ms with a failed submit.
    assert.deepEqual(
      failing.filter((v) => v.target.includes('while')).map((v) => [v.met, v.value]),
      [
        [false, '50%'],
        [false, '66 ms against 45 ms, 1 failed'],
      ],
    );
    assert.deepEqual(
      failing.filter((v) => v.target.includes('RSS')).map((v) => [v.target, v.met]),
      [['all-in-one peak RSS < 250 MB', false]],
    );
  });

  it('fixedRate with 0 sends no repeats, and refuses a repeat of every call', async function () {
    const repeats: boolean[] = [];
    await fixedRate(200, 0.1, 0, async (_id, repeat) => {
      repeats.push(repeat);
    });
    assert.equal(repeats.length, 20);
    assert.ok(repeats.every((r) => !r));
    await assert.rejects(
      fixedRate(200, 0.1, 1, async () => undefined),
      /repeatEvery must be 0/,
    );
  });

  it('the fault step counts on from the warm-up and the end-to-end rounds, and turns the faults off again, even when it fails', async function () {
    const calls: unknown[] = [];
    let fail = false;
    const rig = {
      run: 'r',
      setMockFaults: async (faults: unknown) => void calls.push(['faults', faults]),
      workflowStarts: async () => ({ eager: 0, notEager: 0 }),
      submit: async () => undefined,
      completeAll: async (_queue: string, _type: string, count: number, _start: unknown, already: number) => {
        calls.push(['completeAll', count, already]);
        if (fail) throw new Error('drain failed');
        return { workflows: count, seconds: 1, perSecond: count };
      },
    } as unknown as BenchRig;
    const e2e = { taskQueue: 'q', api: { url: 'http://127.0.0.1:1' } } as unknown as EndToEnd;
    const size = benchSize(true);
    // 200 warm-up and 150 measured transactions are already completed on the queue.
    await measureWithFaults(rig, e2e, size);
    assert.deepEqual(calls, [
      ['faults', BENCH_FAULTS],
      ['completeAll', 150, 350],
      ['faults', NO_FAULTS],
    ]);
    fail = true;
    calls.length = 0;
    await assert.rejects(measureWithFaults(rig, e2e, size), /drain failed/);
    assert.deepEqual(calls.at(-1), ['faults', NO_FAULTS]);
  });

  it('splits the CPUs between the server and everything else, and refuses one CPU', function () {
    assert.deepEqual(splitCpus(2), { server: [0], clients: [1] });
    assert.deepEqual(splitCpus(5), { server: [0, 1], clients: [2, 3, 4] });
    assert.throws(() => splitCpus(1), /at least 2 CPUs/);
  });

  it('a peer side: lost are acknowledged IDs the mock does not hold, whatever the side reports', function () {
    const latency = { p50: 5, p90: 8, p99: 9, p999: 12, max: 12, mean: 6, count: 3 };
    const run: SideRun = {
      side: 'peer',
      acknowledged: ['a', 'b', 'c', 'd'],
      openLoop: { rate: 1, seconds: 1, fresh: latency, repeats: latency, errors: 1, scheduleLagMs: latency },
      closed: { concurrency: 2, operations: 2, errors: 0, seconds: 1, perSecond: 2, latencyMs: latency },
      ended: { completed: 3, failed: 0 },
      secondsToLastEnd: 12.34,
      drainSeconds: 2,
    };
    const mock = { posts: 4, distinctIds: 2, duplicates: ['a'], faults: {} };
    const peer = peerSideResult(run, new Set(['a', 'b']), mock);
    assert.deepEqual([peer.lost, peer.postedTwice, peer.unfinished, peer.secondsToLastEnd], [2, 1, 1, 12.3]);
    const txflow = {
      ...peer,
      side: 'txflow' as const,
      lost: 0,
      postedTwice: 0,
      unfinished: 0,
      secondsToLastEnd: 10,
    };
    assert.deepEqual(
      peerVerdicts(txflow, peer).map((v) => v.met),
      [true, true, true, true],
    );
    const slowTail = { ...txflow, openLoop: { ...txflow.openLoop, p99: 46 } };
    assert.deepEqual(
      peerVerdicts(slowTail, peer).map((v) => v.met),
      [true, true, true, false],
    );
    assert.equal(peerVerdicts({ ...txflow, lost: 1 }, peer)[0]?.met, false);
    // The bare-start probe is reported where it ran, and only there.
    assert.equal(peer.probe, undefined);
    const probed = peerSideResult(
      { ...run, side: 'txflow', probe: { ...run.openLoop, rate: 5 } },
      new Set(),
      mock,
    );
    assert.deepEqual(probed.probe, { rate: 5, p50: 5, p99: 9, max: 12, errors: 1 });
  });

  it('--peer flags: defaults 25/s and 16 clients; a bad number names its flag', function () {
    assert.deepEqual(benchFlags(['--peer', '/tmp/p'])?.peerLoad, { rate: 25, clients: 16 });
    assert.equal(benchFlags(['--peer', '/tmp/p'])?.peer, '/tmp/p');
    assert.throws(() => benchFlags(['--peer-rate', '0']), /--peer-rate "0": must be a whole number above 0/);
    assert.throws(() => benchFlags(['--peer-clients', 'x']), /--peer-clients "x"/);
  });
});
