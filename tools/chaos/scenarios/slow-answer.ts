import { loadScenario } from './common';

const POSTING_TIMEOUT_MS = 1_500;
const HANG_MS = 4_000;

/**
 * Half of the POSTs are stored at once and then answered only after the worker's downstream timeout (the mock
 * holds the response 4 s, the worker gives up after 1.5 s): an unknown outcome, but the row is already there.
 * The retry looks first (GET), finds the transaction and never POSTs it again: the mock sees exactly one POST
 * per transaction. (A write that itself lands late is the late-write scenario.)
 */
export const slowAnswer = loadScenario({
  name: 'slow-answer',
  description: "half the downstream writes are stored at once but answered only after the client's timeout",
  inTest: true,
  sizes: {
    small: { count: 40, rate: 10 },
    full: { count: 300, rate: 15 },
  },
  cluster: {
    faults: { postWriteFailureRate: 0.5, postWriteMode: 'hang', postWriteHangMs: HANG_MS },
    workerEnv: { POSTING_TIMEOUT_MS: String(POSTING_TIMEOUT_MS) },
  },
  // The fault is the mock's own, set above: nothing to do while the load goes out.
  fault: () => Promise.resolve(),
  judge({ run }, { verification }) {
    const m = verification.mock;
    const hung = m.faults.postWriteHang;
    const recovered = verification.outcomes.already_present ?? 0;
    Object.assign(run.details, {
      postingTimeoutMs: POSTING_TIMEOUT_MS,
      postWriteHangMs: HANG_MS,
      slowAnswers: hung,
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
      'every slow answer was found by the retry (already_present)',
      recovered === hung,
      `${recovered} completed as already_present, ${hung} answered late`,
    );
    return { faults: `${hung} writes answered late`, faultEndedAt: null };
  },
});
