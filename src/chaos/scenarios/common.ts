import type { Cluster } from '../cluster';
import type { MockStats } from '../../mock/store';

/** POSTs the mock has received and not yet answered: arrived, minus stored, failed before writing, refused. */
export function inFlightPosts(s: MockStats): number {
  return s.requests.post - s.posts - s.faults.preWrite - s.rejected;
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
