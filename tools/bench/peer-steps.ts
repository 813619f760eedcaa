// `--peer <checkout>`: txflow and the peer (peer-process.ts), one after the other, each on a fresh mock with the
// bench's faults (20% pre-write, 10% post-write failures): the same open-loop rate, then the same closed-loop
// client count; then each drains. From each side's mock: transactions lost (acknowledged, never posted) and
// posted twice; from each side's own status API: how many ended, and when.
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { closedLoop } from './closed-loop';
import { BENCH_FAULTS } from './end-to-end-steps';
import { fixedRate } from './fixed-rate';
import type { BenchFlags, BenchSize } from './options';
import { preparePeer, startPeer } from './peer-process';
import { line, step } from './report';
import { transactionBody, type BenchRig } from './rig';
import {
  peerSideResult,
  peerVerdicts,
  type PeerComparison,
  type PeerSideResult,
  type SideRun,
} from './peer-result';

/** One side of the comparison: how to submit, and how many of the acknowledged transactions have ended. */
interface Side {
  name: 'txflow' | 'peer';
  mockUrl: string;
  submit(id: string): Promise<void>;
  /** A bare Temporal client's start, sent beside the open loop: the server's own start latency at that moment. */
  probe?: (id: string) => Promise<void>;
  /** Of `ids`, those that ended, by final status. */
  ended(ids: string[]): Promise<{ completed: number; failed: number }>;
  stop(): Promise<void>;
}

const DRAIN_LIMIT_MS = 600_000;
/** The probe sends one start for every this many submissions of the open loop. */
const PROBE_SHARE = 5;

export async function comparePeer(
  rig: BenchRig,
  flags: BenchFlags,
  size: BenchSize,
): Promise<PeerComparison | undefined> {
  const checkout = flags.peer;
  if (!checkout) return undefined;
  const { rate, clients, settleMs } = flags.peerLoad;
  step(
    `side by side with the peer (${checkout}): ${rate}/s open loop for ${size.peerSeconds} s, then ` +
      `${size.peerClosedLoop} by ${clients} clients; 20% pre-write and 10% post-write failures; txflow first` +
      (settleMs === undefined ? '' : `, its write-settle window ${settleMs} ms`),
  );
  const entry = await preparePeer(checkout);
  const results: PeerSideResult[] = [];
  for (const open of [() => txflowSide(rig, settleMs), () => peerSide(rig, checkout, entry)]) {
    const side = await open();
    try {
      results.push(await runSide(rig, side, { rate, clients }, size));
    } finally {
      await side.stop();
    }
  }
  const [txflow, peer] = results as [PeerSideResult, PeerSideResult];
  return { rate, clients, settleMs: settleMs ?? null, sides: results, verdicts: peerVerdicts(txflow, peer) };
}

async function runSide(
  rig: BenchRig,
  side: Side,
  load: { rate: number; clients: number },
  size: BenchSize,
): Promise<PeerSideResult> {
  await rig.setMockFaults(BENCH_FAULTS, side.mockUrl);
  const prefix = `${side.name}-${rig.run}`;
  const acknowledged: string[] = [];
  const submit = async (id: string) => {
    await side.submit(id);
    acknowledged.push(id);
  };
  const t0 = Date.now();
  const probing = side.probe;
  const [openLoop, probe] = await Promise.all([
    fixedRate(load.rate, size.peerSeconds, 0, (i) => submit(`${prefix}-o${i}`)),
    // Half a gap after the open loop's sends, not at the same instants.
    probing &&
      sleep(500 / load.rate).then(() =>
        fixedRate(load.rate / PROBE_SHARE, size.peerSeconds, 0, (i) => probing(`${prefix}-p${i}`)),
      ),
  ]);
  const closed = await closedLoop(load.clients, size.peerClosedLoop, (i) => submit(`${prefix}-c${i}`));
  const submittedAt = Date.now();
  let ended = { completed: 0, failed: 0 };
  while (Date.now() - submittedAt < DRAIN_LIMIT_MS) {
    ended = await side.ended(acknowledged);
    if (ended.completed + ended.failed >= acknowledged.length) break;
    await sleep(1_000);
  }
  const run: SideRun = {
    side: side.name,
    acknowledged,
    openLoop,
    probe,
    closed,
    ended,
    secondsToLastEnd: (Date.now() - t0) / 1000,
    drainSeconds: (Date.now() - submittedAt) / 1000,
  };
  const result = peerSideResult(run, await posted(side.mockUrl), await rig.mockStats(side.mockUrl));
  if (result.probe) {
    line(
      `  ${''.padEnd(6)} beside it, a bare Temporal client's start (${result.probe.rate}/s, no worker): ` +
        `p50 ${result.probe.p50} ms p99 ${result.probe.p99} ms`,
    );
  }
  line(
    `  ${side.name.padEnd(6)} submit p50 ${result.openLoop.p50} ms p99 ${result.openLoop.p99} ms at ${load.rate}/s; ` +
      `${result.closedLoopPerSecond.toFixed(1)}/s by ${load.clients}; ${result.acknowledged} acknowledged, ` +
      `${result.completed} completed, ${result.failed} failed, ${result.unfinished} unfinished, ` +
      `${result.lost} lost, ${result.postedTwice} posted twice; all ended ${result.secondsToLastEnd.toFixed(1)} s ` +
      `after the first submission`,
  );
  return result;
}

