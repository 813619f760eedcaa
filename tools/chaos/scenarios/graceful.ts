import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { errorCode } from '../../shared/error-code';
import { answerKey, round, until } from '../load';
import { execute, type Scenario, type Size } from '../scenario';
import { waitForInFlightPosts } from './common';

const SIZE = {
  small: { count: 80, rate: 8, burst: 15 },
  full: { count: 300, rate: 10, burst: 30 },
} satisfies Record<Size, { count: number; rate: number; burst: number }>;

const WORKER_GRACE_MS = 10_000;
const API_GRACE_MS = 5_000;

/**
 * SIGTERM, not SIGKILL. The worker, with slow POSTs (1-2 s) running, stops polling and lets them finish within
 * WORKER_SHUTDOWN_GRACE_MS: they complete on their first attempt (2 downstream calls: check + post), nothing
 * is retried. The API, under load, stops accepting connections, closes idle keep-alive connections, answers the
 * requests it has with `Connection: close` and exits 0 as soon as they are answered, not at the end of its grace
 * (Temporal is paused with SIGSTOP for 0.8 s around that SIGTERM, so a burst of requests is surely inside the API).
 */
export const graceful: Scenario = {
  name: 'graceful',
  description: 'SIGTERM to the worker with activities running, then to the API under load',
  inTest: true,
  run(size, sink = (line) => process.stdout.write(`${line}\n`)) {
    const { count, rate, burst } = SIZE[size];
    return execute(
      this,
      size,
      sink,
      {
        faults: { postLatencyMs: { min: 1_000, max: 2_000 } },
        workerEnv: {
          WORKER_SHUTDOWN_GRACE_MS: String(WORKER_GRACE_MS),
          POSTING_TIMEOUT_MS: '5000',
          POSTING_WRITE_SETTLE_MS: '5000',
        },
        // An attempt must outlast the slow POST (and the POST its latency), or the grace proves nothing.
        apiEnv: {
          SHUTDOWN_GRACE_MS: String(API_GRACE_MS),
          CHECK_RETRY_ATTEMPT_TIMEOUT_MS: '8000',
          POST_RETRY_ATTEMPT_TIMEOUT_MS: '8000',
        },
      },
      async ({ run, cluster, verifier, newLoad }) => {
        const load = newLoad({ count, rate, reserve: burst }).start();
        const stopProgress = run.progress(() => load.status());
        try {
          // 1. The worker.
          await until(() => load.accepted >= count / 4, 120_000);
          const inFlight = await waitForInFlightPosts(cluster, 3, 15_000);
          const sigtermAt = Date.now();
          const workerExit = await cluster.signal('worker-1', 'SIGTERM', WORKER_GRACE_MS + 10_000);
          const workerExitAt = Date.now();
          run.log(`worker stopped ${workerExit.ms} ms after SIGTERM with ~${inFlight} POSTs running at it`);
          // The POSTs that ended while the worker drained: stored between SIGTERM and its exit.
          const drained = (await cluster.mockRows())
            .filter((r) => {
              const at = Date.parse(r.createdAt);
              return at > sigtermAt && at <= workerExitAt;
            })
            .map((r) => r.id);
          await cluster.startWorker('worker-1');
          const workerBackAt = Date.now();

          // 2. The API, right after (the schedule still sending), with a burst of requests inside it. Temporal is paused (SIGSTOP) for a moment so the
          // burst is certainly in the API, waiting on its start calls, when SIGTERM arrives.
          cluster.send('temporal', 'SIGSTOP');
          let apiInFlight = 0;
          let apiSigtermAt = 0;
          let probe = '';
          let apiExit;
          try {
            load.burst(burst);
            await sleep(300);
            apiInFlight = load.inFlight;
            apiSigtermAt = Date.now();
            const exiting = cluster.signal('api', 'SIGTERM', API_GRACE_MS + 10_000);
            await sleep(100);
            probe = await probeNewConnection(cluster.apiUrl);
            await sleep(400);
            cluster.send('temporal', 'SIGCONT');
            apiExit = await exiting;
          } finally {
            cluster.process('temporal')?.kill('SIGCONT');
          }
          run.log(
            `API stopped ${apiExit.ms} ms after SIGTERM (${apiInFlight} requests were in it); ` +
              `a new connection 100 ms after SIGTERM: ${probe}`,
          );
          // Requests well inside the API at SIGTERM: sent 50 ms or more before it, not answered by then.
          const inside = load.records.flatMap((r) =>
            r.attempts.filter((a) => a.sentAt <= apiSigtermAt - 50 && a.answeredAt >= apiSigtermAt),
          );
          const lastAnswerMs = Math.max(0, ...inside.map((a) => a.answeredAt - apiSigtermAt));
          // New requests sent after SIGTERM that the old API still answered: on keep-alive connections it kept.
          const apiExitAt = apiSigtermAt + apiExit.ms;
          const servedWhileStopping = load.records.flatMap((r) =>
            r.attempts.filter(
              (a) => a.sentAt > apiSigtermAt + 50 && a.answeredAt < apiExitAt && a.status !== null,
            ),
          ).length;
          if (servedWhileStopping > 0) {
            run.log(
              `note: after SIGTERM the API still served ${servedWhileStopping} new requests on connections that ` +
                'were open (each answered with Connection: close)',
            );
          }
          run.log(
            `the API answered its last request ${lastAnswerMs} ms after SIGTERM and exited after ${apiExit.ms} ms ` +
              `(grace ${API_GRACE_MS} ms)`,
          );
          const drainedAnswers: Record<string, number> = {};
          for (const a of inside) drainedAnswers[answerKey(a)] = (drainedAnswers[answerKey(a)] ?? 0) + 1;
          await cluster.startApi();
          const apiBackAt = Date.now();
          run.log(`API back after ${round((apiBackAt - apiSigtermAt) / 1000, 1)} s`);

          await load.done();
          stopProgress();
          const verification = await verifier.verify(load.records, { deadlineMs: 180_000, log: run.log });
          const drainedViews = drained.map((id) => verifier.views.get(id));
          const firstAttempt = drainedViews.filter(
            (v) => v?.status === 'completed' && v.outcome === 'posted' && v.attempts === 2,
          ).length;
          const answered2xx = inside.filter((a) => a.status !== null && a.status < 300).length;
          Object.assign(run.details, {
            worker: {
              graceMs: WORKER_GRACE_MS,
              postsRunningAtSigterm: inFlight,
              exit: { code: workerExit.code, signal: workerExit.signal, ms: workerExit.ms },
              activitiesFinishedDuringGrace: drained.length,
              finishedOnFirstAttempt: firstAttempt,
              drainedAttempts: drainedViews.map((v) => v?.attempts ?? null),
              downMs: workerBackAt - sigtermAt,
            },
            api: {
              graceMs: API_GRACE_MS,
              requestsInFlightAtSigterm: apiInFlight,
              exit: { code: apiExit.code, signal: apiExit.signal, ms: apiExit.ms },
              newConnectionAfterSigterm: probe,
              answersToRequestsInFlight: drainedAnswers,
              lastAnswerMsAfterSigterm: lastAnswerMs,
              exitWaitedForFullGrace: apiExit.ms >= API_GRACE_MS,
              newRequestsServedOnOpenConnectionsWhileStopping: servedWhileStopping,
              downMs: apiBackAt - apiSigtermAt,
            },
            attempts: verification.attempts,
            outcomes: verification.outcomes,
          });
          run.check(
            'worker: exit code 0 within WORKER_SHUTDOWN_GRACE_MS',
            workerExit.code === 0 && workerExit.ms <= WORKER_GRACE_MS + 3_000,
            `exit code ${workerExit.code ?? workerExit.signal}, after ${workerExit.ms} ms (grace ${WORKER_GRACE_MS} ms)`,
          );
          run.check(
            'worker: running activities finished during the grace, without a retry',
            drained.length > 0 && firstAttempt === drained.length,
            `${drained.length} POSTs completed between SIGTERM and exit; ${firstAttempt} of them completed with ` +
              `attempts == 2 (check + post); attempts: [${drainedViews.map((v) => v?.attempts ?? '?').join(', ')}]`,
          );
          run.check(
            'api: exit code 0 within SHUTDOWN_GRACE_MS',
            apiExit.code === 0 && apiExit.ms <= API_GRACE_MS + 2_000,
            `exit code ${apiExit.code ?? apiExit.signal}, after ${apiExit.ms} ms (grace ${API_GRACE_MS} ms)`,
          );
          run.check(
            'api: exited once its requests were answered, before the grace ran out (keep-alive connections closed)',
            apiExit.code === 0 && apiExit.ms < API_GRACE_MS,
            `exit after ${apiExit.ms} ms, last answer ${lastAnswerMs} ms after SIGTERM (grace ${API_GRACE_MS} ms)`,
          );
          run.check(
            'api: stopped accepting new connections',
            probe === 'ECONNREFUSED',
            `a new connection 100 ms after SIGTERM: ${probe}`,
          );
          run.check(
            'api: the requests inside it at SIGTERM were answered (drained)',
            inside.length > 0 && answered2xx === inside.length,
            `${inside.length} requests inside the API at SIGTERM, answers: ${JSON.stringify(drainedAnswers)}`,
          );
          return { load, verification, faults: 'SIGTERM worker + api', faultEndedAt: apiBackAt };
        } finally {
          stopProgress();
        }
      },
    );
  },
};

/** A request on a brand-new connection: its status, or the network error code (ECONNREFUSED). */
async function probeNewConnection(api: string): Promise<string> {
  const agent = new Agent({ connections: 1 });
  try {
    const res = await request(`${api}/api/health`, {
      dispatcher: agent,
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    await res.body.dump();
    return `HTTP ${res.statusCode}`;
  } catch (err) {
    return errorCode(err);
  } finally {
    await agent.close();
  }
}
