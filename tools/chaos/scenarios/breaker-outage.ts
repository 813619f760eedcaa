import { setTimeout as sleep } from 'node:timers/promises';
import { round, until } from '../load';
import { execute, type Scenario, type Size } from '../scenario';
import type { MockStats } from '../../mock/store';

const SIZE = {
  small: { count: 60, rate: 15, outageMs: 12_000 },
  full: { count: 300, rate: 10, outageMs: 60_000 },
} satisfies Record<Size, { count: number; rate: number; outageMs: number }>;

// The worker's breaker, sized so that it opens within a second or two of the outage and probes once a second.
const PROBE_INTERVAL_MS = 1_000;
const BREAKER_ENV = {
  BREAKER_ENABLED: 'true',
  BREAKER_FAILURE_RATIO: '0.5',
  BREAKER_MIN_CALLS: '10',
  BREAKER_WINDOW_MS: '5000',
  BREAKER_PROBE_INTERVAL_MS: String(PROBE_INTERVAL_MS),
  BREAKER_MAX_PAUSE_MS: '4000',
};
/** The calls per second the outage's second half may see: the probe, and the paused activities' tries none. */
const TRICKLE_PER_SECOND = 2;

/**
 * The downstream answers 503 to everything for a while under load, with the worker's circuit breaker on. It
 * opens, the transactions pause (GET shows `paused: downstream unhealthy`), and the downstream's calls per
 * second fall to the breaker's probes; when it is back a probe closes the breaker and every transaction
 * completes, once.
 */
export const breakerOutage: Scenario = {
  name: 'breaker-outage',
  description: 'a downstream outage under load with the circuit breaker: calls fall to a trickle of probes',
  // Run by test/chaos-breaker.test.ts.
  inTest: false,
  run(size, sink = (line) => process.stdout.write(`${line}\n`)) {
    const { count, rate, outageMs } = SIZE[size];
    const config = { workerEnv: BREAKER_ENV };
    return execute(this, size, sink, config, async ({ run, cluster, verifier, newLoad }) => {
      const load = newLoad({ count, rate }).start();
      const stopProgress = run.progress(() => load.status());
      try {
        await until(() => load.accepted >= count / 4, 120_000);
        await cluster.setFaults({ outage: true });
        const outageStart = Date.now();
        run.log(`downstream outage on for ${outageMs / 1000} s (${load.status()})`);
        // Downstream calls per second (the mock counts every request to its posting API, 503s included),
        // sampled on its own so that slow GETs of the API do not thin the samples out.
        const perSecond: number[] = [];
        const sampler = (async () => {
          let last = calls(await cluster.mockStats());
          while (Date.now() - outageStart < outageMs) {
            await sleep(1_000);
            const now = calls(await cluster.mockStats());
            perSecond.push(now - last);
            last = now;
          }
        })();
        let pausedSeen: string | null = null;
        while (Date.now() - outageStart < outageMs) {
          pausedSeen ??= await findPaused(verifier, load.records);
          await sleep(250);
        }
        await sampler;
        await cluster.setFaults({ outage: false });
        const outageEnd = Date.now();
        run.log(
          `downstream back (${load.status()}); calls per second during the outage: ${perSecond.join(' ')}`,
        );
        await load.done();
        stopProgress();
        const verification = await verifier.verify(load.records, { deadlineMs: 120_000, log: run.log });

        const firstHalf = perSecond.slice(0, Math.floor(perSecond.length / 2));
        const secondHalf = perSecond.slice(Math.floor(perSecond.length / 2));
        const mean = (xs: number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
        Object.assign(run.details, {
          breaker: BREAKER_ENV,
          callsPerSecond: perSecond,
          peakPerSecond: Math.max(0, ...perSecond),
          secondHalfMeanPerSecond: round(mean(secondHalf), 2),
          firstHalfMeanPerSecond: round(mean(firstHalf), 2),
          pausedTransactionView: pausedSeen,
        });
        run.log(
          `calls per second: peak ${Math.max(0, ...perSecond)}, first half ${round(mean(firstHalf), 2)}, ` +
            `second half ${round(mean(secondHalf), 2)} (probes: ${1_000 / PROBE_INTERVAL_MS}/s)`,
        );
        if (pausedSeen) run.log(`a paused transaction's GET: ${pausedSeen}`);
        run.check(
          'the downstream calls fell to a trickle of probes during the outage',
          secondHalf.length > 0 && secondHalf.every((n) => n <= TRICKLE_PER_SECOND) && mean(secondHalf) > 0,
          `second half of the outage: ${secondHalf.join(' ')} calls/s (at most ${TRICKLE_PER_SECOND} each, not 0)`,
        );
        run.check(
          "a transaction's GET showed it paused: downstream unhealthy",
          pausedSeen !== null,
          pausedSeen ?? 'none seen',
        );
        return {
          load,
          verification,
          faults: `downstream outage ${round((outageEnd - outageStart) / 1000, 1)} s, breaker on`,
          faultEndedAt: outageEnd,
        };
      } finally {
        stopProgress();
      }
    });
  },
};

function calls(s: MockStats): number {
  return s.requests.get + s.requests.post;
}

/** The first open transaction whose GET says it is paused, as a line; null if none does yet. */
async function findPaused(
  verifier: { view(id: string): Promise<unknown> },
  records: readonly { id: string; acceptedStatus: number | null }[],
): Promise<string | null> {
  for (const r of records.filter((x) => x.acceptedStatus !== null).slice(-3)) {
    const view = (await verifier.view(r.id).catch(() => null)) as Record<string, unknown> | null;
    if (view?.phase === 'paused' && view.pausedReason === 'downstream unhealthy') {
      return `${r.id}: ${String(view.status)}, phase paused, pausedReason "downstream unhealthy", attempts ${String(view.attempts)}`;
    }
  }
  return null;
}
