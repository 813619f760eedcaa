import assert from 'node:assert/strict';
import { CrashWindow } from '../tools/stack/crash-loop';

describe('CrashWindow (npm start restart policy)', function () {
  const policy = { maxCrashes: 5, windowMs: 60_000, initialBackoffMs: 500, maxBackoffMs: 1_500 };

  it('doubles the backoff for each crash in the window, up to the cap, and gives up at maxCrashes', function () {
    const w = new CrashWindow(policy);
    const backoffs = [0, 1, 2, 3].map((i) => {
      const v = w.crashed(i * 1_000);
      assert.equal(v.giveUp, false);
      return v.giveUp ? -1 : v.backoffMs;
    });
    assert.deepEqual(backoffs, [500, 1_000, 1_500, 1_500]);
    assert.deepEqual(w.crashed(4_000), { giveUp: true, crashesInWindow: 5 });
  });

  it('forgets crashes older than the window: spaced-out crashes are no loop', function () {
    const w = new CrashWindow(policy);
    for (let i = 0; i < 20; i++) {
      const v = w.crashed(i * 30_000);
      assert.equal(v.giveUp, false, `crash ${i}`);
      assert.equal(v.crashesInWindow, i === 0 ? 1 : 2);
    }
  });
});
