// The bench's steps without a worker: how fast workflows are started by the raw client, by txflow's own start
// from this process, and through txflow's API, at three concurrencies and at half the top rate.
import { fromApiBody } from '../../src/api/transactions/submission';
import { TransactionsService } from '../../src/api/transactions/transactions-service';
import { processingPolicy } from '../../src/config/policy';
import { alternate, closedLoop, type LoopResult } from './closed-loop';
import { fixedRate, type FixedRateResult } from './fixed-rate';
import { CONCURRENCIES, type BenchSize } from './options';
import { line, report, step } from './report';
import { API_POLICY_ENV, transactionBody, type BenchRig, type RunningApi } from './rig';

type Operation = (i: number) => Promise<void>;

/** The three ways to start a workflow, each numbering its IDs under a prefix. */
export interface Starters {
  /** A no-op workflow from the raw client. */
  raw: (prefix: string) => Operation;
  /** txflow's start (memo, search attributes, summary, details) from this process, without the API. */
  service: (prefix: string) => Operation;
  /** A POST to txflow's API, expecting 202. */
  api: (prefix: string) => Operation;
}

export function starters(rig: BenchRig, api: RunningApi): Starters {
  const { client, run } = rig;
  // txflow's own start (the same policy as the API's) on the raw client: what the start costs the server,
  // without the hop through the API.
  const service = new TransactionsService({
    client,
    taskQueue: `accept-${run}`,
    policy: processingPolicy({ ...process.env, ...API_POLICY_ENV }),
    queryDeadlineMs: 60,
    rpcTimeoutMs: 10_000,
  });
  return {
    raw: (prefix) => async (i) => {
      await client.workflow.start('noop', {
        taskQueue: `raw-starts-${run}`,
        workflowId: `${prefix}-${run}-${i}`,
      });
    },
    service: (prefix) => async (i) => {
      const id = `${prefix}-${run}-${i}`;
      const result = await service.submit(fromApiBody(transactionBody(id), id, new Date()));
      if (result.kind !== 'accepted') throw new Error(`${id}: ${result.kind}`);
    },
    api: (prefix) => (i) => rig.submit(api.url, `${prefix}-${run}-${i}`, 202),
  };
}

export async function warmUp(start: Starters, size: BenchSize): Promise<void> {
  step('warm-up: raw starts and txflow submits, not counted');
  // A fresh process runs its first few hundred requests through V8's interpreter: measure neither side cold.
  await closedLoop(8, size.warmup, start.raw('raw-warm'));
  await closedLoop(8, size.warmup, start.api('acc-warm'));
  await closedLoop(8, size.warmup, start.service('svc-warm'));
}

export interface StartRates {
  rawStarts: LoopResult[];
  serviceStarts: LoopResult[];
  accepts: LoopResult[];
  duplicates: LoopResult;
}

/** Closed loops at each concurrency, the three ways in alternating rounds; then repeats through the API. */
export async function measureStarts(
  rig: BenchRig,
  api: RunningApi,
  start: Starters,
  size: BenchSize,
): Promise<StartRates> {
  step(
    `starts: raw client, txflow's start from this process, txflow API; ${size.rounds} alternating rounds (no worker)`,
  );
  const rates: Omit<StartRates, 'duplicates'> = { rawStarts: [], serviceStarts: [], accepts: [] };
  for (const c of CONCURRENCIES) {
    const [raw, inProcess, tx] = await alternate(c, size.starts(c), size.rounds, [
      { operation: start.raw(`raw-${c}`), meter: rig.cpuOf({}) },
      { operation: start.service(`svc-${c}`), meter: rig.cpuOf({}) },
      { operation: start.api(`acc-${c}`), meter: rig.cpuOf({ api: api.process.pid }) },
    ]);
    rates.rawStarts.push(raw!);
    rates.serviceStarts.push(inProcess!);
    rates.accepts.push(tx!);
    report(`  raw, ${c} clients`, raw!);
    report(`  txflow start, no API, ${c}`, inProcess!);
    report(`  txflow API, ${c} clients`, tx!);
  }
  const duplicates = await closedLoop(8, size.starts(8), (i) =>
    rig.submit(api.url, `acc-8-${rig.run}-${i}`, 200),
  );
  report('  txflow duplicates, 8 clients', duplicates);
  return { ...rates, duplicates };
}

export interface HalfRate {
  raw: FixedRateResult;
  service: FixedRateResult;
  /** Through the API, 1 in 5 a repeat. */
  api: FixedRateResult;
}

/** An open loop at half the top accept rate: the raw client, txflow's start, then txflow's API. */
export async function measureHalfRate(
  rig: BenchRig,
  api: RunningApi,
  start: Starters,
  accepts: LoopResult[],
  size: BenchSize,
): Promise<HalfRate> {
  const rate = Math.max(1, Math.round(Math.max(...accepts.map((a) => a.perSecond)) / 2));
  const seconds = size.halfRateSeconds;
  step(`txflow: open loop at half the top accept rate (${rate}/s for ${seconds} s, 1 in 5 a repeat)`);
  // The raw client at the same rate first: how much of txflow's tail is the server's own.
  const raw = await fixedRate(rate, seconds, 0, start.raw('raw-half'));
  line(
    `  raw starts: p50 ${raw.fresh.p50} ms  p99 ${raw.fresh.p99} ms  max ${raw.fresh.max} ms;  errors ${raw.errors}`,
  );
  // txflow's start from this process at the same rate: how much of the rest is the start's content.
  const service = await fixedRate(rate, seconds, 0, start.service('svc-half'));
  line(
    `  txflow start, no API: p50 ${service.fresh.p50} ms  p99 ${service.fresh.p99} ms  max ${service.fresh.max} ms;  errors ${service.errors}`,
  );
  const half = await fixedRate(rate, seconds, 5, (i, repeat) =>
    rig.submit(api.url, `half-${rig.run}-${i}`, repeat ? [200, 202] : 202),
  );
  line(
    `  txflow new: p50 ${half.fresh.p50} ms  p99 ${half.fresh.p99} ms  max ${half.fresh.max} ms;  ` +
      `repeats: p50 ${half.repeats.p50} ms  p99 ${half.repeats.p99} ms;  errors ${half.errors};  ` +
      `sender lag max ${half.scheduleLagMs.max} ms`,
  );
  return { raw, service, api: half };
}
