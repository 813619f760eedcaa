import {
  WorkflowIdConflictPolicy,
  type WorkflowIdReusePolicy,
  type WorkflowStartOptions,
} from '@temporalio/client';
import {
  TX_AMOUNT,
  TX_ATTEMPTS,
  TX_CURRENCY,
  TX_DESTINATION_ACCOUNT,
  TX_PHASE,
  TX_SOURCE_ACCOUNT,
  TX_STATUS,
} from '../../domain/search-attributes';
import type { CallbackPlan, CallbackPolicy } from '../../domain/callbacks';
import type { ProcessingPolicy } from '../../domain/transaction';
import type { processTransaction } from '../../workflows';
import type { TransactionMemo } from './transaction-view';

/** What every start of a transaction's workflow shares, from the API's settings. */
export interface StartSettings {
  taskQueue: string;
  policy: ProcessingPolicy;
  /** Ask for the run's first workflow task in the start response (all-in-one: a worker on the same connection). */
  eagerStart?: boolean;
  callbacks?: CallbackStartSettings;
}

/** The operator's side of callbacks: URLs that get every transaction's final status, and the retry policy. */
export interface CallbackStartSettings {
  subscribers: readonly string[];
  policy: CallbackPolicy;
}

/** Where a run announces its final status: the client's callback_url, then the subscribers; none: no plan. */
export function callbackPlan(
  memo: TransactionMemo,
  settings?: CallbackStartSettings,
): CallbackPlan | undefined {
  const urls = [
    ...(memo.callbackUrl !== undefined ? [memo.callbackUrl] : []),
    ...(settings?.subscribers ?? []),
  ];
  if (urls.length === 0 || !settings) return undefined;
  return { urls, dialect: memo.dialect ?? 'api', submittedAt: memo.submittedAt, policy: settings.policy };
}

/**
 * The options of a run of `processTransaction` for the transaction in `memo`: the transaction ID is the
 * workflow ID, the memo and search attributes let the API read and list it without a worker, and the summary
 * and details show it in the Web UI. `workflowIdReusePolicy` tells which earlier run may be started over.
 */
export function startOptions(
  memo: TransactionMemo,
  settings: StartSettings,
  workflowIdReusePolicy: WorkflowIdReusePolicy,
) {
  const { transaction } = memo;
  return {
    workflowId: transaction.id,
    taskQueue: settings.taskQueue,
    args: [{ transaction, policy: settings.policy, ...withPlan(callbackPlan(memo, settings.callbacks)) }],
    workflowIdReusePolicy,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    memo: { ...memo },
    typedSearchAttributes: [
      { key: TX_STATUS, value: 'pending' },
      { key: TX_AMOUNT, value: Number(transaction.amount) },
      { key: TX_CURRENCY, value: transaction.currency },
      ...(transaction.sourceAccount ? [{ key: TX_SOURCE_ACCOUNT, value: transaction.sourceAccount }] : []),
      ...(transaction.destinationAccount
        ? [{ key: TX_DESTINATION_ACCOUNT, value: transaction.destinationAccount }]
        : []),
      // The workflow's first phase, set here so that it spends no upsert on it (src/workflows/progress.ts).
      { key: TX_PHASE, value: 'checking' },
      { key: TX_ATTEMPTS, value: 0 },
    ],
    staticSummary: summary(memo),
    staticDetails: details(memo),
    ...(settings.eagerStart && { requestEagerStart: true }),
  } satisfies WorkflowStartOptions<typeof processTransaction>;
}

// Without a plan the input is exactly what it was before callbacks.
const withPlan = (callbacks: CallbackPlan | undefined) => (callbacks ? { callbacks } : {});

/**
 * How long a retry's run waits before it starts. A run that failed by its own rule has looked after its last
 * POST. One that was terminated, timed out or cancelled from outside may have left a POST in flight (its
 * activity can outlive it by an attempt) whose write lands within the settle window: the new run starts only
 * once both have passed.
 */
export function retryDelayMs(
  closed: { status: { name: string }; closeTime?: Date },
  policy: ProcessingPolicy,
  now = Date.now(),
): number {
  if (closed.status.name === 'FAILED' || !closed.closeTime) return 0;
  const { post, writeSettleMs = 0 } = policy;
  return Math.max(0, closed.closeTime.getTime() + post.startToCloseTimeout + writeSettleMs - now);
}

/** The run page's description in the Web UI (markdown). */
function details({ transaction: t, submittedAt }: TransactionMemo): string {
  return [
    `**${t.amount} ${t.currency}**${t.description ? ` — ${t.description}` : ''}`,
    `from \`${t.sourceAccount ?? '-'}\` to \`${t.destinationAccount ?? '-'}\``,
    `submitted ${submittedAt}`,
  ].join('\n\n');
}

/** One line for the Web UI's run list, e.g. "150.50 INR acc_a → acc_b". */
function summary({ transaction: t }: TransactionMemo): string {
  const route =
    t.sourceAccount || t.destinationAccount
      ? ` ${t.sourceAccount ?? '?'} → ${t.destinationAccount ?? '?'}`
      : '';
  return `${t.amount} ${t.currency}${route}`;
}
