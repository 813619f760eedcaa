import { setCurrentDetails } from '@temporalio/workflow';
import type { ProcessingState } from '../domain/transaction';

/** Shows the run's progress on its page in the Web UI ("current details": read through a query, no event). */
export function showDetails(state: ProcessingState, note?: string): void {
  setCurrentDetails(formatDetails(state, note));
}

/** The markdown an operator reads: status and outcome, the phase, calls so far, the last error and what the run waits for. */
export function formatDetails(state: ProcessingState, note?: string): string {
  const outcome = state.outcome === 'already_present' ? 'found already posted' : (state.outcome ?? '');
  return [
    `**${state.status}**${outcome ? ` (${outcome})` : ''}`,
    state.status === 'processing' && state.phase && `phase: ${state.phase}`,
    `attempts: ${state.attempts}`,
    state.lastError && `last error: ${state.lastError}`,
    note,
  ]
    .filter(Boolean)
    .join('\n\n');
}
