import { execute, type Scenario, type Size } from '../scenario';

const SIZE = {
  small: { count: 40, rate: 10 },
  full: { count: 300, rate: 15 },
} satisfies Record<Size, { count: number; rate: number }>;

const POSTING_TIMEOUT_MS = 1_500;
const HANG_MS = 4_000;

/**
 * Half of the POSTs are stored and then answered only after the worker's downstream timeout (the mock holds
 * the response 4 s, the worker gives up after 1.5 s): an unknown outcome. The retry looks first (GET), finds
 * the transaction and never POSTs it again: the mock sees exactly one POST per transaction.
 */
export const lateWrite: Scenario = {
  name: 'late-write',
  description: "half the downstream writes are stored but answered only after the client's timeout",
  inTest: true,
  run(size, sink = (line) => process.stdout.write(`${line}\n`)) {
    const { count, rate } = SIZE[size];
    return execute(
      this,
      size,
      sink,
      {
        faults: { postWriteFailureRate: 0.5, postWriteMode: 'hang', postWriteHangMs: HANG_MS },
        workerEnv: { POSTING_TIMEOUT_MS: String(POSTING_TIMEOUT_MS) },
      },
      async ({ run, verifier, newLoad }) => {
        const load = newLoad({ count, rate }).start();
        const stopProgress = run.progress(() => load.status());
        try {
          await load.done();
          stopProgress();
          const verification = await verifier.verify(load.records, { deadlineMs: 180_000, log: run.log });
          const m = verification.mock;
          const hung = m.faults.postWriteHang;
          const recovered = verification.outcomes.already_present ?? 0;
          Object.assign(run.details, {
            postingTimeoutMs: POSTING_TIMEOUT_MS,
            postWriteHangMs: HANG_MS,
            lateWrites: hung,
            recoveredByGet: recovered,
            postRequests: m.requests.post,
            getRequests: m.requests.get,
            distinctIds: m.distinctIds,
            attempts: verification.attempts,
            outcomes: verification.outcomes,
          });
          run.check(
            'writes were answered after the timeout',
            hung > 0,
            `${hung} POSTs stored and held ${HANG_MS} ms`,
          );
          run.check(
            'no second POST: the mock got one POST per transaction',
            m.requests.post === m.distinctIds && m.distinctIds === verification.accepted,
            `${m.requests.post} POST requests, ${m.distinctIds} distinct IDs, ${verification.accepted} accepted`,
          );
          run.check(
            'every late write was found by the retry (already_present)',
            recovered === hung,
            `${recovered} completed as already_present, ${hung} late writes`,
          );
          return { load, verification, faults: `${hung} late writes`, faultEndedAt: null };
        } finally {
          stopProgress();
        }
      },
    );
  },
};
