import type { CompletionTracker } from './completion';
import type { PhaseRecorder } from './phase-recorder';
import type { Progress, ProgressSnapshot } from './progress';
import type { Clock } from '../shared/schedule';
import type { Timeline } from './timeline';

/** The phase (or stress step) sending now; none while draining. */
export interface CurrentPhase {
  recorder: PhaseRecorder;
  label: string;
}

/** Once a second: the timeline's gauges and the progress display. */
export class ProgressTicker {
  #drainStart: number | undefined;

  constructor(
    private readonly d: {
      clock: Clock;
      timeline: Timeline;
      tracker: CompletionTracker;
      progress: Progress;
      /** The drain's deadline, shown as its length. */
      deadlineSeconds: number;
    },
  ) {}

  tick(current: CurrentPhase | undefined, inFlight: number): void {
    const { clock, timeline, tracker, progress } = this.d;
    const now = clock.now();
    timeline.sample(now, current?.label ?? 'drain', inFlight);
    const common = {
      inFlight,
      tracked: tracker.pending + tracker.completedOrFailed,
      finished: tracker.completedOrFailed,
      pending: tracker.pending,
    };
    if (current === undefined) {
      this.#drainStart ??= now;
      progress.update({ ...common, ...this.#drainSnapshot(now) });
      return;
    }
    const r = current.recorder;
    progress.update({
      ...common,
      phase: current.label,
      elapsedSeconds: Math.max(0, now - r.start) / 1000,
      totalSeconds: Math.round(r.plannedSeconds * 10) / 10,
      sent: r.sent,
      planned: r.planned,
      accepted: r.accepted,
      errors: r.answered - r.accepted,
      p99Ms: r.p99Answered(),
      maxLagMs: r.maxLagMs(),
    });
  }

  #drainSnapshot(now: number): Omit<ProgressSnapshot, 'inFlight' | 'tracked' | 'finished' | 'pending'> {
    return {
      phase: 'drain',
      elapsedSeconds: (now - (this.#drainStart ?? now)) / 1000,
      totalSeconds: this.d.deadlineSeconds,
      sent: 0,
      planned: 0,
      accepted: 0,
      errors: 0,
      p99Ms: 0,
      maxLagMs: 0,
    };
  }
}
