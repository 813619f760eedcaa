import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderTable } from './table';
import type { CompareResult, ContentMismatch, DownstreamView, HeldDownstream } from './compare';

/** What `npm run reconcile` prints and writes as JSON. */
export interface ReconcileReport extends CompareResult {
  startedAt: string;
  finishedAt: string;
  range: { from: string; to: string };
  temporal: { address: string; namespace: string; taskQueue: string | null };
  posting: string;
  graceSeconds: number;
  downstream:
    | { mode: 'list'; rows: number; distinctIds: number; unreadable: number }
    | { mode: 'per-id'; checked: number; held: number };
  /** What this run could see: without a list endpoint, rows unknown to txflow and duplicates cannot be. */
  checked: { unknownDownstream: boolean; duplicates: boolean };
  /** No mismatch. */
  ok: boolean;
}

export function downstreamSummary(view: DownstreamView): ReconcileReport['downstream'] {
  return view.mode === 'list'
    ? {
        mode: 'list',
        rows: view.rows.length,
        distinctIds: new Set(view.rows.map((r) => r.id)).size,
        unreadable: view.unreadable,
      }
    : { mode: 'per-id', checked: view.checked, held: view.held.size };
}

const copies = (n: number) => `${n} row${n === 1 ? '' : 's'}`;

function heldLine(item: HeldDownstream): string {
  const where = item.txflowStatus === 'unknown' ? 'unknown to txflow' : `${item.txflowStatus} in txflow`;
  const started = item.startTime ? `, started ${item.startTime}` : '';
  return `${item.id}: ${where}, ${copies(item.copies)} downstream${started}`;
}

function contentLine(item: ContentMismatch): string {
  const rows = item.copies === 1 ? 'its row' : `${item.rows} of ${item.copies} rows`;
  return `${item.id}: ${item.txflowStatus} in txflow, ${rows} with another ${item.fields.join(', ')}`;
}

function listed<T>(title: string, items: readonly T[], line: (item: T) => string, limit: number): string[] {
  if (items.length === 0) return [];
  const shown = items.slice(0, limit).map((item) => `  ${line(item)}`);
  const more = items.length > limit ? [`  … ${items.length - limit} more in the JSON file`] : [];
  return ['', `${title} (${items.length}):`, ...shown, ...more];
}

/** The stdout summary: figures, a table of the categories, then up to `limit` IDs per category. */
export function formatReport(report: ReconcileReport, limit: number): string {
  const t = report.counts.txflow;
  const d = report.downstream;
  const scope =
    report.temporal.taskQueue === null ? 'all task queues' : `task queue ${report.temporal.taskQueue}`;
  const downstream =
    d.mode === 'list'
      ? `${d.rows} rows, ${d.distinctIds} IDs${d.unreadable > 0 ? `, ${d.unreadable} rows without an ID` : ''} (GET /transactions)`
      : `${d.held} of ${d.checked} txflow IDs held (GET /transactions/:id each; the service has no list: rows unknown to txflow and duplicates not checked)`;
  const mark = (n: number, checked = true) => (!checked ? 'not checked' : n === 0 ? 'ok' : 'MISMATCH');
  const table = renderTable(
    ['category', 'count', ''],
    [
      [
        'completed in txflow, missing downstream',
        String(report.missingDownstream.length),
        mark(report.missingDownstream.length),
      ],
      [
        'held downstream, not completed in txflow',
        String(report.notCompletedInTxflow.length),
        mark(report.notCompletedInTxflow.length),
      ],
      [
        'held downstream more than once',
        String(report.duplicates.length),
        mark(report.duplicates.length, report.checked.duplicates),
      ],
      [
        'stored with different content',
        String(report.contentDiffers.length),
        mark(report.contentDiffers.length),
      ],
      [`in flight (within the ${report.graceSeconds} s grace)`, String(report.inFlight.length), ''],
      ['matched (completed, held downstream as posted)', String(report.counts.matched), ''],
      ['open in txflow, not yet downstream', String(report.counts.open), ''],
      ['downstream only, outside the range', String(report.counts.outOfRange), ''],
    ],
    ['left', 'right', 'left'],
  );
  return [
    `reconcile ${report.range.from} .. ${report.range.to} (namespace ${report.temporal.namespace}, ${scope})`,
    `txflow:     ${t.total} transactions: ${t.completed} completed, ${t.failed} failed, ${t.cancelled} cancelled, ${t.pending} pending, ${t.processing} processing`,
    `downstream: ${downstream}`,
    '',
    table,
    ...listed(
      'completed in txflow, missing downstream',
      report.missingDownstream,
      (m) => `${m.id}: started ${m.startTime}, completed ${m.closeTime ?? '?'}`,
      limit,
    ),
    ...listed('held downstream, not completed in txflow', report.notCompletedInTxflow, heldLine, limit),
    ...listed('held downstream more than once', report.duplicates, heldLine, limit),
    ...listed('stored with different content', report.contentDiffers, contentLine, limit),
    ...listed('in flight', report.inFlight, heldLine, limit),
    '',
    report.ok
      ? 'result: no mismatch'
      : `result: ${report.counts.mismatches} transaction${report.counts.mismatches === 1 ? '' : 's'} mismatched`,
  ].join('\n');
}

/** <out>/reconcile-20261124T004712Z.json, from the run's start. */
export async function writeReport(report: ReconcileReport, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const stamp = report.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const file = path.join(outDir, `reconcile-${stamp}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
