// What `npm run replay` prints: a line per run, a progress line on stderr during long runs, the summary and
// the exit code.
import { formatDuration } from '../shared/progress';
import type { Outcome, Verdict } from './replay';

/** Exit codes (see --help). */
export const EXIT = { ok: 0, broken: 1, flags: 2, unreachable: 3, unchecked: 4 } as const;

const LABEL: Record<Verdict, string> = {
  ok: 'ok',
  nondeterminism: 'NONDETERMINISM',
  failed: 'FAILED',
  'not-found': 'not found',
  unchecked: 'not checked',
};
const WIDTH = Math.max(...Object.values(LABEL).map((l) => l.length));

/** `NONDETERMINISM  tx-1  <detail>`: the verdict first, so that the lines sort and grep by it. */
export function formatOutcome(outcome: Outcome): string {
  const label = LABEL[outcome.verdict].padEnd(WIDTH);
  const detail = outcome.verdict === 'not-found' || outcome.detail === undefined ? '' : `  ${outcome.detail}`;
  return `${label}  ${outcome.workflowId}${detail}`;
}

export type Counts = Record<Verdict, number>;

export function countOutcomes(outcomes: readonly Outcome[]): Counts {
  const counts: Counts = { ok: 0, nondeterminism: 0, failed: 0, 'not-found': 0, unchecked: 0 };
  for (const o of outcomes) counts[o.verdict]++;
  return counts;
}

/** A break is what a deploy would do to a run; an ID that could not be checked only comes after that. */
export function exitCode(counts: Counts): number {
  if (counts.nondeterminism + counts.failed > 0) return EXIT.broken;
  if (counts['not-found'] + counts.unchecked > 0) return EXIT.unchecked;
  return EXIT.ok;
}

export function formatSummary(counts: Counts, elapsedMs: number): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const parts = (Object.keys(LABEL) as Verdict[])
    .filter((v) => v === 'ok' || counts[v] > 0)
    .map((v) => `${counts[v]} ${LABEL[v]}`);
  return `replayed ${total} in ${formatDuration(elapsedMs)}: ${parts.join(', ')}`;
}
