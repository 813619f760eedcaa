import { Context, type Info } from '@temporalio/activity';

type AttemptInfo = Pick<
  Info,
  | 'startToCloseTimeoutMs'
  | 'scheduledTimestampMs'
  | 'scheduleToCloseTimeoutMs'
  | 'currentAttemptScheduledTimestampMs'
>;

const ATTEMPT_MARGIN_MIN_MS = 500;
const ATTEMPT_MARGIN_SHARE = 0.2;

/**
 * What is left of the attempt, less a margin: the attempt ends at its start-to-close timeout or at the
 * transaction's deadline (schedule-to-close), whichever comes first. Temporal's start-to-close clock starts when
 * the server hands the task out (`serverStartedAt`); unknown, the attempt's scheduled time stands in for it, which
 * is never later, so a worker that started this function late (a stalled event loop, a frozen process) never
 * POSTs after the server has timed the attempt out. The margin covers clock differences and the last milliseconds.
 */
export function attemptTimeLeft(
  startedAt: number,
  info: AttemptInfo,
  now = Date.now(),
  serverStartedAt?: number,
): number {
  const ends: number[] = [];
  if (info.startToCloseTimeoutMs > 0) {
    ends.push(startedAt + info.startToCloseTimeoutMs);
    const clockStart = serverStartedAt ?? info.currentAttemptScheduledTimestampMs;
    if (clockStart > 0) ends.push(clockStart + info.startToCloseTimeoutMs);
  }
  if (info.scheduleToCloseTimeoutMs > 0) ends.push(info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs);
  if (ends.length === 0) return Number.POSITIVE_INFINITY;
  const margin = Math.max(ATTEMPT_MARGIN_MIN_MS, info.startToCloseTimeoutMs * ATTEMPT_MARGIN_SHARE);
  return Math.min(...ends) - margin - now;
}

/**
 * The POST's time left in this attempt. An attempt that waited in the queue longer than its timeout (a posting
 * rate cap, a backlog) has, by its scheduled time, nothing left: then the server is asked when it really started
 * this attempt (the pending activity's last started time), so that a capped queue still posts (decision 0008)
 * without trusting this worker's own clock of when it began. No answer: nothing left, the next attempt looks.
 */
export async function postTimeLeft(startedAt: number): Promise<number> {
  const { info } = Context.current();
  const byScheduledTime = attemptTimeLeft(startedAt, info);
  if (byScheduledTime > 0) return byScheduledTime;
  const serverStartedAt = await serverStartOf(info).catch(() => undefined);
  if (serverStartedAt === undefined) return byScheduledTime;
  return attemptTimeLeft(startedAt, info, Date.now(), serverStartedAt);
}

/** When the server started this attempt of this activity (ms), from the run's description. */
async function serverStartOf(info: Info): Promise<number | undefined> {
  const { client } = Context.current();
  const run = info.workflowExecution;
  if (!run) return undefined;
  const description = await client.workflowService.describeWorkflowExecution({
    namespace: info.workflowNamespace,
    execution: { workflowId: run.workflowId, runId: run.runId },
  });
  const pending = description.pendingActivities?.find(
    (a) => a.activityId === info.activityId && a.attempt === info.attempt,
  );
  const started = pending?.lastStartedTime;
  if (!started) return undefined;
  return Number(started.seconds ?? 0) * 1000 + Math.floor((started.nanos ?? 0) / 1e6);
}
