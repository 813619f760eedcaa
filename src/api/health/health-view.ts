import type { DownstreamHealth, HealthReport } from './health-service';

/**
 * What health shows a caller without an API key when keys are configured (health is open to load balancers
 * and probes): the status and the counts, without transaction IDs, the downstream's URL, its answers or any
 * error message.
 */
export function countsOnly(report: HealthReport) {
  const { temporal, downstream } = report;
  return {
    ...report,
    temporal: { reachable: temporal.reachable, latency_ms: temporal.latency_ms },
    downstream: countsOnlyDownstream(downstream),
  };
}

function countsOnlyDownstream({ status, probe, stalled }: DownstreamHealth) {
  return {
    status,
    probe: probe && {
      ok: probe.ok,
      http_status: probe.http_status,
      latency_ms: probe.latency_ms,
      checked_at: probe.checked_at,
    },
    stalled: { after_seconds: stalled.after_seconds, count: stalled.count },
  };
}

/** The webhook dialect's status words for GET /. */
export const V1_HEALTH_STATUS = {
  OK: 'healthy',
  DEGRADED: 'degraded',
  UNAVAILABLE: 'unhealthy',
} as const satisfies Record<HealthReport['status'], string>;
