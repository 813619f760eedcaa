// What every scenario shares: its own cluster, a log with timestamps, named checks, the standard end checks
// (0 lost, 0 duplicated, 0 still pending, every transaction accepted) and the result it reports.
import { randomBytes } from 'node:crypto';
import { Cluster, type ClusterConfig } from './cluster';
import { Load, round, type LoadOptions, type LoadSummary } from './load';
import { Verifier, type TxView, type Verification } from './verify';

export type Size = 'small' | 'full';
export const SIZES: readonly Size[] = ['small', 'full'];

export interface Scenario {
  name: string;
  description: string;
  /** Whether test/chaos.test.ts runs it (with size small). */
  inTest: boolean;
  run(size: Size, log?: (line: string) => void): Promise<ScenarioResult>;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** The headline numbers of a scenario: one row of the table. */
export interface Figures {
  /** Transactions sent (each with its own ID; retries not counted). */
  submitted: number;
  /** Transactions answered 2xx (202 new or 200 known) in the end. */
  accepted: number;
  /** What was done to the system, e.g. "worker kill -9 x1". */
  faults: string;
  /** Accepted, finished or unknown, and not held downstream. */
  lost: number;
  /** IDs held downstream more than once. */
  duplicated: number;
  /** Accepted and still not completed or failed at the end of the wait. */
  pending: number;
  failed: number;
  /**
   * From the end of the fault (the component ready again, the outage lifted) until the last transaction
   * submitted before that moment finished; null when there was nothing to wait for.
   */
  recoverySeconds: number | null;
}

export interface ScenarioResult {
  schema: 'txflow-chaos/1';
  scenario: string;
  description: string;
  size: Size;
  startedAt: string;
  durationSeconds: number;
  passed: boolean;
  figures: Figures;
  checks: Check[];
  load: LoadSummary | null;
  verification: VerificationReport | null;
  /** Scenario-specific measurements. */
  details: Record<string, unknown>;
  /** The progress lines as printed. */
  log: string[];
  /** Set when the scenario itself broke (a process did not start, a wait timed out). */
  error: string | null;
}

/** A Verification with its ID lists cut to their first entries. */
export type VerificationReport = Omit<Verification, 'pending' | 'lost' | 'unexpected' | 'notAccepted'> & {
  pending: number;
  lost: number;
  unexpected: number;
  notAccepted: number;
  samples: { pending: string[]; lost: string[]; unexpected: string[]; notAccepted: string[] };
};

/** What a scenario's body hands back to execute(). */
export interface Outcome {
  load: Load;
  verification: Verification;
  faults: string;
  /** When the fault ended (ms since epoch), for recoverySeconds; null: not applicable. */
  faultEndedAt: number | null;
}

export interface Context {
  run: RunLog;
  cluster: Cluster;
  verifier: Verifier;
  /** Unique per run: every transaction ID starts with it. */
  idPrefix: string;
  size: Size;
  /** A Load against the cluster's API with this run's ID prefix; closed by execute() whatever happens. */
  newLoad(options: Omit<LoadOptions, 'api' | 'idPrefix'> & { idPrefix?: string }): Load;
}

/** Timestamped progress lines, named checks and free-form details of one scenario run. */
export class RunLog {
  readonly t0 = Date.now();
  readonly lines: string[] = [];
  readonly checks: Check[] = [];
  readonly details: Record<string, unknown> = {};

  constructor(
    readonly name: string,
    private readonly sink: (line: string) => void,
  ) {}

  log = (line: string): void => {
    const text = `[${this.name} +${((Date.now() - this.t0) / 1000).toFixed(1)}s] ${line}`;
    this.lines.push(text);
    this.sink(text);
  };

  check(name: string, ok: boolean, detail: string): boolean {
    this.checks.push({ name, ok, detail });
    this.log(`${ok ? 'ok    ' : 'FAILED'} ${name}: ${detail}`);
    return ok;
  }

