import type { Cluster, ClusterConfig } from '../cluster';
import { until, type Load } from '../load';
import { execute, type Context, type Outcome, type Scenario, type Size } from '../scenario';
import type { Verification } from '../verify';
import type { MockStats } from '../../mock/store';

/**
 * POSTs the mock has received and not yet answered: arrived, minus stored, failed before writing, refused, and
 * settled by their Idempotency-Key (replayed, in progress, other body). A late write counts until it lands.
 */
export function inFlightPosts(s: MockStats): number {
  const byKey = s.idempotency.replayed + s.idempotency.inProgress + s.idempotency.mismatched;
  return s.requests.post - s.posts - s.faults.preWrite - s.rejected - byKey;
}

/**
 * Polls the mock until at least `min` POSTs are in flight (or the time is up); resolves how many were, so a
 * fault injected right after hits activities that are running.
 */
export async function waitForInFlightPosts(
  cluster: Cluster,
  min: number,
  timeoutMs: number,
): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const n = inFlightPosts(await cluster.mockStats());
    if (n >= min || Date.now() >= end) return n;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The most attempts an activity retried under (initial, backoff, max) can start within `windowMs`: the first at
 * once, each next one an interval later (initial x backoff^k, capped at max). The densest window is the first.
 */
export function attemptsWithin(windowMs: number, initialMs: number, backoff: number, maxMs: number): number {
  let attempts = 1;
  let at = 0;
  for (let k = 0; ; k++) {
    at += Math.min(initialMs * backoff ** k, maxMs);
    if (at > windowMs) return attempts;
    attempts++;
  }
}

/** A scenario's load once it has ended, what the verifier found of it, and what its fault step handed back. */
export interface Verified<T> {
  load: Load;
  verification: Verification;
  fault: T;
}

/** A scenario that sends one load, does `fault` to the system meanwhile and then judges what it found. */
export interface LoadScenario<T> extends Pick<Scenario, 'name' | 'description' | 'inTest'> {
  sizes: Record<Size, { count: number; rate: number }>;
  cluster: Omit<ClusterConfig, 'label' | 'log'>;
  /** Runs while the load goes out; what it resolves is handed to `judge`. */
  fault(ctx: Context, load: Load): Promise<T>;
  /**
   * Runs once every accepted transaction has finished; the downstream is then compared again. For writes that
   * can still land after their transaction finished (late writes): a duplicate must not escape the count.
   */
  settle?(ctx: Context): Promise<void>;
  /** Records the scenario's own details and checks; names the fault and when it ended. */
  judge(ctx: Context, verified: Verified<T>): Pick<Outcome, 'faults' | 'faultEndedAt'>;
}

export function loadScenario<T>(spec: LoadScenario<T>): Scenario {
  return {
    name: spec.name,
    description: spec.description,
    inTest: spec.inTest,
    run(size, sink = (line) => process.stdout.write(`${line}\n`)) {
      return execute(this, size, sink, spec.cluster, async (ctx) => {
        const verified = await loadAndVerify(ctx, spec.sizes[size], (load) => spec.fault(ctx, load));
        if (spec.settle) {
          await spec.settle(ctx);
          verified.verification = await ctx.verifier.verify(verified.load.records, {
            deadlineMs: 30_000,
            log: ctx.run.log,
          });
        }
        return { load: verified.load, verification: verified.verification, ...spec.judge(ctx, verified) };
      });
    },
  };
}

/**
 * Sends `count` transactions at `rate` with progress lines, runs `fault` while they go out, waits for the load
 * to end and verifies it. Progress stops before the verifier logs its own lines, and when anything throws.
 */
async function loadAndVerify<T>(
  { run, verifier, newLoad }: Context,
  { count, rate }: { count: number; rate: number },
  fault: (load: Load) => Promise<T>,
): Promise<Verified<T>> {
  const load = newLoad({ count, rate }).start();
  const stopProgress = run.progress(() => load.status());
  let faulted: T;
  try {
    faulted = await fault(load);
    await load.done();
  } finally {
    stopProgress();
  }
  const verification = await verifier.verify(load.records, { deadlineMs: 180_000, log: run.log });
  return { load, verification, fault: faulted };
}

/**
 * Waits until a third of the load is accepted and then for `min` POSTs in flight at the mock: the moment to kill
 * a worker so that it dies holding running activities. Resolves how many POSTs were in flight.
 */
export async function inFlightMidLoad(cluster: Cluster, load: Load, min: number): Promise<number> {
  await until(() => load.accepted >= load.options.count / 3, 120_000);
  return waitForInFlightPosts(cluster, min, 15_000);
}

/** Transactions that took more than 2 downstream calls (check + post): retried, when the mock fails no call. */
export function retriedTransactions(v: Verification): number {
  return Object.entries(v.attempts)
    .filter(([n]) => Number(n) > 2)
    .reduce((a, [, c]) => a + c, 0);
}
