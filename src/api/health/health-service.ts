import type { Client } from '@temporalio/client';
import { readRestartCounts, type RestartCounts } from '../../config/restart-counts';
import type { DownstreamProbe, ProbeResult } from './downstream-probe';
import { asTemporalUnavailable } from '../temporal/temporal-errors';
import { postingRateOf, type PostingRate } from '../../domain/posting-rate';

/** One stalled transaction's current activity, from describe(): what the downstream answers it. */
export interface StalledSample {
  transaction_id: string;
  activity: string | null;
  attempt: number | null;
  last_failure: string | null;
}

/**
 * The posting service as this API sees it: `down` when its health endpoint does not answer 2xx in time,
 * `degraded` when transactions stay `processing` past HEALTH_STALLED_AFTER_MS (the downstream fails or is slow
 * for them, whatever its health endpoint says), else `ok`.
 */
export interface DownstreamHealth {
  status: 'ok' | 'degraded' | 'down';
  /** null when POSTING_SERVICE_URL is not set for the API. */
  probe: ProbeResult | null;
  stalled: {
    after_seconds: number;
    /** Running transactions `processing` for longer than after_seconds (null: Temporal unreachable). */
    count: number | null;
    /** Up to three of them with their pending activity's attempt and last failure (refreshed at most per probe interval). */
    sample: StalledSample[];
  };
}

/**
 * GET /api/health. The first four keys are the original spec's, with its types (a client written for it reads
 * them as they are); the detail is beside them. While Temporal is unreachable, queue_depth and error_rate are
 * the last figures measured (0 before any), as of `figures_measured_at`.
 */
export interface HealthReport {
  /** `DEGRADED`: Temporal is fine, the downstream is not (still HTTP 200); `UNAVAILABLE`: Temporal is not (503). */
  status: 'OK' | 'DEGRADED' | 'UNAVAILABLE';
  /** Transactions accepted and not yet completed or failed (visibility count). */
  queue_depth: number;
  /** Share of transactions that failed among those that finished in the window (0 when none finished). */
  error_rate: number;
  /** Seconds since this API process started. */
  uptime: number;
  /** When queue_depth and error_rate were measured; null: never (Temporal unreachable since start-up). */
  figures_measured_at: string | null;
  temporal: { reachable: boolean; latency_ms: number | null; error?: string };
  task_queue: {
    name: string;
    workflow_backlog: number | null;
    activity_backlog: number | null;
    workers_polling: number | null;
  };
  /** The counts behind error_rate (null: Temporal unreachable). */
  errors: { window_seconds: number; finished: number | null; failed: number | null };
  downstream: DownstreamHealth;
  /** The posting rate cap in force (null: Temporal unreachable); PUT /api/admin/posting-rate changes it. */
  posting_rate: Pick<PostingRate, 'max_per_second' | 'source'> | null;
  /** Under `npm start`: how many times it restarted each component; null otherwise. */
  restarts: RestartCounts | null;
  checked_at: string;
}

export interface HealthServiceDeps {
  client: Client;
  taskQueue: string;
  windowMs: number;
  rpcTimeoutMs: number;
  startedAt: number;
  /** The posting service's health probe; none: the downstream is judged by stalled transactions only. */
  probe?: DownstreamProbe;
  /** Default 30 s. */
  stalledAfterMs?: number;
  /** How often the stalled sample (describe calls) may be refreshed. Default 5 s. */
  sampleIntervalMs?: number;
  /** `npm start`'s restart counts file (TXFLOW_RESTARTS_FILE). */
  restartsFile?: string;
}

const CACHE_MS = 1_000;
const SAMPLE_SIZE = 3;
const WORKFLOW = 1;
const ACTIVITY = 2;

const ratePart = ({ max_per_second, source }: PostingRate) => ({ max_per_second, source });

/** Health figures from Temporal itself, cached for a second so probes cost the server little. */
export class HealthService {
  private cached?: { at: number; report: Promise<HealthReport> };
  private sampled?: { at: number; sample: StalledSample[] };
  private figures: { queue_depth: number; error_rate: number; figures_measured_at: string | null } = {
    queue_depth: 0,
    error_rate: 0,
    figures_measured_at: null,
  };

  constructor(private readonly deps: HealthServiceDeps) {}

