import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  setHandler,
} from '@temporalio/workflow';
import type { ProcessingState } from '../domain/transaction';
import { CANCEL_REFUSED, cancelUpdate } from './updates';

/**
 * Cancellation, from the API's cancel update or a workflow cancel request (`temporal workflow cancel`, the
 * Web UI), takes effect only before the POST is scheduled. From then on it is ignored and the transaction
 * runs to its true outcome, so txflow never says "cancelled" about a transaction it may have posted.
 */
export class PostGuard {
  /** The workflow's root scope: a cancel request marks it at once (its children only a microtask later). */
  private readonly root = CancellationScope.current();
  /** Work before the POST runs in this child of the root, so both kinds of cancellation reach it. */
  private readonly scope = new CancellationScope();
  private posting = false;
  private updateAccepted = false;

  constructor(state: ProcessingState) {
    setHandler(
      cancelUpdate,
      async () => {
        this.updateAccepted = true;
        this.scope.cancel();
        // Answers with the outcome, or as soon as the run is past its point of no return (an earlier try of its
        // first workflow task may have posted, decision 0026): `processing`, which the API calls too late.
        await CancellationScope.nonCancellable(() =>
          condition(() => state.status !== 'processing' || this.posting),
        );
        return state;
      },
      {
        // Runs in the same thread as the decision to post: accepted here means the POST is never scheduled.
        validator: () => {
          if (state.status === 'cancelled') return;
          if (this.posting || state.status !== 'processing') {
            throw ApplicationFailure.create({
              type: CANCEL_REFUSED,
              message: this.posting
                ? 'too late: the transaction may already have been posted'
                : `too late: the transaction is ${state.status}`,
              nonRetryable: true,
            });
          }
        },
      },
    );
  }

  get cancelRequested(): boolean {
    return !this.posting && (this.scope.consideredCancelled || this.root.consideredCancelled);
  }

  /** Work before the POST: cancellable. */
  beforePost<T>(fn: () => Promise<T>): Promise<T> {
    return this.scope.run(fn);
  }

  /** The point of no return: the POST and the checks that decide its outcome ignore cancellation. */
  pastPost<T>(fn: () => Promise<T>): Promise<T> {
    this.markPosting();
    return CancellationScope.nonCancellable(fn);
  }

  /** From now on cancellation is ignored: a POST may have been sent (an earlier try's local POST, decision 0026). */
  markPosting(): void {
    this.posting = true;
  }

  /** Lets an accepted cancel update send its answer before the workflow closes. */
  async settled(): Promise<void> {
    if (this.updateAccepted) await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  }
}
