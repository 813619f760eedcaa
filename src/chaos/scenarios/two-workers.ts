import { until } from '../load';
import { execute, type Scenario, type Size } from '../scenario';
import { waitForInFlightPosts } from './common';

const SIZE = {
  small: { count: 60, rate: 15 },
  full: { count: 500, rate: 20 },
} satisfies Record<Size, { count: number; rate: number }>;

/** Two workers on one task queue; one is killed -9 mid-load and not restarted: the other finishes the work. */
export const twoWorkers: Scenario = {
  name: 'two-workers',
  description: 'two workers on one task queue, one killed -9 mid-load: the other finishes the work',
  inTest: true,
  run(size, sink = (line) => process.stdout.write(`${line}\n`)) {
    const { count, rate } = SIZE[size];
    return execute(
      this,
      size,
      sink,
      { workers: 2, faults: { postLatencyMs: { min: 200, max: 500 } } },
      async ({ run, cluster, verifier, newLoad }) => {
        const load = newLoad({ count, rate }).start();
        const stopProgress = run.progress(() => load.status());
        try {
          await until(() => load.accepted >= count / 3, 120_000);
          const inFlight = await waitForInFlightPosts(cluster, 4, 15_000);
          await cluster.kill('worker-1');
          const killedAt = Date.now();
          run.log(`killed worker-1 with ~${inFlight} POSTs in flight at the mock; worker-2 carries on alone`);
          await load.done();
          stopProgress();
          const verification = await verifier.verify(load.records, { deadlineMs: 180_000, log: run.log });
          const survivors = cluster.runningWorkers();
          const finishedAfterKill = [...verifier.views.values()].filter(
            (v) => Date.parse(v.completedAt ?? '') > killedAt,
          ).length;
          const retried = Object.entries(verification.attempts)
            .filter(([n]) => Number(n) > 2)
            .reduce((a, [, c]) => a + c, 0);
          Object.assign(run.details, {
            inFlightPostsAtKill: inFlight,
            survivors,
            finishedAfterKill,
            retriedTransactions: retried,
            attempts: verification.attempts,
            outcomes: verification.outcomes,
          });
          run.check(
            'the other worker finished the work',
            survivors.length === 1 && survivors[0] === 'worker-2' && finishedAfterKill > 0,
            `${survivors.join(', ') || 'no worker'} running at the end; ${finishedAfterKill} transactions finished after the kill, ` +
              `${retried} of them after a retry`,
          );
          return { load, verification, faults: 'worker kill -9 x1 (of 2)', faultEndedAt: killedAt };
        } finally {
          stopProgress();
        }
      },
    );
  },
};
