import { ActivityFailure, ApplicationFailure, sleep } from '@temporalio/workflow';
import { DOWNSTREAM_UNHEALTHY, PAUSED_REASON, type PauseReport } from '../domain/phase';
import type { ProcessingState } from '../domain/transaction';
import type { Progress } from './progress';
import { showDetails } from './run-details';

/** An activity that made no call because its worker's circuit breaker is open. */
export function isPause(err: unknown): err is ActivityFailure {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === DOWNSTREAM_UNHEALTHY
  );
}

/** What the paused activity's failure reports (pause failures only). */
export function pauseReport(err: ActivityFailure): Partial<PauseReport> {
  return ((err.cause as ApplicationFailure).details?.[0] as Partial<PauseReport> | undefined) ?? {};
}

/** The calls the paused activity made before its breaker stopped it (its earlier attempts). */
export function callsBeforePause(err: ActivityFailure): number {
  return pauseReport(err).attempt ?? 0;
}

/**
 * The wait after the n-th pause in a row: until just after the breaker's next probe, then each time one more
 * probe interval longer (1, 2, 4, ... intervals), up to the breaker's maximum pause. A long outage thus costs
 * a few events per pause (a timer and a fast-failing activity), not one round per probe.
 */
export function pauseDelayMs(report: Partial<PauseReport>, n: number): number {
  const interval = report.probeIntervalMs ?? DEFAULT_INTERVAL_MS;
  const first = (report.retryAfterMs ?? interval) + AFTER_PROBE_MS;
  const doublings = Math.min(n - 1, 20);
  return Math.min(first + interval * (2 ** doublings - 1), Math.max(report.maxPauseMs ?? interval, first));
}
const DEFAULT_INTERVAL_MS = 5_000;
/** Lets the probe's answer arrive before the paused activity tries again. */
const AFTER_PROBE_MS = 200;

/**
 * The pauses of one run. A pause is never a failure: the run waits on a timer and tries the same step again;
 * only the transaction's deadline ends it (and a POST already sent still gets its final check).
 */
export class Pauses {
  private inRow = 0;

  constructor(
    private readonly state: ProcessingState,
    private readonly progress: Progress,
  ) {}

  /** Pauses the run after `err` (an isPause failure), shown as phase `paused` and in the Web UI's details. */
  async wait(err: ActivityFailure): Promise<void> {
    this.inRow += 1;
    const delay = pauseDelayMs(pauseReport(err), this.inRow);
    this.progress.enter('paused');
    showDetails(this.state, `paused: ${PAUSED_REASON}; next try in ${delay / 1000} s (pause ${this.inRow})`);
    await sleep(delay, { summary: `paused: ${PAUSED_REASON}` });
  }

  /** An activity ended without a pause: the next pause starts from the shortest wait again. */
  resumed(): void {
    this.inRow = 0;
  }
}
