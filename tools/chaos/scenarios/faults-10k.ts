import { round } from '../load';
import { execute, type Scenario, type Size } from '../scenario';

const SIZE = {
  small: { count: 500, rate: 15, progressMs: 5_000, deadlineMs: 300_000 },
  full: { count: 10_000, rate: 15, progressMs: 10_000, deadlineMs: 900_000 },
} satisfies Record<Size, { count: number; rate: number; progressMs: number; deadlineMs: number }>;

const PRE_WRITE = 0.2;
const POST_WRITE = 0.1;

/**
 * Volume with a faulty downstream: 10,000 transactions in open loop at a rate this 2-core machine sustains,
 * 20% of POSTs failing before the write and 10% after it (half a 5xx, half held past the worker's timeout).
 * Every one must complete, each held exactly once. Script only (npm run chaos -- faults-10k): some 12 minutes.
 */
export const faults10k: Scenario = {
  name: 'faults-10k',
  description: '10,000 transactions with 20% pre-write and 10% post-write downstream failures',
  inTest: false,
  run(size, sink = (line) => process.stdout.write(`${line}\n`)) {
    const { count, rate, progressMs, deadlineMs } = SIZE[size];
    return execute(
      this,
      size,
      sink,
      {
        faults: {
          preWriteFailureRate: PRE_WRITE,
          postWriteFailureRate: POST_WRITE,
          postWriteMode: 'mixed',
          postWriteHangMs: 2_500,
          postLatencyMs: { min: 0, max: 20 },
        },
        // A worker that keeps up with 15/s including the retries; 1.5 s downstream timeout (the default).
        workerEnv: { WORKER_MAX_CONCURRENT_ACTIVITIES: '200' },
      },
      async ({ run, verifier, newLoad }) => {
        const t0 = Date.now();
        const load = newLoad({ count, rate, giveUpMs: 600_000 }).start();
        const stopProgress = run.progress(() => {
          const s = load.summary();
          return `${load.status()} | ${round(s.accepted / ((Date.now() - t0) / 1000), 1)} accepted/s`;
        }, progressMs);
        try {
          await load.done();
          const sentSeconds = (Date.now() - t0) / 1000;
          stopProgress();
          run.log(`all ${count} sent in ${round(sentSeconds, 1)} s; waiting for them to finish`);
          const verification = await verifier.verify(load.records, {
            deadlineMs,
            log: run.log,
            progressEveryMs: progressMs,
          });
          const totalSeconds = (Date.now() - t0) / 1000;
          const m = verification.mock;
          const posted = m.requests.post;
          Object.assign(run.details, {
            rate,
            sentSeconds: round(sentSeconds, 1),
            acceptedPerSecond: round(load.accepted / sentSeconds, 1),
            finishedPerSecond: round(verification.completed / totalSeconds, 1),
            secondsUntilAllFinished: round(totalSeconds, 1),
            faultRates: { preWrite: PRE_WRITE, postWrite: POST_WRITE, postWriteMode: 'mixed' },
            mockPostRequests: posted,
            mockGetRequests: m.requests.get,
            injected: m.faults,
            attempts: verification.attempts,
            outcomes: verification.outcomes,
          });
          run.check(
            'downstream failures were injected at the asked rates',
            m.faults.preWrite > 0 && m.faults.postWrite > 0,
            `${m.faults.preWrite} pre-write (${round((100 * m.faults.preWrite) / posted, 1)}% of ${posted} POSTs), ` +
              `${m.faults.postWrite} post-write (${m.faults.postWriteHang} of them held past the timeout)`,
          );
          return {
            load,
            verification,
            faults: `${m.faults.preWrite} pre-write + ${m.faults.postWrite} post-write`,
            faultEndedAt: null,
          };
        } finally {
          stopProgress();
        }
      },
    );
  },
};
