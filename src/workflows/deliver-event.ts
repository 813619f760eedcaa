import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  metricMeter,
  proxyActivities,
  setCurrentDetails,
  setWorkflowOptions,
} from '@temporalio/workflow';
import type { CallbackActivities } from '../activities/callback-activities';
import {
  CALLBACK_FAILURES,
  type AttemptOutcome,
  type DeliveryInput,
  type DeliveryResult,
} from '../domain/callbacks';
import { errorSummary } from './downstream-calls';
import { versioningBehavior } from './versioning';

/** The margin of one attempt beyond its HTTP timeout, so the activity reports its own timeout first. */
const ATTEMPT_MARGIN_MS = 1_000;

/**
 * One event to one endpoint: a single activity under a retry policy (backoff, up to the window). Its run page in
 * the Web UI is the delivery log: the pending activity shows the attempts, the last failure and the next try.
 * A 2xx ends it delivered, a 410 stopped; a refused URL or the window's end fails it (`gave_up`).
 */
// Auto-upgrade, unlike the transaction: a delivery may retry for a day after its transaction closed, and pinned
// it would keep an old build running that long. It starts on its parent's build and moves to the current one at
// its next task; its code (one activity) must stay replay-compatible across builds (decision 0022).
setWorkflowOptions(versioningBehavior('AUTO_UPGRADE'), deliverEvent);
export async function deliverEvent(input: DeliveryInput): Promise<DeliveryResult> {
  const { policy } = input;
  const { deliverCallback } = proxyActivities<CallbackActivities>({
    summary: `POST ${input.event.type}`,
    startToCloseTimeout: policy.timeoutMs + ATTEMPT_MARGIN_MS,
    scheduleToCloseTimeout: policy.windowMs,
    retry: {
      initialInterval: policy.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: policy.maxIntervalMs,
      nonRetryableErrorTypes: [CALLBACK_FAILURES.gone, CALLBACK_FAILURES.refused],
    },
  });
  setCurrentDetails(`**delivering** ${input.event.type} (${input.event.id}) to endpoint ${input.endpoint}`);
  let result: DeliveryResult;
  try {
    const { attempt, status } = await deliverCallback(input);
    result = { state: 'delivered', attempts: attempt, lastStatus: status, lastError: null };
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    result = failedDelivery(err);
  }
  setCurrentDetails(
    [
      `**${result.state}**`,
      `attempts: ${result.attempts}`,
      result.lastError && `last error: ${result.lastError}`,
    ]
      .filter(Boolean)
      .join('\n\n'),
  );
  // Counted once per delivery (the SDK does not count again on replay).
  metricMeter
    .createCounter('txflow_callback_deliveries', '1', 'Callback deliveries by how they ended')
    .add(1, { outcome: result.state });
  // Gave up: the run fails ("Failed" in the Web UI), with the result as details for the API.
  if (result.state === 'gave_up') {
    throw ApplicationFailure.create({
      type: 'CallbackGaveUp',
      message: result.lastError ?? 'delivery gave up',
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}

/** A failed activity as a result: its last attempt's report is the deepest ApplicationFailure's details. */
function failedDelivery(err: ActivityFailure): DeliveryResult {
  let report: Partial<AttemptOutcome> | undefined;
  let type: string | undefined;
  let timedOut = false;
  for (let failure: unknown = err.cause; failure instanceof Error; failure = failure.cause) {
    if (failure instanceof TimeoutFailure) {
      timedOut = true;
      report ??= failure.lastHeartbeatDetails as Partial<AttemptOutcome> | undefined;
    }
    if (failure instanceof ApplicationFailure && report === undefined) {
      report = failure.details?.[0] as Partial<AttemptOutcome> | undefined;
      type = failure.type ?? undefined;
    }
  }
  return {
    state: type === CALLBACK_FAILURES.gone && !timedOut ? 'stopped_by_410' : 'gave_up',
    attempts: (report?.attempt ?? 0) + (timedOut && report === undefined ? 1 : 0),
    lastStatus: report?.status ?? null,
    lastError: errorSummary(err),
  };
}
