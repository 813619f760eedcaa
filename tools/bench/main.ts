// `npm run bench [-- --quick]`: one dev server, then (1) the raw Temporal limit with no-op workflows and
// (2) txflow on the same server, and the ratios between them. Prints a table, writes results/bench-*.json.
import { Client, Connection } from '@temporalio/client';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { fromApiBody } from '../../src/api/transactions/submission';
import { TransactionsService } from '../../src/api/transactions/transactions-service';
import { runMain } from '../../src/config/env';
import { processingPolicy } from '../../src/config/policy';
import { createLogger } from '../../src/config/logger';
import { startDevServer } from '../stack/dev-server';
import { freePort } from '../shared/ports';
import { spawnManaged, waitForHttpOk, type ManagedProcess } from '../shared/processes';
import { spawnTxflow, type TxflowProcess } from '../shared/txflow-process';
import { obtainTemporalCli } from '../stack/temporal-cli';
import { alternate, closedLoop, takingTurns, type CpuMeter, type LoopResult } from './closed-loop';
import { pinProcess, splitCpus } from './cpu-split';
import { fixedRate } from './fixed-rate';
import { processStats, type ProcessStats } from './process-stats';
import { judgeTargets, type TargetVerdict } from './targets';

const log = createLogger('bench');
const CONCURRENCIES = [1, 8, 64];
// Short retry intervals for the bench's transactions (the API's and the all-in-one's policy).
const API_POLICY_ENV = {
  CHECK_RETRY_INITIAL_INTERVAL_MS: '100',
  POST_RETRY_INITIAL_INTERVAL_MS: '100',
  POST_RETRY_MAX_INTERVAL_MS: '2000',
};

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'results' },
    'eager-activities': { type: 'boolean', default: false },
    // The end-to-end steps with one all-in-one process (API and worker in one, eager workflow start) instead of a
    // worker process and an API process.
    'all-in-one': { type: 'boolean', default: false },
    // host:port of a running Temporal (e.g. `npm run cluster`'s 127.0.0.1:7330) instead of a dev server;
    // its namespace `default` must have txflow's search attributes.
    temporal: { type: 'string' },
    // The dev server on the first half of the CPUs, this process and everything it starts on the rest: as in
    // production, where the API and workers do not take the Temporal server's CPU (see cpu-split.ts).
    pin: { type: 'boolean', default: false },
  },
});
const SIZE = flags.quick
  ? { warmup: 40, starts: (c: number) => Math.max(60, c * 10), rounds: 2, halfRateSeconds: 5, workflows: 150 }
  : {
      warmup: 200,
      starts: (c: number) => Math.max(400, c * 40),
      rounds: 4,
      halfRateSeconds: 30,
      workflows: 1_000,
    };