/** The IDs the mock holds (each at least once). */
async function posted(mockUrl: string): Promise<Set<string>> {
  const res = await request(`${mockUrl}/transactions`);
  const body = (await res.body.json()) as { data: { id: string }[] };
  return new Set(body.data.map((t) => t.id));
}

/**
 * txflow's worker and API as the bench runs them. `settleMs`: its write-settle window, for a downstream whose writes
 * land within its answer (the mock's, without late writes): an operator who knows that sets the window so.
 */
async function txflowSide(rig: BenchRig, settleMs?: number): Promise<Side> {
  const mock = await rig.spawnMock('mock-vs-peer');
  const taskQueue = `vs-peer-${rig.run}`;
  const worker = await rig.startWorker('worker', taskQueue, {
    POSTING_SERVICE_URL: mock.url,
    POSTING_TIMEOUT_MS: '1000',
  });
  const api = await rig.startApi(
    taskQueue,
    settleMs === undefined ? {} : { POSTING_WRITE_SETTLE_MS: String(settleMs), POSTING_TIMEOUT_MS: '1000' },
  );
  const closed = `TaskQueue = "${taskQueue}" AND ExecutionStatus != "Running"`;
  return {
    name: 'txflow',
    mockUrl: mock.url,
    submit: (id) => rig.submit(api.url, id, 202),
    // No worker polls this queue; the server times the workflows out after a minute.
    probe: async (id) => {
      await rig.client.workflow.start('noop', {
        taskQueue: `vs-peer-probe-${rig.run}`,
        workflowId: id,
        workflowExecutionTimeout: '1 minute',
      });
    },
    // Visibility counts, not a status read per ID: polling thousands of reads would load the dev server.
    ended: async () => {
      const { count: all } = await rig.client.workflow.count(closed);
      const { count: completed } = await rig.client.workflow.count(`${closed} AND TxStatus = "completed"`);
      return { completed, failed: all - completed };
    },
    async stop() {
      await api.process.stop(10_000);
      await worker.stop(10_000);
      await mock.process.stop(5_000);
    },
  };
}

async function peerSide(rig: BenchRig, checkout: string, entry: string): Promise<Side> {
  const mock = await rig.spawnMock('mock-peer');
  const peer = await startPeer(checkout, entry, mock.url);
  const final = new Map<string, string>();
  return {
    name: 'peer',
    mockUrl: mock.url,
    submit: async (id) => {
      const res = await request(`${peer.url}/api/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // Its schema: a number amount, a description and a timestamp are required.
        body: JSON.stringify({
          id,
          amount: Number(transactionBody(id).amount),
          currency: 'EUR',
          description: 'bench',
          timestamp: new Date().toISOString(),
        }),
        dispatcher: rig.http,
      });
      await res.body.dump();
      if (res.statusCode !== 202) throw new Error(`${id}: ${res.statusCode}`);
    },
    // Its status API reads Redis: one read per transaction not yet ended, 16 at a time.
    ended: async (ids) => {
      const open = ids.filter((id) => !final.has(id));
      await closedLoop(16, open.length, async (i) => {
        const id = open[i]!;
        const res = await request(`${peer.url}/api/transactions/${id}`, { dispatcher: rig.http });
        const body = (await res.body.json()) as { status?: string };
        if (body.status === 'completed' || body.status === 'failed') final.set(id, body.status);
      });
      const statuses = [...final.values()];
      const completed = statuses.filter((s) => s === 'completed').length;
      return { completed, failed: statuses.length - completed };
    },
    async stop() {
      await peer.stop();
      await mock.process.stop(5_000);
    },
  };
}