  /** Prints `status()` every `everyMs` until the returned function is called. */
  progress(status: () => string, everyMs = 3_000): () => void {
    const timer = setInterval(() => this.log(status()), everyMs);
    return () => clearInterval(timer);
  }
}

/**
 * Runs a scenario's body on a fresh cluster and turns what it found into a ScenarioResult. The cluster is
 * stopped whatever happens; its temp dir (logs, database) is kept when the scenario failed.
 */
export async function execute(
  scenario: Pick<Scenario, 'name' | 'description'>,
  size: Size,
  sink: (line: string) => void,
  config: Omit<ClusterConfig, 'label' | 'log'>,
  body: (ctx: Context) => Promise<Outcome>,
): Promise<ScenarioResult> {
  const run = new RunLog(scenario.name, sink);
  const startedAt = new Date();
  const idPrefix = `chaos-${scenario.name}-${Date.now().toString(36)}${randomBytes(2).toString('hex')}-`;
  let cluster: Cluster | undefined;
  let verifier: Verifier | undefined;
  let outcome: Outcome | undefined;
  let error: string | null = null;
  const loads: Load[] = [];
  try {
    run.log(`${scenario.description} (size ${size})`);
    cluster = await Cluster.start({ ...config, label: scenario.name, log: run.log });
    verifier = new Verifier(cluster);
    const api = cluster.apiUrl;
    const newLoad = (options: Omit<LoadOptions, 'api' | 'idPrefix'> & { idPrefix?: string }) => {
      const load = new Load({ maxRetryAfterMs: size === 'small' ? 1_000 : 5_000, idPrefix, ...options, api });
      loads.push(load);
      return load;
    };
    outcome = await body({ run, cluster, verifier, idPrefix, size, newLoad });
    standardChecks(run, outcome);
  } catch (err) {
    error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    run.log(`ERROR ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    for (const load of loads) await load.close();
    await verifier?.close();
    if (cluster) {
      run.details.processes = cluster.started.map((p) => ({
        name: p.name,
        pid: p.pid,
        startedSecond: round((p.at - run.t0) / 1000, 1),
      }));
      if (error !== null || run.checks.some((c) => !c.ok)) cluster.keepDataDir();
      await cluster.stop();
    }
  }
  const v = outcome?.verification;
  const figures: Figures = {
    submitted: outcome?.load.submitted ?? 0,
    accepted: outcome?.load.accepted ?? 0,
    faults: outcome?.faults ?? '',
    lost: v?.lost.length ?? 0,
    duplicated: v?.duplicates.length ?? 0,
    pending: v?.pending.length ?? 0,
    failed: v?.failed ?? 0,
    recoverySeconds: outcome && verifier ? recoverySeconds(outcome, verifier.views) : null,
  };
  const passed = error === null && run.checks.length > 0 && run.checks.every((c) => c.ok);
  run.log(
    `${passed ? 'PASSED' : 'FAILED'}: ${figures.accepted}/${figures.submitted} accepted, faults: ${figures.faults}, ` +
      `lost ${figures.lost}, duplicated ${figures.duplicated}, pending ${figures.pending}, failed ${figures.failed}` +
      (figures.recoverySeconds !== null ? `, recovered in ${figures.recoverySeconds} s` : ''),
  );
  return {
    schema: 'txflow-chaos/1',
    scenario: scenario.name,
    description: scenario.description,
    size,
    startedAt: startedAt.toISOString(),
    durationSeconds: round((Date.now() - startedAt.getTime()) / 1000, 1),
    passed,
    figures,
    checks: run.checks,
    load: outcome?.load.summary() ?? null,
    verification: v ? report(v) : null,
    details: run.details,
    log: run.lines,
    error,
  };
}

/** The checks every scenario ends with. */
function standardChecks(run: RunLog, o: Outcome): void {
  const v = o.verification;
  const s = o.load.summary();
  const sample = (ids: readonly string[]) => (ids.length > 0 ? `: ${ids.slice(0, 5).join(', ')}` : '');
  run.check(
    'every transaction accepted in the end',
    v.notAccepted.length === 0 && s.submitted === o.load.records.length,
    `${s.accepted}/${o.load.records.length} answered 2xx (${s.accepted202} first as 202, ${s.accepted200} as 200; ` +
      `${s.refused} refused, ${s.gaveUp} given up)${sample(v.notAccepted)}`,
  );
  run.check(
    'every accepted transaction reached a terminal state',
    v.pending.length === 0,
    `${v.completed} completed, ${v.failed} failed, ${v.pending.length} still open${sample(v.pending)}`,
  );
  run.check('0 failed', v.failed === 0, `${v.failed} failed`);
  run.check(
    '0 lost',
    v.lost.length === 0,
    `${v.lost.length} accepted but not held downstream${sample(v.lost)}`,
  );
  const extra = v.mock.posts - v.mock.distinctIds;
  run.check(
    '0 duplicates downstream',
    v.duplicates.length === 0 && v.mock.duplicates.length === 0 && extra === 0,
    `${v.duplicates.length} IDs held twice in GET /transactions; /admin/stats: posts ${v.mock.posts}, ` +
      `distinct ${v.mock.distinctIds}, duplicates [${v.mock.duplicates.slice(0, 5).join(', ')}]`,
  );
  run.check(
    'downstream holds exactly the accepted transactions',
    v.unexpected.length === 0 && v.mock.distinctIds === v.accepted,
    `${v.mock.distinctIds} distinct IDs held, ${v.accepted} accepted, ${v.unexpected.length} held but never accepted` +
      sample(v.unexpected),
  );
}

/** The last transaction first sent before the fault ended: how long after the end it finished. */
function recoverySeconds(o: Outcome, views: ReadonlyMap<string, TxView>): number | null {
  if (o.faultEndedAt === null) return null;
  let last = o.faultEndedAt;
  for (const r of o.load.records) {
    const first = r.attempts[0]?.sentAt;
    if (first === undefined || first > o.faultEndedAt) continue;
    const done = Date.parse(views.get(r.id)?.completedAt ?? '');
    if (Number.isFinite(done)) last = Math.max(last, done);
  }
  return round((last - o.faultEndedAt) / 1000, 1);
}

function report(v: Verification): VerificationReport {
  const first = (ids: readonly string[]) => ids.slice(0, 20);
  return {
    ...v,
    duplicates: v.duplicates.slice(0, 20),
    pending: v.pending.length,
    lost: v.lost.length,
    unexpected: v.unexpected.length,
    notAccepted: v.notAccepted.length,
    samples: {
      pending: first(v.pending),
      lost: first(v.lost),
      unexpected: first(v.unexpected),
      notAccepted: first(v.notAccepted),
    },
  };
}
