import { defineUpdate } from '@temporalio/workflow';
import type { ProcessingState } from '../domain/transaction';

/**
 * Cancels the transaction unless its POST may already have been sent; its validator refuses it from then on.
 * Answers the workflow's decision: normally `cancelled`, `completed` if its check had just found the
 * transaction downstream.
 */
export const cancelUpdate = defineUpdate<ProcessingState>('cancel');

/** Failure type of a refused cancel update. */
export const CANCEL_REFUSED = 'CancelRefused';
