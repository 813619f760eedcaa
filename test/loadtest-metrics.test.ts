import assert from 'node:assert/strict';
import { findKnee, judgeStep, stressRates } from '../tools/loadtest/knee';
import { logBins, percentile, summarizeValues } from '../tools/loadtest/metrics';
import { newHistogram, recordMs, summarize } from '../tools/shared/histogram';
import { MinHeap } from '../tools/loadtest/min-heap';

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
