import { upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { TxPhase } from '../domain/phase';
import { TX_ATTEMPTS, TX_PHASE } from '../domain/search-attributes';
import type { ProcessingState } from '../domain/transaction';

/**
 * Keeps what an operator filters on current: TxPhase and TxAttempts (search attributes) and the memo's
 * lastError/lastErrorKind. One upsert per phase change, carrying the attempts and joined by any other change of
 * the same step (TxStatus at the end); the memo is upserted in the same workflow task when lastError changed.
 * The start sets `checking` and 0 (the API's start options); a transaction whose check and POST run in its first
 * workflow task (decision 0026) upserts once, at its end. Why not more often: docs/decisions/0007.
 */
export class Progress {
  private shownAttempts = 0;
  private shownError: string | null = null;
  private shownKind: string | undefined;
  /** Search attributes to join the next upsert (later()). */
  private waiting: SearchAttributeUpdatePair[] = [];

  constructor(private readonly state: ProcessingState) {
    state.phase = 'checking';
  }

  get phase(): TxPhase | undefined {
    return this.state.phase;
  }

  /**
   * Enters `phase` with the attempts so far (and `also`). In the same phase (a pause after a pause), only what
   * changed is written, and nothing when nothing did.
   */
  enter(phase: TxPhase, also: SearchAttributeUpdatePair[] = []): void {
    const pending = this.waiting;
    this.waiting = [];
    const phaseChanged = phase !== this.state.phase;
    const attemptsChanged = this.state.attempts !== this.shownAttempts;
    const errorChanged =
      this.state.lastError !== this.shownError || this.state.lastErrorKind !== this.shownKind;
    const joining = pending.length > 0 || also.length > 0;
    if (!phaseChanged && !attemptsChanged && !errorChanged && !joining) return;
    this.state.phase = phase;
    this.shownAttempts = this.state.attempts;
    const own: SearchAttributeUpdatePair[] = [
      ...(phaseChanged || joining ? [{ key: TX_PHASE, value: phase }] : []),
      ...(attemptsChanged ? [{ key: TX_ATTEMPTS, value: this.state.attempts }] : []),
    ];
    // What waits joins this upsert; a key given now wins over the same key waiting.
    const given = [...own, ...also];
    const joined = [...pending.filter((w) => !given.some((g) => g.key.name === w.key.name)), ...also];
    const pairs = [...own, ...joined];
    if (pairs.length > 0) upsertSearchAttributes(pairs);
    if (errorChanged) {
      this.shownError = this.state.lastError;
      this.shownKind = this.state.lastErrorKind;
      upsertMemo({ lastError: this.state.lastError, lastErrorKind: this.state.lastErrorKind ?? null });
    }
  }

  /**
   * Enters `phase` without an upsert of its own: it joins the next one (enter or flush), as a local POST does,
   * whose workflow task upserts once at its end.
   */
  enterLater(phase: TxPhase): void {
    this.state.phase = phase;
    this.later([{ key: TX_PHASE, value: phase }]);
  }

  /**
   * Joins `pairs` to the next upsert instead of one of their own: within one workflow task (a local check
   * runs inside the first) they would reach visibility at the same moment anyway.
   */
  later(pairs: SearchAttributeUpdatePair[]): void {
    this.waiting.push(...pairs);
  }

  /** Upserts what waits now: the run is about to wait on the server (a timer, an activity task). */
  flush(): void {
    if (this.waiting.length === 0) return;
    upsertSearchAttributes(this.waiting);
    this.waiting = [];
  }
}
