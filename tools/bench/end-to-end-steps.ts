// The bench's end-to-end steps: raw two-activity workflows against txflow's transactions in alternating rounds
// (both workers poll throughout), then txflow alone with downstream faults.
import type { ManagedProcess } from '../shared/processes';
import { takingTurns } from './closed-loop';
import { CpuTally, type CpuMeter } from './cpu-tally';
import type { BenchFlags, BenchSize } from './options';
import { line, step } from './report';
import type { BenchRig, RunningApi } from './rig';
import { serverWork, type ServerWork } from './server-work';

export interface SideCost {
  serverCpuMs: number;
  /** CPU ms per workflow of every process during the side's rounds (the other side's idle worker included). */
  cpuMsByProcess: Record<string, number>;
  work: ServerWork;
}

export interface Throughput {
  workflows: number;
  seconds: number;
  perSecond: number;
}

export interface WorkflowStarts {
  eager: number;
  notEager: number;
}

export interface EndToEnd {
  raw: Throughput;
  txflow: Throughput;
  txflowStarts: WorkflowStarts;
  /** Per workflow of each side: the server's CPU (ms) during its rounds, and its history (server-work.ts). */
  serverCost: { raw: SideCost; txflow: SideCost };
  /** txflow's API, and its worker (the same process with --all-in-one); left running for the faults step. */
  api: RunningApi;
  worker: ManagedProcess;
  taskQueue: string;
}

/** The downstream faults of the bench's fault steps: 20% of POSTs fail before writing, 10% after. */
export const BENCH_FAULTS = {
  preWriteFailureRate: 0.2,
  postWriteFailureRate: 0.1,
  postWriteMode: 'mixed',
  postWriteHangMs: 1_500,
};

export const NO_FAULTS = { preWriteFailureRate: 0, postWriteFailureRate: 0 };

/** Starts txflow's worker and API (or one all-in-one process) on `taskQueue`, polling the mock. */
async function startTxflow(rig: BenchRig, flags: BenchFlags, taskQueue: string) {
  const workerEnv = { POSTING_SERVICE_URL: rig.mockUrl, POSTING_TIMEOUT_MS: '1000' };
  if (flags.allInOne) {
    const api = await rig.startAllInOne(taskQueue, workerEnv);
    return { api, worker: api.process }; // both figures are this one process's
  }
  const worker = await rig.startWorker('worker', taskQueue, workerEnv);
  return { api: await rig.startApi(taskQueue), worker };
}

