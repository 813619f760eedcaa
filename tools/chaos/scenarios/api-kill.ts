import { setTimeout as sleep } from 'node:timers/promises';
import { round, until } from '../load';
import { execute, type Scenario, type Size } from '../scenario';

const SIZE = {
  small: { count: 60, rate: 20, burst: 12, downMs: 2_000 },
  full: { count: 400, rate: 20, burst: 30, downMs: 5_000 },
} satisfies Record<Size, { count: number; rate: number; burst: number; downMs: number }>;

/**
 * kill -9 of the API with requests in flight (a burst sent just before), then a new API on the same port. The
 * client resends every request that got no answer, same ID and body: one the dead API had started answers 200,
 * one it had not answers 202; in the end each ID is held exactly once downstream.
 */
export const apiKill: Scenario = {
  name: 'api-kill',
  description: 'kill -9 the API with requests in flight, restart it; clients resend what got no answer',
  inTest: true,
  run(size, sink = (line) => process.stdout.write(`${line}\n`)) {
    const { count, rate, burst, downMs } = SIZE[size];
    return execute(this, size, sink, {}, async ({ run, cluster, verifier, newLoad }) => {
      const load = newLoad({ count, rate }).start();
      const stopProgress = run.progress(() => load.status());
      try {
        await until(() => load.accepted >= count / 3, 120_000);
        // A burst, then the kill while the API is busy with it (each start takes some ms).
        load.burst(burst);
        await sleep(15);
        const inFlight = load.inFlight;
        await cluster.kill('api');
        // After its exit: whatever the dead API started is stamped before this, the new one's after it.
        const killedAt = Date.now();
        run.log(`killed the API with ${inFlight} requests in flight (${load.status()})`);
        await sleep(downMs);
        await cluster.startApi();
        const readyAt = Date.now();
        run.log(`API back after ${round((readyAt - killedAt) / 1000, 1)} s`);
        await load.done();
        stopProgress();
        const verification = await verifier.verify(load.records, { deadlineMs: 180_000, log: run.log });

        // Requests cut off by the kill: sent before it, ended without an HTTP answer.
        const cutOff = load.records.filter((r) =>
          r.attempts.some((a) => a.status === null && a.sentAt <= killedAt),
        );
        const inconsistent: string[] = [];
        let started = 0;
        let notStarted = 0;
        for (const r of cutOff) {
          const submittedAt = Date.parse(verifier.views.get(r.id)?.submittedAt ?? '');
          if (r.acceptedStatus === 200 && submittedAt <= killedAt) started++;
          else if (r.acceptedStatus === 202 && submittedAt > killedAt) notStarted++;
          else
            inconsistent.push(
              `${r.id}: ${r.acceptedStatus ?? 'no 2xx'}, submittedAt ${new Date(submittedAt).toISOString()}`,
            );
        }
        const refusedWhileDown = load.records.flatMap((r) =>
          r.attempts.filter((a) => a.sentAt > killedAt && a.answeredAt < readyAt && a.status === null),
        ).length;
        Object.assign(run.details, {
          requestsInFlightAtKill: inFlight,
          apiDownMs: readyAt - killedAt,
          cutOffTransactions: cutOff.length,
          cutOffStartedByDeadApiAnswered200: started,
          cutOffNotStartedAnswered202: notStarted,
          inconsistent,
          networkErrorsWhileDown: refusedWhileDown,
          answers: load.answers(),
        });
        run.check(
          'requests were cut off by the kill',
          cutOff.length > 0,
          `${cutOff.length} transactions lost their answer (${inFlight} requests were in flight)`,
        );
        run.check(
          'each resend was deduplicated: 200 when the dead API had started it, 202 otherwise',
          inconsistent.length === 0,
          `${started} answered 200 (started before the kill), ${notStarted} answered 202 (started by the resend)` +
            (inconsistent.length > 0 ? `; inconsistent: ${inconsistent.slice(0, 5).join('; ')}` : ''),
        );
        return { load, verification, faults: 'api kill -9 x1', faultEndedAt: readyAt };
      } finally {
        stopProgress();
      }
    });
  },
};
