import { defineQuery } from '@temporalio/workflow';
import type { ProcessingState } from '../domain/transaction';

/** The transaction's progress as the workflow sees it; answered by a worker while the run is open. */
export const statusQuery = defineQuery<ProcessingState>('status');