export async function measureEndToEnd(rig: BenchRig, flags: BenchFlags, size: BenchSize): Promise<EndToEnd> {
  step(
    `end to end: raw two-activity workflows and txflow transactions in ${size.rounds} alternating rounds, ` +
      `mock with no latency and no faults${flags.allInOne ? ', txflow as one all-in-one process' : ''}`,
  );
  const { run, client } = rig;
  const rawQueue = `raw-e2e-${run}`;
  const rawWorker = await rig.startWorker('raw-worker', rawQueue);
  const txQueue = `tx-${run}`;
  const { api, worker } = await startTxflow(rig, flags, txQueue);
  // Both workers poll throughout; each round gives one side the server while the other's worker idles.
  const cpuNow = cpuOfEveryProcess(rig, rawWorker, { api, worker });
  const sides = {
    raw: { queue: rawQueue, type: 'twoActivities', done: 0, seconds: 0, cpu: new CpuTally(cpuNow) },
    tx: { queue: txQueue, type: 'processTransaction', done: 0, seconds: 0, cpu: new CpuTally(cpuNow) },
  };
  const startOf = {
    raw: (id: string) => rig.startRaw(rawQueue, `raw2-${id}`),
    tx: (id: string) => rig.submit(api.url, `e2e-${id}`, 202),
  };
  const names = ['raw', 'tx'] as const;
  // Neither side is measured cold: fresh workers and API run their first few hundred calls in V8's interpreter.
  for (const name of names) {
    const side = sides[name];
    await rig.completeAll(side.queue, side.type, size.warmup, (i) => startOf[name](`warm-${run}-${i}`));
  }
  const warmStarts = await rig.workflowStarts(api.url);
  for (const { size: count, first, order } of takingTurns(size.workflows, size.rounds, names.length)) {
    for (const name of order.map((k) => names[k]!)) {
      const side = sides[name];
      const round = await side.cpu.measure(() =>
        rig.completeAll(
          side.queue,
          side.type,
          count,
          (i) => startOf[name](`${run}-${first + i}`),
          size.warmup + first,
        ),
      );
      side.done += count;
      side.seconds += round.seconds;
    }
  }
  const throughput = (side: { done: number; seconds: number }): Throughput => ({
    workflows: side.done,
    seconds: Math.round(side.seconds * 100) / 100,
    perSecond: side.done / side.seconds,
  });
  const raw = throughput(sides.raw);
  const txflow = throughput(sides.tx);
  await rawWorker.stop(10_000);
  const txflowStarts = startsSince(warmStarts, await rig.workflowStarts(api.url));
  const cost = async (side: (typeof sides)['raw']): Promise<SideCost> => {
    const cpuMsByProcess = side.cpu.msPer(side.done, 1);
    return {
      serverCpuMs: cpuMsByProcess.server ?? 0,
      cpuMsByProcess,
      work: await serverWork(
        client,
        `TaskQueue = "${side.queue}" AND WorkflowType = "${side.type}" AND ExecutionStatus = "Completed"`,
      ),
    };
  };
  const serverCost = { raw: await cost(sides.raw), txflow: await cost(sides.tx) };
  line(`  raw: ${raw.perSecond.toFixed(1)} workflows/s (${raw.workflows} in ${raw.seconds} s)`);
  line(
    `  txflow: ${txflow.perSecond.toFixed(1)} transactions/s (${txflow.workflows} in ${txflow.seconds} s), ` +
      `${txflowStarts.eager} of ${txflowStarts.eager + txflowStarts.notEager} started eagerly`,
  );
  for (const [name, c] of Object.entries(serverCost)) {
    line(
      `  server per ${name} workflow: CPU ${c.serverCpuMs} ms, ${c.work.events} history events, ` +
        `${c.work.workflowTasks} workflow tasks, ${c.work.activityTasks} activity tasks, ${c.work.timers} timers, ` +
        `${c.work.visibilityWrites} visibility writes (${c.work.sampled} sampled)`,
    );
    const all = Object.entries(c.cpuMsByProcess);
    const total = all.reduce((sum, [, ms]) => sum + ms, 0);
    line(
      `  CPU per ${name} workflow, every process: ${total.toFixed(1)} ms ` +
        `(${all.map(([p, ms]) => `${p} ${ms}`).join(', ')})`,
    );
  }
  return { raw, txflow, txflowStarts, serverCost, api, worker, taskQueue: txQueue };
}

/** The API's workflow starts between two readings of its metrics. */
const startsSince = (before: WorkflowStarts, now: WorkflowStarts): WorkflowStarts => ({
  eager: now.eager - before.eager,
  notEager: now.notEager - before.notEager,
});

/**
 * The CPU of every process on the machine by the name the CPU lines give it: the server and the load (rig.cpuOf),
 * the raw worker, txflow's worker and API (or its one all-in-one process) and the mock.
 */
export function cpuOfEveryProcess(
  rig: BenchRig,
  rawWorker: ManagedProcess,
  { api, worker }: { api: RunningApi; worker: ManagedProcess },
): CpuMeter {
  const txflow =
    worker === api.process ? { 'all-in-one': worker.pid } : { worker: worker.pid, api: api.process.pid };
  return rig.cpuOf({ 'raw-worker': rawWorker.pid, ...txflow, mock: rig.mockPid });
}

/** txflow end to end with 20% pre-write and 10% post-write failures downstream (after measureEndToEnd). */
export async function measureWithFaults(
  rig: BenchRig,
  e2e: EndToEnd,
  size: BenchSize,
): Promise<{ throughput: Throughput; starts: WorkflowStarts }> {
  step('txflow: end to end, 20% pre-write and 10% post-write failures');
  await rig.setMockFaults(BENCH_FAULTS);
  const before = await rig.workflowStarts(e2e.api.url);
  const throughput = await rig
    .completeAll(
      e2e.taskQueue,
      'processTransaction',
      size.workflows,
      (i) => rig.submit(e2e.api.url, `faulty-${rig.run}-${i}`, 202),
      size.warmup + size.workflows,
    )
    // The later steps compare txflow with raw workflows, which have no downstream to fail.
    .finally(() => rig.setMockFaults(NO_FAULTS));
  const starts = startsSince(before, await rig.workflowStarts(e2e.api.url));
  line(
    `  ${throughput.perSecond.toFixed(1)} transactions/s (${size.workflows} in ${throughput.seconds.toFixed(1)} s), ` +
      `${starts.eager} of ${starts.eager + starts.notEager} started eagerly`,
  );
  return { throughput, starts };
}
