import { inFlightMidLoad, loadScenario, retriedTransactions } from './common';

/**
 * kill -9 of the only worker while POSTs are in flight at the mock (200-500 ms each), then a new worker. Once
 * the 2 s attempt timeout of a POST it held passes, its workflow waits the write-settle window and looks: a POST
 * that reached the mock before the kill is found (outcome already_present), never posted again.
 */
export const workerKill = loadScenario({
  name: 'worker-kill',
  description: 'kill -9 the worker mid-load with activities in flight, restart it',
  inTest: true,
  sizes: {
    small: { count: 60, rate: 15 },
    full: { count: 500, rate: 20 },
  },
  cluster: { faults: { postLatencyMs: { min: 200, max: 500 } } },
  async fault({ run, cluster }, load) {
    const inFlight = await inFlightMidLoad(cluster, load, 2);
    const before = await cluster.mockStats();
    const killedAt = Date.now();
    await cluster.kill('worker-1');
    run.log(`killed the worker with ~${inFlight} POSTs in flight at the mock (${load.status()})`);
    await cluster.startWorker('worker-1');
    return { inFlight, before, killedAt, restartedAt: Date.now() };
  },
  judge({ run }, { verification, fault: { inFlight, before, killedAt, restartedAt } }) {
    const after = verification.mock;
    const retried = retriedTransactions(verification);
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
    // A kill during a run's first workflow task (its check and first POST are local activities, 0023/0026) is
    // redone whole by the next worker, whose history counts only its own calls: that redo shows as
    // already_present, not as more attempts. A POST activity retried by the server shows as more attempts.
    run.check(
      "the dead worker's work was redone",
      retried + alreadyPresent > 0,
      `${retried} transactions needed more than 2 downstream calls, ${alreadyPresent} found already present`,
    );
    run.check(
      'a POST that landed before the kill was found, not posted again',
      alreadyPresent > 0 && after.posts === after.distinctIds,
      `${alreadyPresent} completed as already_present; mock posts ${after.posts} = distinct ${after.distinctIds}`,
    );
    return { faults: 'worker kill -9 x1', faultEndedAt: restartedAt };
  },
});
