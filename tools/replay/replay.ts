// Replays fetched histories on one replay worker and says, per run, whether the workflow code reproduces it.
import { ReplayError, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { Fetched } from './histories';

/**
 * ok: replayed. nondeterminism: the code issues other commands than the history holds (a deploy would break
 * the run). failed: another workflow task failure during replay. not-found, unchecked: no history to replay.
 */
export type Verdict = 'ok' | 'nondeterminism' | 'failed' | 'not-found' | 'unchecked';

export interface Outcome {
  workflowId: string;
  runId?: string;
  verdict: Verdict;
  /** The error's first line, without the SDK's preamble. */
  detail?: string;
}

/**
 * "Replay failed with ... Details: <Core's failure, Rust debug text>": the failure's own message when it has
 * one ("[TMPRL1100] Nondeterminism error: ..."), else the part after Details; its first line.
 */
function detailOf(err: Error): string {
  const firstLine = (text: string) => text.split('\n')[0] ?? '';
  const marker = err.message.indexOf('Details: ');
  const details = marker >= 0 ? err.message.slice(marker + 'Details: '.length) : err.message;
  const inner = /message: "((?:[^"\\]|\\.)*)"/.exec(details)?.[1];
  return firstLine(inner ?? details);
}

function verdictOf(error: unknown): Pick<Outcome, 'verdict' | 'detail'> {
  if (error === undefined) return { verdict: 'ok' };
  if (error instanceof DeterminismViolationError)
    return { verdict: 'nondeterminism', detail: detailOf(error) };
  if (error instanceof ReplayError) return { verdict: 'failed', detail: detailOf(error) };
  return { verdict: 'failed', detail: detailOf(error instanceof Error ? error : new Error(String(error))) };
}

/**
 * One Outcome per fetched entry, in order. Entries without a history are reported where they stand: the
 * replay worker sees only the histories, so those outcomes wait in `skipped` until the next replay result.
 */
export async function* replayFetched(
  options: ReplayWorkerOptions,
  fetched: AsyncIterable<Fetched>,
): AsyncGenerator<Outcome> {
  const skipped: Outcome[] = [];
  async function* histories() {
    for await (const entry of fetched) {
      if ('history' in entry) {
        yield { workflowId: entry.target.workflowId, history: entry.history };
      } else {
        skipped.push({
          ...entry.target,
          verdict: entry.missing === 'not found' ? 'not-found' : 'unchecked',
          detail: entry.missing,
        });
      }
    }
  }
  for await (const result of Worker.runReplayHistories(options, histories())) {
    yield* skipped.splice(0);
    yield { workflowId: result.workflowId, runId: result.runId, ...verdictOf(result.error) };
  }
  yield* skipped.splice(0);
}
