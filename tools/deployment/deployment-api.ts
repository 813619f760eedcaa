// The Worker Deployment calls `npm run deployment` makes, on the SDK's client (the project's TLS and API key).
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const { WorkerDeploymentVersionStatus: Status, VersionDrainageStatus: Drainage } = temporal.api.enums.v1;

export interface VersionRow {
  buildId: string;
  /** inactive, current, ramping, draining, drained. */
  status: string;
  /** Open runs whose version it is, from visibility (immediate; Temporal's drainage status lags minutes). */
  running: number;
}

export interface DeploymentView {
  name: string;
  current: string | undefined;
  ramping: { buildId: string; percentage: number } | undefined;
  versions: VersionRow[];
}

const STATUS: Record<number, string> = {
  [Status.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE]: 'inactive',
  [Status.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT]: 'current',
  [Status.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING]: 'ramping',
  [Status.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING]: 'draining',
  [Status.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED]: 'drained',
};

export async function describeDeployment(client: Client, name: string): Promise<DeploymentView> {
  const { workerDeploymentInfo: info } = await client.workflowService.describeWorkerDeployment({
    namespace: client.options.namespace,
    deploymentName: name,
  });
  const routing = info?.routingConfig;
  const versions = await Promise.all(
    (info?.versionSummaries ?? []).map(async (summary) => {
      const buildId = summary.deploymentVersion?.buildId ?? '';
      // Temporal's own search attribute: "<deployment>:<build ID>" on every run a versioned worker ran.
      const { count } = await client.workflow.count(
        `TemporalWorkerDeploymentVersion = "${name}:${buildId}" AND ExecutionStatus = "Running"`,
      );
      const drained = summary.drainageStatus === Drainage.VERSION_DRAINAGE_STATUS_DRAINED;
      return {
        buildId,
        status: STATUS[summary.status ?? 0] ?? (drained ? 'drained' : 'unknown'),
        running: count,
      };
    }),
  );
  versions.sort((a, b) => a.buildId.localeCompare(b.buildId));
  const rampingId = routing?.rampingDeploymentVersion?.buildId;
  return {
    name,
    current: routing?.currentDeploymentVersion?.buildId ?? undefined,
    ramping: rampingId
      ? { buildId: rampingId, percentage: routing?.rampingVersionPercentage ?? 0 }
      : undefined,
    versions,
  };
}

/** Makes `buildId` current (undefined: the unversioned workers); returns the build that was current before. */
export async function setCurrentVersion(
  client: Client,
  name: string,
  buildId: string | undefined,
): Promise<string | undefined> {
  const { previousDeploymentVersion } = await client.workflowService.setWorkerDeploymentCurrentVersion({
    namespace: client.options.namespace,
    deploymentName: name,
    buildId: buildId ?? '',
    identity: client.options.identity,
  });
  return previousDeploymentVersion?.buildId || undefined;
}

export function formatDeployment(view: DeploymentView): string[] {
  const rows = [
    ['build ID', 'status', 'running runs'],
    ...view.versions.map((v) => [v.buildId, v.status, String(v.running)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return [
    `deployment ${view.name}: current ${view.current ?? '(unversioned workers)'}` +
      (view.ramping ? `, ramping ${view.ramping.buildId} at ${view.ramping.percentage}%` : ''),
    ...rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd()),
  ];
}
