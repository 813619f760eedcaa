import { setTimeout as sleep } from 'node:timers/promises';
import { round, until } from '../load';
import { execute, type Scenario, type Size } from '../scenario';
import { attemptsWithin } from './common';

const SIZE = {
  // 6 s: long enough for transactions to pass the API's 2 s stalled threshold and for health to show it.
  small: { count: 60, rate: 15, outageMs: 6_000, maxIntervalMs: 2_000 },
  full: { count: 300, rate: 10, outageMs: 60_000, maxIntervalMs: 10_000 },
} satisfies Record<Size, { count: number; rate: number; outageMs: number; maxIntervalMs: number }>;

const INITIAL_INTERVAL_MS = 200;
const BACKOFF = 2;

interface HealthSample {
  second: number;
  status: unknown;
  /** downstream.status: ok, degraded, down. */
  downstream: unknown;
  stalled: unknown;
  queueDepth: unknown;
  activityBacklog: unknown;
  workflowBacklog: unknown;
  errorRate: unknown;
}

/**
 * The downstream answers 503 to everything for a while, then recovers. Transactions keep being accepted; their
 * activities retry with exponential backoff (the mock's request count during the outage stays under what the
 * retry policy allows: no hot loop), and all complete once it is back. /api/health shows the downstream
 * `degraded` while it lasts (transactions stalled in `processing`; the mock's own /health keeps answering 200)
 * and `ok` again after.
 */
