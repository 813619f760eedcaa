import assert from 'node:assert/strict';
import {
  arrivalsFor,
  poissonArrivals,
  runOpenLoop,
  uniformArrivals,
  type Clock,
} from '../tools/shared/schedule';
import { mulberry32 } from '../tools/shared/random';

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
