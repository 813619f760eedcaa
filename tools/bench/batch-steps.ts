// The bench's batch step (no worker): the same number of new transactions submitted singly by 16 clients, then
// in batches of each size through POST /api/transactions/batch, with the API's resident memory sampled.
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { closedLoop } from './closed-loop';
import type { BenchSize } from './options';
import { line, step } from './report';
import { transactionBody, type BenchRig, type RunningApi } from './rig';

export interface BatchRate {
  /** `single x16` or `batch <size>`. */
  mode: string;
  transactions: number;
  accepted: number;
  seconds: number;
  perSecond: number;
  /** The API's RSS before and at its highest during this mode (MB, from /proc). */
  rssMb: { before: number; peak: number } | null;
}

const SINGLE_CLIENTS = 16;

export async function measureBatches(rig: BenchRig, api: RunningApi, size: BenchSize): Promise<BatchRate[]> {
  const n = size.batchTransactions;
  step(
    `batches: ${n} new transactions singly (${SINGLE_CLIENTS} clients), then in batches of ${size.batchSizes.join(', ')}`,
  );
  const pid = api.process.pid;
  const rates: BatchRate[] = [];
  const singles = await sampled(pid, async () => {
    const loop = await closedLoop(SINGLE_CLIENTS, n, (i) => rig.submit(api.url, `bs-${rig.run}-${i}`, 202));
    return n - loop.errors;
  });
  rates.push({ mode: `single x${SINGLE_CLIENTS}`, transactions: n, ...singles });
  for (const batchSize of size.batchSizes) {
    const prefix = `bb${batchSize}-${rig.run}`;
    const batches = await sampled(pid, async () => {
      let accepted = 0;
      for (let first = 0; first < n; first += batchSize) {
        const ids = Array.from(
          { length: Math.min(batchSize, n - first) },
          (_, i) => `${prefix}-${first + i}`,
        );
        accepted += await submitBatch(rig, api.url, ids);
      }
      return accepted;
    });
    rates.push({ mode: `batch ${batchSize}`, transactions: n, ...batches });
  }
  for (const r of rates) {
    const rss = r.rssMb ? `  API RSS ${r.rssMb.before} -> ${r.rssMb.peak} MB` : '';
    line(
      `  ${r.mode.padEnd(12)} ${r.perSecond.toFixed(1).padStart(7)} transactions/s  (${r.accepted}/${r.transactions} accepted in ${r.seconds.toFixed(1)} s)${rss}`,
    );
  }
  return rates;
}

/** One batch of new transactions; the count the API accepted (a batch answers 200 with a summary). */
async function submitBatch(rig: BenchRig, base: string, ids: string[]): Promise<number> {
  const res = await request(`${base}/api/transactions/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ transactions: ids.map(transactionBody) }),
    dispatcher: rig.http,
  });
  const body = (await res.body.json()) as { summary?: { accepted?: number } };
  if (res.statusCode !== 200) throw new Error(`batch answered ${res.statusCode}: ${JSON.stringify(body)}`);
  return body.summary?.accepted ?? 0;
}

/** Runs `submit` while sampling the API's RSS every 50 ms; its rate and memory. */
async function sampled(
  pid: number | undefined,
  submit: () => Promise<number>,
): Promise<Omit<BatchRate, 'mode' | 'transactions'>> {
  const before = await rssMb(pid);
  let peak = before;
  const sampler = setInterval(() => {
    void rssMb(pid).then((now) => {
      if (now !== undefined && (peak === undefined || now > peak)) peak = now;
    });
  }, 50);
  const t0 = process.hrtime.bigint();
  const accepted = await submit().finally(() => clearInterval(sampler));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const perSecond = accepted / seconds;
  const rss = before !== undefined && peak !== undefined ? { before, peak } : null;
  return { accepted, seconds, perSecond, rssMb: rss };
}

/** The current resident set (VmRSS, not the lifetime peak) in MB, or undefined off Linux. */
async function rssMb(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
}