export const downstreamOutage: Scenario = {
  name: 'downstream-outage',
  description: 'the downstream answers 503 to everything for a while, then recovers',
  inTest: true,
  run(size, sink = (line) => process.stdout.write(`${line}\n`)) {
    const { count, rate, outageMs, maxIntervalMs } = SIZE[size];
    const retryEnv = {
      CHECK_RETRY_INITIAL_INTERVAL_MS: String(INITIAL_INTERVAL_MS),
      CHECK_RETRY_BACKOFF: String(BACKOFF),
      CHECK_RETRY_MAX_INTERVAL_MS: String(maxIntervalMs),
      POST_RETRY_INITIAL_INTERVAL_MS: String(INITIAL_INTERVAL_MS),
      POST_RETRY_BACKOFF: String(BACKOFF),
      POST_RETRY_MAX_INTERVAL_MS: String(maxIntervalMs),
    };
    return execute(this, size, sink, { apiEnv: retryEnv }, async ({ run, cluster, verifier, newLoad }) => {
      const load = newLoad({ count, rate }).start();
      const stopProgress = run.progress(() => load.status());
      try {
        await until(() => load.accepted >= count / 4, 120_000);
        const before = await cluster.mockStats();
        await cluster.setFaults({ outage: true });
        const outageStart = Date.now();
        run.log(`downstream outage on for ${outageMs / 1000} s (${load.status()})`);

        // While it lasts: what /api/health shows (sampled every 500 ms on its own, so slow reads elsewhere do not
        // thin the samples out), and what a pending transaction's GET shows.
        const samples: HealthSample[] = [];
        let lastErrorSeen: string | null = null;
        // The first stalled transaction health named, with its pending activity's attempt and last failure.
        let stalledSeen: unknown;
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            const h = await verifier.health();
            const tq = (h?.task_queue ?? {}) as Record<string, unknown>;
            const downstream = (h?.downstream ?? {}) as {
              status?: unknown;
              stalled?: { count?: unknown; sample?: unknown[] };
            };
            stalledSeen ??= downstream.stalled?.sample?.[0];
            samples.push({
              second: round((Date.now() - outageStart) / 1000, 1),
              status: h?.status ?? null,
              downstream: downstream.status ?? null,
              stalled: downstream.stalled?.count ?? null,
              queueDepth: h?.queue_depth ?? null,
              activityBacklog: tq.activity_backlog ?? null,
              workflowBacklog: tq.workflow_backlog ?? null,
              errorRate: h?.error_rate ?? null,
            });
            await sleep(500);
          }
        })();
        const healthShowedIt = () =>
          samples.some((x) => x.downstream === 'degraded' || x.downstream === 'down');
        // On a loaded machine health may need longer than the planned outage to show it: extend it (up to
        // 3x) rather than miss it; the bound on requests is computed from the actual duration.
        let extended = false;
        let lastPrint = 0;
        for (;;) {
          const elapsed = Date.now() - outageStart;
          if (elapsed >= outageMs && (healthShowedIt() || elapsed >= 3 * outageMs)) break;
          if (elapsed >= outageMs && !extended) {
            extended = true;
            run.log('health has not shown the outage yet: extending it (up to 3x)');
          }
          if (lastErrorSeen === null) {
            const open = load.records.find((r) => r.acceptedStatus !== null && r.n > count / 4);
            const view = open ? await verifier.view(open.id).catch(() => null) : null;
            if (view?.lastError)
              lastErrorSeen = `${view.transactionId}: ${view.status}, attempts ${view.attempts}, lastError "${view.lastError}"`;
          }
          const sample = samples.at(-1);
          if (sample && Date.now() - lastPrint >= 3_000) {
            lastPrint = Date.now();
            const s = await cluster.mockStats();
            run.log(
              `outage ${sample.second} s: health ${String(sample.status)} (downstream ${String(sample.downstream)}, ` +
                `${String(sample.stalled)} stalled), queue depth ${String(sample.queueDepth)}, ` +
                `activity backlog ${String(sample.activityBacklog)}, error rate ${JSON.stringify(sample.errorRate)}; ` +
                `mock answered ${s.faults.outage - before.faults.outage} requests 503 so far`,
            );
          }
          await sleep(250);
        }
        sampling = false;
        await sampler;
        const during = await cluster.mockStats();
        await cluster.setFaults({ outage: false });
        const outageEnd = Date.now();
        const outageSeconds = (outageEnd - outageStart) / 1000;
        run.log(`downstream back after ${round(outageSeconds, 1)} s (${load.status()})`);
        await load.done();
        stopProgress();
        const verification = await verifier.verify(load.records, { deadlineMs: 180_000, log: run.log });
        // Recovered: once everything finished, health shows the downstream ok again (within a few probes).
        let healthAfter: Record<string, unknown> | null = null;
        const recoveredBy = Date.now() + 30_000;
        for (;;) {
          healthAfter = await verifier.health();
          if (healthAfter?.status === 'OK' || Date.now() >= recoveredBy) break;
          await sleep(500);
        }
        const downstreamAfter = (healthAfter?.downstream ?? null) as {
          status?: unknown;
          stalled?: { sample?: unknown };
        } | null;

        const requestsDuringOutage = total(during.requests) - total(before.requests);
        const refused = during.faults.outage - before.faults.outage;
        // Transactions that were open while the downstream was down: finished after it started.
        const affected = load.records.filter((r) => {
          const done = Date.parse(verifier.views.get(r.id)?.completedAt ?? '');
          return r.acceptedStatus !== null && Number.isFinite(done) && done > outageStart;
        }).length;
        const perTransaction = attemptsWithin(
          outageEnd - outageStart,
          INITIAL_INTERVAL_MS,
          BACKOFF,
          maxIntervalMs,
        );
        // Each open transaction may also have had one call running when the outage began.
        const bound = affected * (perTransaction + 1);
        const depths = samples.map((s) => s.queueDepth).filter((d): d is number => typeof d === 'number');
        const lastSample = samples.at(-1);
        const firstDegraded = samples.find((s) => s.downstream === 'degraded' || s.downstream === 'down');
        const stalledMax = Math.max(
          0,
          ...samples.map((s) => (typeof s.stalled === 'number' ? s.stalled : 0)),
        );
        const statuses = [...new Set(samples.map((s) => String(s.status)))];
        const downstreamStatuses = [...new Set(samples.map((s) => String(s.downstream)))];
        Object.assign(run.details, {
          outageSeconds: round(outageSeconds, 1),
          retryPolicy: { initialIntervalMs: INITIAL_INTERVAL_MS, backoff: BACKOFF, maxIntervalMs },
          requestsDuringOutage,
          answered503: refused,
          requestsPerSecond: round(requestsDuringOutage / outageSeconds, 1),
          transactionsAffected: affected,
          requestsPerAffectedTransaction: affected > 0 ? round(requestsDuringOutage / affected, 1) : null,
          policyBoundPerTransaction: perTransaction + 1,
          policyBound: bound,
          health: {
            statuses,
            downstreamStatuses,
            firstDegradedAtSecond: firstDegraded?.second ?? null,
            maxStalled: stalledMax,
            stalledSample: stalledSeen ?? null,
            after: { status: healthAfter?.status ?? null, downstream: downstreamAfter },
            maxQueueDepth: depths.length > 0 ? Math.max(...depths) : null,
            maxActivityBacklog: Math.max(
              0,
              ...samples.map((s) => (typeof s.activityBacklog === 'number' ? s.activityBacklog : 0)),
            ),
            errorRateAtEnd: lastSample?.errorRate ?? null,
            samples,
          },
          pendingTransactionDuringOutage: lastErrorSeen,
        });
        run.log(
          `health during the outage: status ${statuses.join('/')}, downstream ${downstreamStatuses.join('/')} ` +
            `(first not ok at ${firstDegraded ? `${firstDegraded.second} s` : 'never'}, up to ${stalledMax} stalled), ` +
            `queue depth up to ${depths.length > 0 ? Math.max(...depths) : '?'}, error rate ${JSON.stringify(lastSample?.errorRate ?? null)} ` +
            '(retrying transactions have not failed, so the error rate does not move)',
        );
        if (stalledSeen) run.log(`a stalled transaction in /api/health: ${JSON.stringify(stalledSeen)}`);
        run.log(
          `health after recovery: status ${String(healthAfter?.status ?? null)}, downstream ${String(downstreamAfter?.status ?? null)}`,
        );
        if (lastErrorSeen) run.log(`a pending transaction's GET during the outage: ${lastErrorSeen}`);
        run.check(
          'the downstream was asked a bounded number of times during the outage (backoff, no hot loop)',
          requestsDuringOutage <= bound && requestsDuringOutage > 0,
          `${requestsDuringOutage} requests in ${round(outageSeconds, 1)} s (${round(requestsDuringOutage / outageSeconds, 1)}/s) ` +
            `for ${affected} open transactions; the retry policy allows at most ${bound} (${perTransaction + 1} each)`,
        );
        run.check(
          '/api/health showed the downstream degraded during the outage (HTTP 200, not unavailable)',
          firstDegraded !== undefined && !statuses.includes('UNAVAILABLE'),
          `downstream ${downstreamStatuses.join('/')}, overall ${statuses.join('/')}` +
            (firstDegraded
              ? `; first not ok ${firstDegraded.second} s into the outage, up to ${stalledMax} stalled`
              : ''),
        );
        run.check(
          '/api/health showed the downstream ok again after the recovery',
          healthAfter?.status === 'OK' && downstreamAfter?.status === 'ok',
          `after: status ${String(healthAfter?.status ?? null)}, downstream ${JSON.stringify(downstreamAfter)}`,
        );
        run.check(
          'the API kept accepting during the outage',
          load.records.some((r) => (r.acceptedAt ?? 0) > outageStart && (r.acceptedAt ?? 0) < outageEnd),
          `${load.records.filter((r) => (r.acceptedAt ?? 0) > outageStart && (r.acceptedAt ?? 0) < outageEnd).length} accepted while the downstream was down`,
        );
        return {
          load,
          verification,
          faults: `downstream outage ${Math.round(outageSeconds)} s`,
          faultEndedAt: outageEnd,
        };
      } finally {
        stopProgress();
      }
    });
  },
};

function total(requests: Record<string, number>): number {
  return Object.values(requests).reduce((a, b) => a + b, 0);
}
