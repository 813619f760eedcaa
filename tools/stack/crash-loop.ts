/** When a crashed component is restarted, and when its crashes count as a crash loop. */
export interface RestartPolicy {
  /** This many crashes within `windowMs` is a crash loop: the stack gives up. */
  maxCrashes: number;
  windowMs: number;
  /** Wait before the first restart; doubled for each further crash in the window. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export type CrashVerdict =
  { giveUp: false; backoffMs: number; crashesInWindow: number } | { giveUp: true; crashesInWindow: number };

/** One component's recent crashes. */
export class CrashWindow {
  private readonly crashes: number[] = [];

  constructor(private readonly policy: RestartPolicy) {}

  /** Records a crash at `now`: restart after the backoff, or give up on a crash loop. */
  crashed(now: number): CrashVerdict {
    const { maxCrashes, windowMs, initialBackoffMs, maxBackoffMs } = this.policy;
    this.crashes.push(now);
    while (this.crashes.length > 0 && (this.crashes[0] ?? now) <= now - windowMs) this.crashes.shift();
    const crashesInWindow = this.crashes.length;
    if (crashesInWindow >= maxCrashes) return { giveUp: true, crashesInWindow };
    const backoffMs = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (crashesInWindow - 1));
    return { giveUp: false, backoffMs, crashesInWindow };
  }
}
