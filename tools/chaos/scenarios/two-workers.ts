import { inFlightMidLoad, loadScenario, retriedTransactions } from './common';

/** Two workers on one task queue; one is killed -9 mid-load and not restarted: the other finishes the work. */
export const twoWorkers = loadScenario({
  name: 'two-workers',
  description: 'two workers on one task queue, one killed -9 mid-load: the other finishes the work',
  inTest: true,
  sizes: {
    small: { count: 60, rate: 15 },
    full: { count: 500, rate: 20 },
  },
  cluster: { workers: 2, faults: { postLatencyMs: { min: 200, max: 500 } } },
  async fault({ run, cluster }, load) {
    const inFlight = await inFlightMidLoad(cluster, load, 4);
    await cluster.kill('worker-1');
    const killedAt = Date.now();
    run.log(`killed worker-1 with ~${inFlight} POSTs in flight at the mock; worker-2 carries on alone`);
    return { inFlight, killedAt };
  },
  judge({ run, cluster, verifier }, { verification, fault: { inFlight, killedAt } }) {
    const survivors = cluster.runningWorkers();
    const finishedAfterKill = [...verifier.views.values()].filter(
      (v) => Date.parse(v.completedAt ?? '') > killedAt,
    ).length;
    const retried = retriedTransactions(verification);
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
    return { faults: 'worker kill -9 x1 (of 2)', faultEndedAt: killedAt };
  },
});
