import { setTimeout as sleep } from 'node:timers/promises';
import { answerKey, round, until } from '../load';
import { execute, type Scenario, type Size } from '../scenario';

const SIZE = {
  small: { count: 60, rate: 15, outageMs: 4_000 },
  full: { count: 400, rate: 20, outageMs: 20_000 },
} satisfies Record<Size, { count: number; rate: number; outageMs: number }>;

/**
 * kill -9 of the Temporal dev server mid-load, then a new one on the same SQLite file and port. While it is down
 * the API refuses with 503 + Retry-After and never answers 202; the client retries with the same IDs; once it is
 * back (the API's and the worker's connections reconnect by themselves) everything accepted completes.
 */
export const temporalKill: Scenario = {
  name: 'temporal-kill',
  description: 'kill -9 the Temporal dev server mid-load, restart it on the same database file',
  inTest: true,
  run(size, sink = (line) => process.stdout.write(`${line}\n`)) {
    const { count, rate, outageMs } = SIZE[size];
    return execute(this, size, sink, {}, async ({ run, cluster, verifier, newLoad }) => {
      const load = newLoad({ count, rate }).start();
      const stopProgress = run.progress(() => load.status());
      try {
        await until(() => load.accepted >= count / 3, 120_000);
        const acceptedBefore = load.records.filter((r) => r.acceptedStatus !== null).map((r) => r.id);
        await cluster.kill('temporal');
        const killedAt = Date.now();
        run.log(`temporal killed with ${acceptedBefore.length} accepted (${load.status()})`);
        await sleep(outageMs);
        const respawnAt = Date.now();
        await cluster.startTemporal();
        const readyAt = Date.now();
        const workersAlive = cluster.runningWorkers();
        run.log(
          `temporal back after ${round((readyAt - killedAt) / 1000, 1)} s; workers running: ${workersAlive.join(', ') || 'none'}`,
        );
        const workerTail = cluster.tail('worker-1').split('\n').slice(-3).join(' | ');
        if (workersAlive.length === 0) {
          run.log('no worker survived the outage: starting a new one');
          await cluster.startWorker('worker-1');
        }
        await load.done();
        stopProgress();
        const verification = await verifier.verify(load.records, { deadlineMs: 180_000, log: run.log });

        // Every answer to a request sent after the kill and answered before the new server was started.
        const during = load.records.flatMap((r) =>
          r.attempts.filter((a) => a.sentAt >= killedAt && a.answeredAt <= respawnAt),
        );
        const duringAnswers: Record<string, number> = {};
        for (const a of during) duringAnswers[answerKey(a)] = (duringAnswers[answerKey(a)] ?? 0) + 1;
        const accepted202 = during.filter((a) => a.status === 202).length;
        const refused503 = during.filter((a) => a.status === 503);
        const withRetryAfter = refused503.filter((a) => a.retryAfter !== null).length;
        const firstAcceptAfter = Math.min(
          ...load.records.flatMap((r) =>
            r.attempts
              .filter((a) => a.sentAt >= respawnAt && a.status !== null && a.status < 300)
              .map((a) => a.answeredAt),
          ),
        );
        const beforeDone = acceptedBefore.filter(
          (id) => verifier.views.get(id)?.status === 'completed',
        ).length;
        // Sent before the kill, unanswered (503 or an error), then accepted as 200: its start had been recorded.
        const startedButUnanswered = load.records.filter(
          (r) => r.acceptedStatus === 200 && r.attempts.length > 1,
        ).length;
        Object.assign(run.details, {
          outageMs: respawnAt - killedAt,
          temporalRestartMs: readyAt - respawnAt,
          answersDuringOutage: duringAnswers,
          answers503WithRetryAfter: withRetryAfter,
          acceptingAgainMsAfterReady: Number.isFinite(firstAcceptAfter) ? firstAcceptAfter - readyAt : null,
          workersSurvived: workersAlive,
          acceptedBeforeOutage: acceptedBefore.length,
          acceptedBeforeOutageCompleted: beforeDone,
          acceptedAs200AfterRetry: startedButUnanswered,
          attempts: verification.attempts,
          outcomes: verification.outcomes,
        });
        run.check(
          'no 202 while Temporal was down',
          accepted202 === 0,
          `${during.length} answers during the outage: ${JSON.stringify(duringAnswers)}`,
        );
        run.check(
          'the API answered 503 with Retry-After while Temporal was down',
          refused503.length > 0 && withRetryAfter === refused503.length,
          `${refused503.length} answered 503, ${withRetryAfter} of them with Retry-After`,
        );
        run.check(
          'everything accepted before the outage completed after it',
          beforeDone === acceptedBefore.length,
          `${beforeDone}/${acceptedBefore.length} completed`,
        );
        run.check(
          'the worker survived the outage (its connection reconnected)',
          workersAlive.length > 0,
          workersAlive.length > 0
            ? `${workersAlive.join(', ')} still running`
            : `the worker exited: ${workerTail}`,
        );
        return { load, verification, faults: 'temporal kill -9 x1', faultEndedAt: readyAt };
      } finally {
        stopProgress();
      }
    });
  },
};