  report(): Promise<HealthReport> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > CACHE_MS) this.cached = { at: now, report: this.measure(now) };
    return this.cached.report;
  }

  private async measure(now: number): Promise<HealthReport> {
    const { client, taskQueue, windowMs, startedAt, probe } = this.deps;
    const stalledAfterMs = this.deps.stalledAfterMs ?? 30_000;
    // The probe runs beside the Temporal calls; it has its own (short) timeout.
    const probing = probe ? probe.current() : Promise.resolve(null);
    const restartsFile = this.deps.restartsFile;
    const restarts = restartsFile ? await readRestartCounts(restartsFile) : null;
    const downstream = (count: number | null, sample: StalledSample[], result: ProbeResult | null) =>
      ({
        status: result && !result.ok ? 'down' : count ? 'degraded' : 'ok',
        probe: result,
        stalled: { after_seconds: stalledAfterMs / 1000, count, sample },
      }) satisfies DownstreamHealth;
    const base: HealthReport = {
      status: 'UNAVAILABLE',
      ...this.figures,
      uptime: Math.round((now - startedAt) / 1000),
      temporal: { reachable: false, latency_ms: null },
      task_queue: { name: taskQueue, workflow_backlog: null, activity_backlog: null, workers_polling: null },
      errors: { window_seconds: windowMs / 1000, finished: null, failed: null },
      downstream: downstream(null, [], null),
      posting_rate: null,
      restarts,
      checked_at: new Date(now).toISOString(),
    };
    try {
      const ours = `WorkflowType = "processTransaction" AND TaskQueue = "${taskQueue}"`;
      const since = new Date(now - windowMs).toISOString();
      const stalledQuery = `${ours} AND ExecutionStatus = "Running" AND TxStatus = "processing" AND StartTime < "${new Date(now - stalledAfterMs).toISOString()}"`;
      const [open, finished, failed, workflowQueue, activityQueue, stalled] = await this.rpc(() =>
        Promise.all([
          client.workflow.count(`${ours} AND ExecutionStatus = "Running"`),
          client.workflow.count(`${ours} AND ExecutionStatus != "Running" AND CloseTime > "${since}"`),
          client.workflow.count(
            `${ours} AND ExecutionStatus != "Running" AND ExecutionStatus != "Completed" AND CloseTime > "${since}"`,
          ),
          this.describeQueue(WORKFLOW),
          this.describeQueue(ACTIVITY),
          client.workflow.count(stalledQuery),
        ]),
      );
      // The sample only adds detail: if it fails, the count still stands.
      const sample =
        stalled.count > 0
          ? await this.stalledSample(stalledQuery, now).catch(() => this.sampled?.sample ?? [])
          : [];
      const down = downstream(stalled.count, sample, await probing);
      this.figures = {
        queue_depth: open.count,
        error_rate: finished.count === 0 ? 0 : failed.count / finished.count,
        figures_measured_at: base.checked_at,
      };
      return {
        ...base,
        ...this.figures,
        status: down.status === 'ok' ? 'OK' : 'DEGRADED',
        temporal: { reachable: true, latency_ms: Date.now() - now },
        task_queue: {
          name: taskQueue,
          workflow_backlog: Number(workflowQueue.stats?.approximateBacklogCount ?? 0),
          activity_backlog: Number(activityQueue.stats?.approximateBacklogCount ?? 0),
          workers_polling: new Set(
            [...(workflowQueue.pollers ?? []), ...(activityQueue.pollers ?? [])].map((p) => p.identity),
          ).size,
        },
        errors: { window_seconds: windowMs / 1000, finished: finished.count, failed: failed.count },
        downstream: down,
        posting_rate: ratePart(postingRateOf(activityQueue.config, activityQueue.effectiveRateLimit)),
      };
    } catch (err) {
      const cause = asTemporalUnavailable(err);
      return {
        ...base,
        temporal: { reachable: false, latency_ms: null, error: (cause as Error).name },
        downstream: downstream(null, [], await probing),
      };
    }
  }

  /**
   * The pending activity of a few stalled transactions (a list and up to three describe calls), at most once per
   * sample interval: describing every running workflow would cost Temporal far too much.
   */
  private async stalledSample(query: string, now: number): Promise<StalledSample[]> {
    const every = this.deps.sampleIntervalMs ?? 5_000;
    if (this.sampled && now - this.sampled.at < every) return this.sampled.sample;
    this.sampled = { at: now, sample: this.sampled?.sample ?? [] };
    const ids: string[] = [];
    await this.rpc(async () => {
      for await (const wf of this.deps.client.workflow.list({ query, pageSize: SAMPLE_SIZE })) {
        ids.push(wf.workflowId);
        if (ids.length >= SAMPLE_SIZE) break;
      }
    });
    const described = await Promise.all(
      ids.map((id) =>
        this.rpc(() => this.deps.client.workflow.getHandle(id).describe()).then(
          (d): StalledSample => {
            const pending = d.raw.pendingActivities?.[0];
            return {
              transaction_id: id,
              activity: pending?.activityType?.name ?? null,
              attempt: pending?.attempt ?? null,
              last_failure: pending?.lastFailure?.message ?? null,
            };
          },
          // Finished in the meantime: not stalled any more.
          () => null,
        ),
      ),
    );
    const sample = described.filter((s): s is StalledSample => s !== null);
    this.sampled = { at: now, sample };
    return sample;
  }

  private describeQueue(taskQueueType: number) {
    return this.deps.client.workflowService.describeTaskQueue({
      namespace: this.deps.client.options.namespace,
      taskQueue: { name: this.deps.taskQueue, kind: 1 },
      taskQueueType,
      reportStats: true,
      // The activity queue's rate limit is the posting rate cap (docs/decisions/0008).
      reportConfig: taskQueueType === ACTIVITY,
    });
  }

  private rpc<T>(fn: () => Promise<T>): Promise<T> {
    return this.deps.client.connection.withDeadline(Date.now() + this.deps.rpcTimeoutMs, fn);
  }
}
