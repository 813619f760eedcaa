// `npm run bench [-- --quick]`: one dev server, then (1) the raw Temporal limit with no-op workflows and
// (2) txflow on the same server (singly and in batches), and the ratios between them. Prints a table, writes results/bench-*.json.
// The steps: start-steps.ts (no worker), end-to-end-steps.ts; what they run on: rig.ts.
import { measureWhileProcessing } from './processing-steps';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runMain } from '../../src/config/env';
import { measureBatches } from './batch-steps';
import { comparePeer } from './peer-steps';
import { measureEndToEnd, measureWithFaults } from './end-to-end-steps';
import { benchFlags, benchSize, type BenchFlags, type BenchSize } from './options';
import { processStats } from './process-stats';
import { line, percent, printPeer, printSummary } from './report';
import { benchResult } from './result';
import { BenchRig } from './rig';
import { measureHalfRate, measureStarts, starters, warmUp } from './start-steps';

void runMain(async () => {
  const flags = benchFlags();
  if (!flags) return;
  const size = benchSize(flags.quick);
  const rig = await BenchRig.start(flags);
  try {
    if (flags.processingOnly) return await processingOnly(rig, flags, size);
    // First, while the server's store is as empty as the peer's Redis (--peer only).
    const peer = await comparePeer(rig, flags, size);
    await rig.startMock();
    const acceptApi = await rig.startApi(`accept-${rig.run}`);
    const start = starters(rig, acceptApi);
    await warmUp(start, size);
    const starts = await measureStarts(rig, acceptApi, start, size);
    const half = await measureHalfRate(rig, acceptApi, start, starts.accepts, size);
    const batches = await measureBatches(rig, acceptApi, size);
    const acceptStats = await processStats(acceptApi.process.pid ?? -1);
    await acceptApi.process.stop(10_000);

    const e2e = await measureEndToEnd(rig, flags, size);
    const faulty = await measureWithFaults(rig, e2e, size);
    const busy = await measureWhileProcessing(rig, e2e, size);
    const mockStats = await rig.mockStats();
    const apiStats = await processStats(e2e.api.process.pid ?? -1);
    const workerStats = await processStats(e2e.worker.pid ?? -1);
    await e2e.api.process.stop(10_000);
    await e2e.worker.stop(10_000);

    const result = benchResult({
      run: rig.run,
      flags,
      split: rig.split,
      starts,
      half,
      batches,
      e2e,
      faulty,
      busy,
      mockStats,
      peer,
      stats: { acceptApi: acceptStats, api: apiStats, worker: workerStats },
    });
    printSummary(
      result.ratios,
      flags.allInOne ? { 'all-in-one': apiStats } : { api: apiStats, worker: workerStats },
      result.txflow.downstream,
      result.targets,
    );
    if (peer) printPeer(peer);
    line(`\nresults: ${await writeResult(flags.out, 'bench', result)}`);
    const txflowSide = peer?.sides.find((side) => side.side === 'txflow');
    if (mockStats.duplicates.length > 0 || (txflowSide && txflowSide.postedTwice + txflowSide.lost > 0)) {
      process.exitCode = 1;
    }
  } finally {
    await rig.stop();
  }
});

/** `--processing-only`: the end-to-end and while-processing steps, their ratios printed and written as JSON. */
async function processingOnly(rig: BenchRig, flags: BenchFlags, size: BenchSize): Promise<void> {
  await rig.startMock();
  const e2e = await measureEndToEnd(rig, flags, size);
  const busy = await measureWhileProcessing(rig, e2e, size);
  await e2e.api.process.stop(10_000);
  await e2e.worker.stop(10_000);
  const result = {
    run: rig.run,
    flags,
    endToEnd: { raw: e2e.raw, txflow: e2e.txflow, ratio: e2e.txflow.perSecond / e2e.raw.perSecond },
    whileProcessing: busy,
  };
  line(
    `\nend to end ${percent(result.endToEnd.ratio)}, accept while processing ${percent(busy.accept.ratio)}`,
  );
  line(`results: ${await writeResult(flags.out, 'bench-processing', result)}`);
}

/** Writes `result` as <out>/<prefix>-<time>.json and returns the file's path. */
async function writeResult(out: string, prefix: string, result: unknown): Promise<string> {
  await mkdir(out, { recursive: true });
  const file = path.join(out, `${prefix}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