void runMain(async () => {
  const run = Date.now().toString(36);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'txflow-bench-'));
  const cliPath = await obtainTemporalCli({ log });
  const split = flags.pin ? splitCpus() : undefined;
  if (split) {
    pinProcess(process.pid, split.clients); // before any child is spawned: they inherit it
    line(
      `pinned: Temporal dev server on CPU ${split.server.join(',')}, API, worker, mock and load on CPU ${split.clients.join(',')}`,
    );
  }
  const server = flags.temporal
    ? { address: flags.temporal, stop: async () => undefined }
    : await startDevServer({
        cliPath,
        dbFile: path.join(dataDir, 'temporal.db'),
        port: await freePort(),
        uiPort: false,
        namespace: 'default',
        log,
        extraArgs: flags['eager-activities']
          ? ['--dynamic-config-value', 'system.enableActivityEagerExecution=true']
          : undefined,
        cpus: split?.server,
      });
  const children: ManagedProcess[] = [];
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const http = new Agent({ connections: 128, keepAliveTimeout: 30_000 });

  try {
    const mockPort = await freePort();
    await spawnNode('mock', 'mock', {
      PORT: String(mockPort),
      MOCK_SEED: '1',
      LOG_LEVEL: 'warn',
    });
    await waitForHttpOk(`http://127.0.0.1:${mockPort}/health`, { timeoutMs: 30_000 });
    const acceptApi = await startApi(`accept-${run}`);
    const rawStart = (prefix: string) => async (i: number) => {
      await client.workflow.start('noop', {
        taskQueue: `raw-starts-${run}`,
        workflowId: `${prefix}-${run}-${i}`,
      });
    };
    const txSubmit = (prefix: string) => (i: number) => submit(acceptApi.url, `${prefix}-${run}-${i}`, 202);
    // txflow's own start (memo, search attributes, summary, details; the same policy as the API's) from this
    // process, on the raw client: what the start costs the server, without the hop through the API.
    const service = new TransactionsService({
      client,
      taskQueue: `accept-${run}`,
      policy: processingPolicy({ ...process.env, ...API_POLICY_ENV }),
      queryDeadlineMs: 60,
      rpcTimeoutMs: 10_000,
    });
    const serviceSubmit = (prefix: string) => async (i: number) => {
      const id = `${prefix}-${run}-${i}`;
      const result = await service.submit(fromApiBody(transactionBody(id), id, new Date()));
      if (result.kind !== 'accepted') throw new Error(`${id}: ${result.kind}`);
    };

    step('warm-up: raw starts and txflow submits, not counted');
    // A fresh process runs its first few hundred requests through V8's interpreter: measure neither side cold.
    await closedLoop(8, SIZE.warmup, rawStart('raw-warm'));
    await closedLoop(8, SIZE.warmup, txSubmit('acc-warm'));
    await closedLoop(8, SIZE.warmup, serviceSubmit('svc-warm'));

    step(
      `starts: raw client, txflow's start from this process, txflow API; ${SIZE.rounds} alternating rounds (no worker)`,
    );
    const rawStarts: LoopResult[] = [];
    const serviceStarts: LoopResult[] = [];
    const accepts: LoopResult[] = [];
    for (const c of CONCURRENCIES) {
      const [raw, inProcess, tx] = await alternate(c, SIZE.starts(c), SIZE.rounds, [
        { operation: rawStart(`raw-${c}`), meter: cpuOf({}) },
        { operation: serviceSubmit(`svc-${c}`), meter: cpuOf({}) },
        { operation: txSubmit(`acc-${c}`), meter: cpuOf({ api: acceptApi.process.pid }) },
      ]);
      rawStarts.push(raw!);
      serviceStarts.push(inProcess!);
      accepts.push(tx!);
      report(`  raw, ${c} clients`, raw!);
      report(`  txflow start, no API, ${c}`, inProcess!);
      report(`  txflow API, ${c} clients`, tx!);
    }
    const duplicates = await closedLoop(8, SIZE.starts(8), (i) =>
      submit(acceptApi.url, `acc-8-${run}-${i}`, 200),
    );
    report('  txflow duplicates, 8 clients', duplicates);

    const halfRate = Math.max(1, Math.round(Math.max(...accepts.map((a) => a.perSecond)) / 2));
    step(
      `txflow: open loop at half the top accept rate (${halfRate}/s for ${SIZE.halfRateSeconds} s, 1 in 5 a repeat)`,
    );
    // The raw client at the same rate first: how much of txflow's tail is the server's own.
    const rawHalf = await fixedRate(halfRate, SIZE.halfRateSeconds, 0, rawStart('raw-half'));
    line(
      `  raw starts: p50 ${rawHalf.fresh.p50} ms  p99 ${rawHalf.fresh.p99} ms  max ${rawHalf.fresh.max} ms;  errors ${rawHalf.errors}`,
    );
    // txflow's start from this process at the same rate: how much of the rest is the start's content.
    const serviceHalf = await fixedRate(halfRate, SIZE.halfRateSeconds, 0, serviceSubmit('svc-half'));
    line(
      `  txflow start, no API: p50 ${serviceHalf.fresh.p50} ms  p99 ${serviceHalf.fresh.p99} ms  max ${serviceHalf.fresh.max} ms;  errors ${serviceHalf.errors}`,
    );
    const half = await fixedRate(halfRate, SIZE.halfRateSeconds, 5, (i, repeat) =>
      submit(acceptApi.url, `half-${run}-${i}`, repeat ? [200, 202] : 202),
    );
    line(
      `  txflow new: p50 ${half.fresh.p50} ms  p99 ${half.fresh.p99} ms  max ${half.fresh.max} ms;  ` +
        `repeats: p50 ${half.repeats.p50} ms  p99 ${half.repeats.p99} ms;  errors ${half.errors};  ` +
        `sender lag max ${half.scheduleLagMs.max} ms`,
    );
    const acceptStats = await processStats(acceptApi.process.pid ?? -1);
    await acceptApi.process.stop(10_000);

    step(
      `end to end: raw two-activity workflows and txflow transactions in ${SIZE.rounds} alternating rounds, ` +
        `mock with no latency and no faults${flags['all-in-one'] ? ', txflow as one all-in-one process' : ''}`,
    );
    const rawQueue = `raw-e2e-${run}`;
    const rawWorker = await spawnNode('raw-worker', 'raw-worker', {
      TASK_QUEUE: rawQueue,
      LOG_LEVEL: 'info',
    });
    await rawWorker.waitForLine((l) => l.includes('worker running'), 120_000);
    const txQueue = `tx-${run}`;
    const workerEnv = { POSTING_SERVICE_URL: `http://127.0.0.1:${mockPort}`, POSTING_TIMEOUT_MS: '1000' };
    let api: { url: string; process: ManagedProcess };
    let worker: ManagedProcess;
    if (flags['all-in-one']) {
      api = await startAllInOne(txQueue, workerEnv);
      worker = api.process; // both figures below are this one process's
    } else {
      worker = await spawnNode('worker', 'worker', {
        TASK_QUEUE: txQueue,
        ...workerEnv,
        LOG_LEVEL: 'info', // its ready line; it logs nothing per transaction at info
      });
      await worker.waitForLine((l) => l.includes('worker running'), 120_000);
      api = await startApi(txQueue);
    }
    // Both workers poll throughout; each round gives one side the server while the other's worker idles.
    const sides = {
      raw: { queue: rawQueue, type: 'twoActivities', done: 0, seconds: 0 },
      tx: { queue: txQueue, type: 'processTransaction', done: 0, seconds: 0 },
    };
    const startOf = {
      raw: (i: number) =>
        client.workflow
          .start('twoActivities', { taskQueue: rawQueue, workflowId: `raw2-${run}-${i}` })
          .then(() => undefined),
      tx: (i: number) => submit(api.url, `e2e-${run}-${i}`, 202),
    };
    const names = ['raw', 'tx'] as const;
    for (const { size, first, order } of takingTurns(SIZE.workflows, SIZE.rounds, names.length)) {
      for (const name of order.map((k) => names[k]!)) {
        const side = sides[name];
        const round = await completeAll(side.queue, side.type, size, (i) => startOf[name](first + i), first);
        side.done += size;
        side.seconds += round.seconds;
      }
    }
    const e2eOf = (side: { done: number; seconds: number }) => ({
      workflows: side.done,
      seconds: Math.round(side.seconds * 100) / 100,
      perSecond: side.done / side.seconds,
    });
    const rawE2e = e2eOf(sides.raw);
    const clean = e2eOf(sides.tx);
    await rawWorker.stop(10_000);
    const cleanStarts = await workflowStarts(api.url);
    line(`  raw: ${rawE2e.perSecond.toFixed(1)} workflows/s (${rawE2e.workflows} in ${rawE2e.seconds} s)`);
    line(
      `  txflow: ${clean.perSecond.toFixed(1)} transactions/s (${clean.workflows} in ${clean.seconds} s), ` +
        `${cleanStarts.eager} of ${cleanStarts.eager + cleanStarts.notEager} started eagerly`,
    );

    step('txflow: end to end, 20% pre-write and 10% post-write failures');
    await request(`http://127.0.0.1:${mockPort}/admin/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        preWriteFailureRate: 0.2,
        postWriteFailureRate: 0.1,
        postWriteMode: 'mixed',
        postWriteHangMs: 1_500,
      }),
      dispatcher: http,
    }).then((r) => r.body.dump());
    const faulty = await completeAll(
      txQueue,
      'processTransaction',
      SIZE.workflows,
      (i) => submit(api.url, `faulty-${run}-${i}`, 202),
      SIZE.workflows,
    );
    const allStarts = await workflowStarts(api.url);
    const faultyStarts = {
      eager: allStarts.eager - cleanStarts.eager,
      notEager: allStarts.notEager - cleanStarts.notEager,
    };
    line(
      `  ${faulty.perSecond.toFixed(1)} transactions/s (${SIZE.workflows} in ${faulty.seconds.toFixed(1)} s), ` +
        `${faultyStarts.eager} of ${faultyStarts.eager + faultyStarts.notEager} started eagerly`,
    );
    const mockStats = (await (
      await request(`http://127.0.0.1:${mockPort}/admin/stats`, { dispatcher: http })
    ).body.json()) as {
      posts: number;
      distinctIds: number;
      duplicates: string[];
      faults: Record<string, number>;
    };

    const apiStats = await processStats(api.process.pid ?? -1);
    const workerStats = await processStats(worker.pid ?? -1);
    const ratios = {
      accept: CONCURRENCIES.map((c, i) => ({
        concurrency: c,
        ratio: accepts[i]!.perSecond / rawStarts[i]!.perSecond,
      })),
      endToEnd: clean.perSecond / rawE2e.perSecond,
      endToEndWithFaults: faulty.perSecond / rawE2e.perSecond,
    };
    const peak = (...stats: (ProcessStats | undefined)[]) => {
      const known = stats.flatMap((s) => (s ? [s.peakRssMb] : []));
      return known.length > 0 ? Math.max(...known) : null;
    };
    const targets = judgeTargets({
      acceptRatios: ratios.accept,
      endToEndRatio: ratios.endToEnd,
      halfRate: { fresh: half.fresh, repeats: half.repeats, errors: half.errors },
      peakRssMb: flags['all-in-one']
        ? { api: peak(acceptStats), 'all-in-one': peak(workerStats) } // the accept step's API is its own process
        : { api: peak(acceptStats, apiStats), worker: peak(workerStats) },
    });
    const result = {
      run,
      at: new Date().toISOString(),
      quick: flags.quick,
      eagerActivities: flags['eager-activities'],
      allInOne: flags['all-in-one'],
      cpus: split ?? 'shared',
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      raw: { starts: rawStarts, halfRate: rawHalf, twoActivityWorkflows: rawE2e },
      // txflow's start request sent by the raw client from this process: the server's share of the gap.
      txflowStartWithoutApi: serviceStarts,
      txflowStartWithoutApiHalfRate: serviceHalf,
      txflow: {
        accepts,
        duplicates,
        halfRate: half,
        endToEnd: clean,
        endToEndWithFaults: faulty,
        workflowStarts: { endToEnd: cleanStarts, endToEndWithFaults: faultyStarts },
        downstream: {
          distinctIds: mockStats.distinctIds,
          duplicates: mockStats.duplicates.length,
          faults: mockStats.faults,
        },
        processes: { acceptApi: acceptStats, api: apiStats, worker: workerStats },
      },
      ratios,
      targets,
    };
    printSummary(
      ratios,
      flags['all-in-one'] ? { 'all-in-one': apiStats } : { api: apiStats, worker: workerStats },
      result.txflow.downstream,
      targets,
    );
    await mkdir(flags.out, { recursive: true });
    const file = path.join(flags.out, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    line(`\nresults: ${file}`);
    if (mockStats.duplicates.length > 0) process.exitCode = 1;
  } finally {
    for (const child of children.reverse()) await child.stop(10_000);
    await http.close();
    await connection.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }

  /** A txflow process, or the bench's own raw worker (no-op workflows; plain node, no flags). */
  function spawnNode(name: string, component: TxflowProcess | 'raw-worker', env: Record<string, string>) {
    // warn: request logs of the API would cost this process (reading its pipe) as much as the API.
    const childEnv = { ...process.env, TEMPORAL_ADDRESS: server.address, LOG_LEVEL: 'warn', ...env };
    const child =
      component === 'raw-worker'
        ? spawnManaged({
            name,
            command: process.execPath,
            args: [path.join(__dirname, 'raw-worker-main.js')],
            env: childEnv,
          })
        : spawnTxflow({ name, component, env: childEnv });
    children.push(child);
    return Promise.resolve(child);
  }

  async function startApi(taskQueue: string) {
    const port = await freePort();
    const proc = await spawnNode(`api-${taskQueue}`, 'api', {
      PORT: String(port),
      TASK_QUEUE: taskQueue,
      ...API_POLICY_ENV,
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttpOk(`${url}/api/health`, { timeoutMs: 60_000 });
    return { url, process: proc };
  }

  /** The end-to-end steps' API and worker as one all-in-one process (eager workflow start on, its default). */
  async function startAllInOne(taskQueue: string, workerEnv: Record<string, string>) {
    const port = await freePort();
    const proc = await spawnNode(`all-in-one-${taskQueue}`, 'all-in-one', {
      PORT: String(port),
      TASK_QUEUE: taskQueue,
      ...workerEnv,
      ...API_POLICY_ENV, // so that both modes run the same transactions
    });
    const url = `http://127.0.0.1:${port}`;
    // It listens only once its worker runs.
    await waitForHttpOk(`${url}/api/health`, { timeoutMs: 120_000, process: proc });
    return { url, process: proc };
  }

  /** An API's workflow starts so far, by whether the server started them eagerly (its /metrics). */
  async function workflowStarts(base: string) {
    const text = await (await request(`${base}/metrics`, { dispatcher: http })).body.text();
    const count = (eager: string) =>
      Number(
        new RegExp(`^txflow_api_workflow_starts_total\\{eager="${eager}"\\} (\\d+)$`, 'm').exec(text)?.[1] ??
          Number.NaN,
      );
    return { eager: count('true'), notEager: count('false') };
  }

  /**
   * CPU seconds so far of the dev server, this process (the load: the raw client or the HTTP client) and the
   * given processes: where each side's CPU per call goes, on a machine where they all share the cores.
   */
  function cpuOf(others: Record<string, number | undefined>): CpuMeter {
    const pids = { server: 'process' in server ? server.process.pid : undefined, ...others };
    return async () => {
      const out: Record<string, number> = {};
      for (const [name, pid] of Object.entries(pids)) {
        const stats = pid === undefined ? undefined : await processStats(pid);
        if (stats) out[name] = stats.cpuSeconds;
      }
      const own = process.cpuUsage();
      out.load = (own.user + own.system) / 1e6;
      return out;
    };
  }

  async function submit(base: string, id: string, expected: number | number[]) {
    const res = await request(`${base}/api/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(transactionBody(id)),
      dispatcher: http,
    });
    await res.body.dump();
    if (![expected].flat().includes(res.statusCode)) throw new Error(`${id}: ${res.statusCode}`);
  }

  /** Starts `count` workflows with 64 callers and waits until visibility shows them completed. */
  async function completeAll(
    taskQueue: string,
    type: string,
    count: number,
    start: (i: number) => Promise<void>,
    alreadyCompleted = 0,
  ) {
    const t0 = Date.now();
    const starts = await closedLoop(64, count, start);
    if (starts.errors > 0) throw new Error(`${starts.errors} starts failed`);
    const query = `TaskQueue = "${taskQueue}" AND WorkflowType = "${type}" AND ExecutionStatus = "Completed"`;
    const deadline = Date.now() + 600_000;
    for (;;) {
      const { count: done } = await client.workflow.count(query);
      if (done >= alreadyCompleted + count) break;
      if (Date.now() > deadline) throw new Error(`only ${done - alreadyCompleted} of ${count} completed`);
      await sleep(100);
    }
    const seconds = (Date.now() - t0) / 1000;
    return { workflows: count, seconds, perSecond: count / seconds };
  }
});

/** The bench's transaction, as a client of /api/transactions sends it. */
function transactionBody(id: string) {
  return { id, amount: '10.00', currency: 'EUR', source_account: 'acc_a', destination_account: 'acc_b' };
}

function step(title: string) {
  line(`\n${title}`);
}

function line(text: string) {
  process.stdout.write(`${text}\n`);
}

function report(label: string, r: LoopResult) {
  const cpu = Object.entries(r.cpuMsPerOperation ?? {})
    .map(([name, ms]) => `${name} ${ms}`)
    .join(', ');
  line(
    `${label.padEnd(24)} ${r.perSecond.toFixed(1).padStart(7)}/s  p50 ${r.latencyMs.p50} ms  p90 ${r.latencyMs.p90} ms  p99 ${r.latencyMs.p99} ms  max ${r.latencyMs.max} ms${r.errors ? `  errors ${r.errors}` : ''}`,
  );
  if (cpu) line(`${''.padEnd(26)}CPU ms per call: ${cpu}`);
}

function printSummary(
  ratios: { accept: { concurrency: number; ratio: number }[]; endToEnd: number; endToEndWithFaults: number },
  procs: Record<string, ProcessStats | undefined>,
  downstream: { distinctIds: number; duplicates: number },
  targets: TargetVerdict[],
) {
  step('txflow / raw');
  for (const r of ratios.accept)
    line(`  accept rate, ${r.concurrency} clients: ${(r.ratio * 100).toFixed(0)}%`);
  line(
    `  end to end: ${(ratios.endToEnd * 100).toFixed(0)}%   with faults: ${(ratios.endToEndWithFaults * 100).toFixed(0)}%`,
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
