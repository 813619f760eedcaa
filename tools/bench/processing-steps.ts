// Issue 16's accept and tail targets, measured while each side's worker processes what was started: the accept
// rate of 16 closed-loop clients (raw starts of two-activity workflows against txflow submissions, in alternating
// rounds, each round waiting until its workflows have completed), and the submit p99 of an open loop at half the
// raw end-to-end rate (latency from each request's planned send time).
import type { LatencySummary } from '../shared/histogram';
import { LoopTally, takingTurns, type LoopResult } from './closed-loop';
import type { CpuMeter } from './cpu-tally';
import { cpuOfEveryProcess, type EndToEnd } from './end-to-end-steps';
import { fixedRate } from './fixed-rate';
import type { BenchSize } from './options';
import { line, percent, report, step } from './report';
import type { BenchRig } from './rig';

export const PROCESSING_CLIENTS = 16;

export interface WhileProcessing {
  accept: {
    raw: LoopResult;
    txflow: LoopResult;
    ratio: number;
    /** Of the workflows each side started in its rounds, the share its worker had completed when they ended. */
    completedWhileAccepting: { raw: number; txflow: number };
  };
  tail: { rate: number; raw: LatencySummary; txflow: LatencySummary; errors: number };
}

/** One side of the step: its queue and workflow type, how to start one, and its completed count so far. */
interface Side {
  queue: string;
  type: string;
  done: number;
  /** Completed by the end of the accept rounds, of what those rounds started. */
  completedDuring: number;
  start(id: string): Promise<void>;
}
type Sides = Record<'raw' | 'txflow', Side>;
const NAMES = ['raw', 'txflow'] as const;

export async function measureWhileProcessing(
  rig: BenchRig,
  e2e: EndToEnd,
  size: BenchSize,
): Promise<WhileProcessing> {
  step(
    `while processing: ${PROCESSING_CLIENTS} clients in ${size.rounds} alternating rounds, then an open loop at ` +
      'half the raw end-to-end rate; each side with its worker processing what it started',
  );
  const rawQueue = `raw-busy-${rig.run}`;
  const rawWorker = await rig.startWorker('raw-worker', rawQueue);
  try {
    const sides: Sides = {
      raw: {
        queue: rawQueue,
        type: 'twoActivities',
        done: 0,
        completedDuring: 0,
        start: (id: string) => rig.startRaw(rawQueue, id),
      },
      txflow: {
        queue: e2e.taskQueue,
        type: 'processTransaction',
        // The end-to-end and fault steps' transactions are there already.
        done: await rig.completedCount(e2e.taskQueue, 'processTransaction'),
        completedDuring: 0,
        start: (id: string) => rig.submit(e2e.api.url, id, 202),
      },
    };
    // The raw worker is fresh here; txflow's ran the end-to-end steps. Neither side is measured cold.
    await rig.completeAll(rawQueue, 'twoActivities', size.warmup, (i) =>
      sides.raw.start(`warm-${rig.run}-${i}`),
    );
    sides.raw.done = size.warmup;
    // Every process's CPU during the accept rounds: the starts, and the processing done meanwhile (the share
    // completed by a round's end is printed beside it; the rest is processed after the meter is read).
    const cpuNow = cpuOfEveryProcess(rig, rawWorker, e2e);
    const accept = await measureAccept(rig, sides, size, cpuNow);
    const tail = await measureTail(rig, sides, size, Math.max(1, Math.round(e2e.raw.perSecond / 2)));
    return { accept, tail };
  } finally {
    await rawWorker.stop(10_000);
  }
}

/** 16 closed-loop clients per side in alternating rounds, each round waiting until its workflows completed. */
async function measureAccept(
  rig: BenchRig,
  sides: Sides,
  size: BenchSize,
  cpuNow: CpuMeter,
): Promise<WhileProcessing['accept']> {
  const tallies = {
    raw: new LoopTally(PROCESSING_CLIENTS, cpuNow),
    txflow: new LoopTally(PROCESSING_CLIENTS, cpuNow),
  };
  for (const { size: count, first, order } of takingTurns(size.workflows, size.rounds, NAMES.length)) {
    for (const name of order.map((k) => NAMES[k]!)) {
      const side = sides[name];
      await tallies[name].round(count, (i) => side.start(`busy-${name}-${rig.run}-${i}`), first);
      side.completedDuring += (await rig.completedCount(side.queue, side.type)) - side.done;
      side.done += count;
      await rig.awaitCompleted(side.queue, side.type, side.done);
    }
  }
  const [raw, txflow] = [tallies.raw.result(), tallies.txflow.result()];
  for (const tally of Object.values(tallies)) tally.destroy();
  const completedWhileAccepting = {
    raw: sides.raw.completedDuring / size.workflows,
    txflow: sides.txflow.completedDuring / size.workflows,
  };
  const ratio = txflow.perSecond / raw.perSecond;
  report('  raw start', raw);
  report('  txflow submission', txflow);
  line(
    `  accept, ${PROCESSING_CLIENTS} clients: raw ${raw.perSecond.toFixed(1)}/s (p99 ${raw.latencyMs.p99} ms), ` +
      `txflow ${txflow.perSecond.toFixed(1)}/s (p99 ${txflow.latencyMs.p99} ms): ${percent(ratio)}`,
  );
  line(
    `  completed by the end of their rounds: raw ${percent(completedWhileAccepting.raw)}, txflow ` +
      `${percent(completedWhileAccepting.txflow)} of what each started`,
  );
  return { raw, txflow, ratio, completedWhileAccepting };
}

/** An open loop at `rate`, one side after the other, each waiting until what it started has completed. */
async function measureTail(
  rig: BenchRig,
  sides: Sides,
  size: BenchSize,
  rate: number,
): Promise<WhileProcessing['tail']> {
  const openLoop = async (name: (typeof NAMES)[number]) => {
    const side = sides[name];
    const result = await fixedRate(rate, size.halfRateSeconds, 0, (i) =>
      side.start(`tail-${name}-${rig.run}-${i}`),
    );
    side.done += result.fresh.count;
    await rig.awaitCompleted(side.queue, side.type, side.done);
    return result;
  };
  const rawOpen = await openLoop('raw');
  const txflowOpen = await openLoop('txflow');
  const tail = {
    rate,
    raw: rawOpen.fresh,
    txflow: txflowOpen.fresh,
    errors: rawOpen.errors + txflowOpen.errors,
  };
  line(
    `  open loop at ${rate}/s (half the raw end-to-end rate) for ${size.halfRateSeconds} s: submit p99 raw ` +
      `${tail.raw.p99} ms, txflow ${tail.txflow.p99} ms (p50 ${tail.raw.p50} / ${tail.txflow.p50} ms); ` +
      `errors ${tail.errors}`,
  );
  return tail;
}
