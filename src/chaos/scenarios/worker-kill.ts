import { until } from '../load';
import { execute, type Scenario, type Size } from '../scenario';
import { waitForInFlightPosts } from './common';

const SIZE = {
  small: { count: 60, rate: 15 },
  full: { count: 500, rate: 20 },
} satisfies Record<Size, { count: number; rate: number }>;

/**
 * kill -9 of the only worker while POSTs are in flight at the mock (200-500 ms each), then a new worker. The
 * activities it held are retried once their 2 s attempt timeout passes; a POST that reached the mock before
 * the kill is found by the retry's GET (outcome already_present), never posted again.
 */
export const workerKill: Scenario = {
  name: 'worker-kill',
  description: 'kill -9 the worker mid-load with activities in flight, restart it',
  inTest: true,
  run(size, sink = (line) => process.stdout.write(`${line}\n`)) {
    const { count, rate } = SIZE[size];
    return execute(
      this,
      size,
      sink,
      { faults: { postLatencyMs: { min: 200, max: 500 } } },
      async ({ run, cluster, verifier, newLoad }) => {
        const load = newLoad({ count, rate }).start();
        const stopProgress = run.progress(() => load.status());
        try {
          await until(() => load.accepted >= count / 3, 120_000);
          const inFlight = await waitForInFlightPosts(cluster, 2, 15_000);
          const before = await cluster.mockStats();
          const killedAt = Date.now();
          await cluster.kill('worker-1');
          run.log(`killed the worker with ~${inFlight} POSTs in flight at the mock (${load.status()})`);
          await cluster.startWorker('worker-1');
          const restartedAt = Date.now();
          await load.done();
          stopProgress();
          const verification = await verifier.verify(load.records, { deadlineMs: 180_000, log: run.log });
          const after = verification.mock;
          // Without mock faults a transaction needs 2 downstream calls (check + post); more means a retry.
          const retried = Object.entries(verification.attempts)
            .filter(([n]) => Number(n) > 2)
            .reduce((a, [, c]) => a + c, 0);
          const alreadyPresent = verification.outcomes.already_present ?? 0;
          Object.assign(run.details, {
            inFlightPostsAtKill: inFlight,
            postsStoredBeforeKill: before.posts,
            workerDownMs: restartedAt - killedAt,
            retriedTransactions: retried,
            foundByRetryNotReposted: alreadyPresent,
            attempts: verification.attempts,
            outcomes: verification.outcomes,
            mockRequests: after.requests,
          });
          run.check('POSTs were in flight at the kill', inFlight > 0, `~${inFlight} POSTs in flight`);
          run.check(
            "the dead worker's activities were retried",
            retried > 0,
            `${retried} transactions needed more than 2 downstream calls`,
          );
          run.check(
            'a POST that landed before the kill was found, not posted again',
            alreadyPresent > 0 && after.posts === after.distinctIds,
            `${alreadyPresent} completed as already_present; mock posts ${after.posts} = distinct ${after.distinctIds}`,
          );
          return { load, verification, faults: 'worker kill -9 x1', faultEndedAt: restartedAt };
        } finally {
          stopProgress();
        }
      },
    );
  },
};
