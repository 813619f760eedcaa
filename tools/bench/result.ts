// The bench's verdict: txflow's rates over the raw client's, the targets met or missed, and the JSON result.
import { cpus } from 'node:os';
import type { BatchRate } from './batch-steps';
import type { LoopResult } from './closed-loop';
import type { EndToEnd, Throughput, WorkflowStarts } from './end-to-end-steps';
import { CONCURRENCIES, type BenchFlags } from './options';
import type { ProcessStats } from './process-stats';
import type { MockStats } from './rig';
import type { HalfRate, StartRates } from './start-steps';
import { judgeTargets } from './targets';
import type { PeerComparison } from './peer-result';
import type { WhileProcessing } from './processing-steps';

export interface Measured {
  run: string;
  flags: BenchFlags;
  split: unknown;
  starts: StartRates;
  half: HalfRate;
  batches: BatchRate[];
  e2e: EndToEnd;
  faulty: { throughput: Throughput; starts: WorkflowStarts };
  /** Accept rate and submit tail while each side's worker processes (processing-steps.ts). */
  busy: WhileProcessing;
  mockStats: MockStats;
  /** The side-by-side run with the peer (--peer). */
  peer?: PeerComparison;
  stats: { acceptApi?: ProcessStats; api?: ProcessStats; worker?: ProcessStats };
}

const peak = (...stats: (ProcessStats | undefined)[]) => {
  const known = stats.flatMap((s) => (s ? [s.peakRssMb] : []));
  return known.length > 0 ? Math.max(...known) : null;
};

export function benchResult(m: Measured) {
  const { flags, starts, half, e2e, faulty, busy } = m;
  const { acceptApi: acceptStats, api: apiStats, worker: workerStats } = m.stats;
  const ratios = {
    accept: CONCURRENCIES.map((c, i) => ({
      concurrency: c,
      ratio: (starts.accepts[i] as LoopResult).perSecond / (starts.rawStarts[i] as LoopResult).perSecond,
    })),
    // Each batch size's transactions/s over the same transactions sent singly by 16 clients.
    batch: m.batches
      .slice(1)
      .map((b) => ({ mode: b.mode, ratio: b.perSecond / (m.batches[0]?.perSecond ?? NaN) })),
    endToEnd: e2e.txflow.perSecond / e2e.raw.perSecond,
    // The server's CPU and history events per txflow transaction over those per raw workflow.
    serverCpuPerWorkflow: e2e.serverCost.txflow.serverCpuMs / e2e.serverCost.raw.serverCpuMs,
    historyEventsPerWorkflow: e2e.serverCost.txflow.work.events / e2e.serverCost.raw.work.events,
    endToEndWithFaults: faulty.throughput.perSecond / e2e.raw.perSecond,
    acceptWhileProcessing: busy.accept.ratio,
  };
  const targets = judgeTargets({
    acceptRatios: ratios.accept,
    endToEndRatio: ratios.endToEnd,
    busy,
    halfRate: { fresh: half.api.fresh, repeats: half.api.repeats, errors: half.api.errors },
    peakRssMb: flags.allInOne
      ? { api: peak(acceptStats), 'all-in-one': peak(workerStats) } // the accept step's API is its own process
      : { api: peak(acceptStats, apiStats), worker: peak(workerStats) },
  });
  const downstream = {
    distinctIds: m.mockStats.distinctIds,
    duplicates: m.mockStats.duplicates.length,
    faults: m.mockStats.faults,
  };
  return {
    run: m.run,
    at: new Date().toISOString(),
    quick: flags.quick,
    eagerActivities: flags.eagerActivities,
    allInOne: flags.allInOne,
    cpus: m.split ?? 'shared',
    machine: { cpus: cpus().length, node: process.version },
    raw: {
      starts: starts.rawStarts,
      halfRate: half.raw,
      twoActivityWorkflows: e2e.raw,
      serverPerWorkflow: e2e.serverCost.raw,
      whileProcessing: {
        accept: busy.accept.raw,
        completedWhileAccepting: busy.accept.completedWhileAccepting.raw,
        openLoop: { rate: busy.tail.rate, submit: busy.tail.raw },
      },
    },
    // txflow's start request sent by the raw client from this process: the server's share of the gap.
    txflowStartWithoutApi: starts.serviceStarts,
    txflowStartWithoutApiHalfRate: half.service,
    txflow: {
      accepts: starts.accepts,
      duplicates: starts.duplicates,
      halfRate: half.api,
      batches: m.batches,
      endToEnd: e2e.txflow,
      serverPerTransaction: e2e.serverCost.txflow,
      endToEndWithFaults: faulty.throughput,
      whileProcessing: {
        accept: busy.accept.txflow,
        completedWhileAccepting: busy.accept.completedWhileAccepting.txflow,
        openLoop: { rate: busy.tail.rate, submit: busy.tail.txflow },
      },
      workflowStarts: { endToEnd: e2e.txflowStarts, endToEndWithFaults: faulty.starts },
      downstream,
      processes: { acceptApi: acceptStats, api: apiStats, worker: workerStats },
    },
    ratios,
    targets,
    ...(m.peer && { peer: m.peer }),
  };
}
