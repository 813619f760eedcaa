// One side of the peer comparison, as the bench prints it and writes it to JSON.
import type { LoopResult } from './closed-loop';
import type { FixedRateResult } from './fixed-rate';
import type { MockStats } from './rig';

/** What runSide measured of one side. */
export interface SideRun {
  side: 'txflow' | 'peer';
  /** IDs the side acknowledged (202). */
  acknowledged: string[];
  openLoop: FixedRateResult;
  /** The bare Temporal starts sent beside the open loop (txflow's side only). */
  probe?: FixedRateResult;
  closed: LoopResult;
  ended: { completed: number; failed: number };
  /** From the first submission until every acknowledged transaction had ended (or the drain gave up). */
  secondsToLastEnd: number;
  drainSeconds: number;
}

export interface PeerSideResult {
  side: 'txflow' | 'peer';
  acknowledged: number;
  completed: number;
  failed: number;
  /** Acknowledged, not ended when the drain gave up. */
  unfinished: number;
  /** Acknowledged, never posted downstream (whatever the side reports). */
  lost: number;
  postedTwice: number;
  /** Submit latency from each request's planned send time, ms; refused or failed submissions. */
  openLoop: { p50: number; p99: number; max: number; errors: number };
  /** A bare Temporal client's start latency beside the open loop, on the same server at the same time. */
  probe?: { rate: number; p50: number; p99: number; max: number; errors: number };
  closedLoopPerSecond: number;
  closedLoopP99: number;
  secondsToLastEnd: number;
  drainSeconds: number;
}

export function peerSideResult(run: SideRun, posted: Set<string>, mock: MockStats): PeerSideResult {
  const lost = run.acknowledged.filter((id) => !posted.has(id));
  const ended = run.ended.completed + run.ended.failed;
  return {
    side: run.side,
    acknowledged: run.acknowledged.length,
    completed: run.ended.completed,
    failed: run.ended.failed,
    unfinished: Math.max(0, run.acknowledged.length - ended),
    lost: lost.length,
    postedTwice: mock.duplicates.length,
    openLoop: {
      p50: run.openLoop.fresh.p50,
      p99: run.openLoop.fresh.p99,
      max: run.openLoop.fresh.max,
      errors: run.openLoop.errors,
    },
    ...(run.probe && {
      probe: {
        rate: run.probe.rate,
        p50: run.probe.fresh.p50,
        p99: run.probe.fresh.p99,
        max: run.probe.fresh.max,
        errors: run.probe.errors,
      },
    }),
    closedLoopPerSecond: run.closed.perSecond,
    closedLoopP99: run.closed.latencyMs.p99,
    secondsToLastEnd: Math.round(run.secondsToLastEnd * 10) / 10,
    drainSeconds: Math.round(run.drainSeconds * 10) / 10,
  };
}

export interface PeerComparison {
  rate: number;
  clients: number;
  /** txflow's POSTING_WRITE_SETTLE_MS when --peer-settle-ms set it; null: its default. */
  settleMs: number | null;
  sides: PeerSideResult[];
  verdicts: { target: string; met: boolean }[];
}

/** The verdicts the issue asks of the comparison: txflow against the peer, side by side. */
export function peerVerdicts(txflow: PeerSideResult, peer: PeerSideResult) {
  return [
    {
      target: 'txflow loses nothing and posts nothing twice',
      met: txflow.lost === 0 && txflow.postedTwice === 0,
    },
    { target: 'txflow finishes every transaction', met: txflow.unfinished === 0 },
    {
      target: 'txflow completes at least as fast as the peer',
      met: txflow.secondsToLastEnd <= peer.secondsToLastEnd,
    },
    { target: "txflow's submit p99 ≤ 5 × the peer's", met: txflow.openLoop.p99 <= 5 * peer.openLoop.p99 },
  ];
}
