import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { deliveryPrefix } from '../../src/domain/callbacks';

export interface RunTrace {
  /** The Worker Deployment Version Temporal has the run on; undefined when unversioned. */
  buildId: string | undefined;
  /** Temporal's VersioningBehavior enum (1 pinned, 2 auto-upgrade); undefined or 0 when unversioned. */
  behavior: number | undefined;
  /** Identities (pid@host) of the workers that took its workflow and activity tasks. */
  identities: Set<string>;
  /** The summary of each POST its workflow code scheduled, with when (ms). */
  posts: { summary: string; at: number }[];
}

/** What ran a transaction: Temporal's versioning info for the run, and its history. */
export async function trace(client: Client, id: string): Promise<RunTrace> {
  const handle = client.workflow.getHandle(id);
  const info = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
  const { events } = await handle.fetchHistory();
  const identities = new Set<string>();
  const posts: RunTrace['posts'] = [];
  for (const event of events ?? []) {
    const identity =
      event.workflowTaskStartedEventAttributes?.identity ??
      event.activityTaskStartedEventAttributes?.identity;
    if (identity) identities.add(identity);
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'postTransaction') {
      const summary = event.userMetadata?.summary;
      posts.push({
        summary: summary ? defaultPayloadConverter.fromPayload<string>(summary) : '',
        at: Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6,
      });
    }
  }
  return {
    buildId: info?.deploymentVersion?.buildId ?? undefined,
    behavior: info?.behavior ?? undefined,
    identities,
    posts,
  };
}

/** The (first) callback delivery a transaction started: its version and who took its last activity attempt. */
export async function deliveryOf(client: Client, transactionId: string) {
  let workflowId: string | undefined;
  const query = `WorkflowId STARTS_WITH "${deliveryPrefix(transactionId)}"`;
  for await (const run of client.workflow.list({ query })) workflowId = run.workflowId;
  if (!workflowId) throw new Error(`no delivery of ${transactionId} yet`);
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  return {
    workflowId,
    buildId: info?.deploymentVersion?.buildId ?? undefined,
    behavior: info?.behavior ?? undefined,
    lastAttemptBy: raw.pendingActivities?.[0]?.lastWorkerIdentity ?? undefined,
  };
}
