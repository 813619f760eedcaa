import {
  ActivityFailure,
  patched,
  sleep,
  type ActivityInterfaceFor,
  type LocalActivityInterfaceFor,
} from '@temporalio/workflow';
import type { PostingActivities } from '../activities';
import type { ProcessingState, Transaction } from '../domain/transaction';
import type { DownstreamCalls } from './downstream-calls';
import { asActivityFailure, isUnanswered } from './local-check';
import { FINAL_ERROR_TYPES } from './step-options';
import { EARLY_LOOK_TIME_MS, earlyLooksMs, settleDelayMs } from './posting-protocol';
import type { Progress } from './progress';
import { showDetails } from './run-details';

const EARLY_LOOKS_PATCH = 'early-looks';

/** The wait after a POST of unknown outcome: the write-settle window on durable timers, with early looks. */
export class WriteSettle {
  constructor(
    private readonly transaction: Transaction,
    private readonly state: ProcessingState,
    private readonly progress: Progress,
    private readonly calls: DownstreamCalls,
    /** The steps' look (step-options.ts LOOK), given a deadline of the window's end here. */
    private readonly lookActivity: ActivityInterfaceFor<PostingActivities>['checkExists'],
    /** With policy.looksLocally: early looks run as local activities, in the task the timer wakes (decision 0027). */
    private readonly localLook?: LocalActivityInterfaceFor<PostingActivities>['checkExists'],
  ) {}

  /** Waits `windowMs` (as the `round`-th unknown outcome); true as soon as an early look finds the transaction. */
  async wait(windowMs: number, round: number): Promise<boolean> {
    const delay = settleDelayMs(windowMs, round);
    this.progress.enter('waiting_to_retry');
    showDetails(this.state, `waiting ${delay / 1000} s for a POST of unknown outcome to settle`);
    const start = Date.now();
    // Runs that waited out a window before early looks existed replay without them (decision 0024).
    const looks = patched(EARLY_LOOKS_PATCH) ? earlyLooksMs(delay) : [];
    for (const at of looks) {
      await sleep(Math.max(start + at - Date.now(), 1), { summary: 'write settle: look early' });
      if (await this.earlyLook(start + delay)) return true;
    }
    const left = start + delay - Date.now();
    if (left > 0) await sleep(left, { summary: 'write settle: the last POST may still land' });
    return false;
  }

  /**
   * One look within the window, bounded by its end. Only "found" decides anything: a look that got no answer,
   * or an answer that would fail the transaction (a conflict), is left to the look after the window, and leaves
   * no error behind (the run's last error stays the POST's).
   */
  private async earlyLook(windowEnd: number): Promise<boolean> {
    // A GET may run again when its task is retried: harmless, unlike a POST. Only a local look that got no
    // answer, or made no call under a rate cap, goes on through the task queue, with the look's retries.
    if (this.localLook) {
      const found = await this.lookLocally(this.localLook, untilWindowEnd(windowEnd));
      if (found !== 'unanswered') return found;
      // Too little of the window left for a look to answer: the look after the window will.
      if (windowEnd - Date.now() < EARLY_LOOK_TIME_MS) return false;
    }
    try {
      const { found } = await this.calls.quietly('look', (activityId) =>
        this.lookActivity.executeWithOptions({ activityId, ...untilWindowEnd(windowEnd) }, this.lookArgs()),
      );
      return found;
    } catch (err) {
      if (err instanceof ActivityFailure) return false;
      throw err;
    }
  }

  /** An early look as a local activity (decision 0027): found, not found, or no answer. */
  private async lookLocally(
    localLook: LocalActivityInterfaceFor<PostingActivities>['checkExists'],
    timeouts: { scheduleToCloseTimeout: number },
  ): Promise<boolean | 'unanswered'> {
    try {
      const { found } = await this.calls.quietly('look', () =>
        asActivityFailure(localLook.executeWithOptions(timeouts, this.lookArgs()), 'checkExists'),
      );
      return found;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // No answer includes a call deferred to a rate cap. A pause (the breaker is open), a conflict or a
      // cancellation decides nothing, as with any failed early look.
      return isUnanswered(err, FINAL_ERROR_TYPES) ? 'unanswered' : false;
    }
  }

  private lookArgs(): [string, Transaction] {
    return [this.transaction.id, this.transaction];
  }
}

/** A look within the window ends with it. */
function untilWindowEnd(windowEnd: number): { scheduleToCloseTimeout: number } {
  return { scheduleToCloseTimeout: Math.max(windowEnd - Date.now(), 1) };
}
