// The bench's output on stdout: step titles, a line per measurement, the summary of ratios and targets.
import type { LoopResult } from './closed-loop';
import type { ProcessStats } from './process-stats';
import type { PeerComparison } from './peer-result';
import type { TargetVerdict } from './targets';

export function step(title: string) {
  line(`\n${title}`);
}

export function line(text: string) {
  process.stdout.write(`${text}\n`);
}

/** A ratio or share as a whole percentage, e.g. 0.724 → "72%". */
export const percent = (ratio: number) => `${(ratio * 100).toFixed(0)}%`;

export function report(label: string, r: LoopResult) {
  const cpu = Object.entries(r.cpuMsPerOperation ?? {})
    .map(([name, ms]) => `${name} ${ms}`)
    .join(', ');
  line(
    `${label.padEnd(24)} ${r.perSecond.toFixed(1).padStart(7)}/s  p50 ${r.latencyMs.p50} ms  p90 ${r.latencyMs.p90} ms  p99 ${r.latencyMs.p99} ms  max ${r.latencyMs.max} ms${r.errors ? `  errors ${r.errors}` : ''}`,
  );
  if (cpu) line(`${''.padEnd(26)}CPU ms per call: ${cpu}`);
}

export function printSummary(
  ratios: {
    accept: { concurrency: number; ratio: number }[];
    batch: { mode: string; ratio: number }[];
    endToEnd: number;
    serverCpuPerWorkflow: number;
    historyEventsPerWorkflow: number;
    endToEndWithFaults: number;
  },
  procs: Record<string, ProcessStats | undefined>,
  downstream: { distinctIds: number; duplicates: number },
  targets: TargetVerdict[],
) {
  step('txflow / raw');
  for (const r of ratios.accept)
    line(`  accept rate, ${r.concurrency} clients: ${(r.ratio * 100).toFixed(0)}%`);
  for (const r of ratios.batch)
    line(`  ${r.mode} / single x16 (txflow over txflow): ${(r.ratio * 100).toFixed(0)}%`);
  line(
    `  end to end: ${(ratios.endToEnd * 100).toFixed(0)}%   with faults: ${(ratios.endToEndWithFaults * 100).toFixed(0)}%`,
  );
  line(
    `  server per workflow: CPU ${ratios.serverCpuPerWorkflow.toFixed(2)}x, history events ${ratios.historyEventsPerWorkflow.toFixed(2)}x`,
  );
  for (const [name, s] of Object.entries(procs)) {
    if (s) line(`  ${name}: peak RSS ${s.peakRssMb} MB, CPU ${s.cpuSeconds.toFixed(1)} s`);
  }
  line(`  downstream: ${downstream.distinctIds} distinct IDs, ${downstream.duplicates} stored twice`);
  step('targets');
  for (const t of targets) {
    const mark = t.met === null ? '  ?  ' : t.met ? ' met ' : ' MISS';
    line(`  ${mark} ${t.target}: ${t.value}`);
  }
}

/** The peer comparison: a row per side, then its verdicts. */
export function printPeer(c: PeerComparison) {
  step(`txflow beside the peer (${c.rate}/s open loop, ${c.clients} clients closed loop, 20%/10% faults)`);
  const rows = [
    [
      'side',
      'submit p50',
      'p99',
      'closed/s',
      'acked',
      'completed',
      'failed',
      'unfinished',
      'lost',
      'twice',
      'all ended',
    ],
    ...c.sides.map((s) => [
      s.side,
      `${s.openLoop.p50} ms`,
      `${s.openLoop.p99} ms`,
      s.closedLoopPerSecond.toFixed(1),
      String(s.acknowledged),
      String(s.completed),
      String(s.failed),
      String(s.unfinished),
      String(s.lost),
      String(s.postedTwice),
      `${s.secondsToLastEnd} s`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) line(`  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}`);
  for (const s of c.sides) {
    if (s.probe) {
      line(
        `  beside ${s.side}'s open loop, a bare Temporal client's start (${s.probe.rate}/s, no worker): ` +
          `p50 ${s.probe.p50} ms, p99 ${s.probe.p99} ms`,
      );
    }
  }
  for (const v of c.verdicts) line(`  ${v.met ? ' met ' : ' MISS'} ${v.target}`);
}
