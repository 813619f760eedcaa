/**
 * Batch vs single submission throughput against a running API (not part of npm test; it loads the machine).
 * Submits N new transactions singly (C requests in flight), then in batches of each size (one batch in flight:
 * the API keeps its own 16 starts in flight per batch), and prints submissions/s; with --api-pid, also the API's
 * idle and peak RSS per mode (from /proc). Writes the figures as JSON.
 *   node dist/test/tools/batch-throughput.js --api http://127.0.0.1:3000 --n 2000 --concurrency 16 \
 *     --batch-sizes 100,1000 [--api-pid <pid>] [--out results/batch-throughput.json] [--api-key <key>]
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ModeResult {
  mode: string;
  submitted: number;
  accepted: number;
  seconds: number;
  perSecond: number;
  idleRssMb?: number;
  peakRssMb?: number;
}

const { values } = parseArgs({
  options: {
    api: { type: 'string', default: 'http://127.0.0.1:3000' },
    n: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    'batch-sizes': { type: 'string', default: '100,1000' },
    'api-pid': { type: 'string' },
    'api-key': { type: 'string' },
    out: { type: 'string', default: 'results/batch-throughput.json' },
  },
});
const api = values.api.replace(/\/+$/, '');
const n = Number(values.n);
const concurrency = Number(values.concurrency);
const batchSizes = values['batch-sizes'].split(',').map(Number);
const apiPid = values['api-pid'];
const headers = {
  'content-type': 'application/json',
  ...(values['api-key'] && { authorization: `Bearer ${values['api-key']}` }),
};

const transaction = (run: string, i: number) => ({
  id: `bt-${run}-${i}`,
  amount: '10.00',
  currency: 'EUR',
  source_account: 'acc_a',
  destination_account: 'acc_b',
});

/** The API's resident set in MB, from /proc (Linux); undefined without --api-pid. */
function rssMb(): number | undefined {
  if (!apiPid) return undefined;
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${apiPid}/status`, 'utf8'))?.[1];
  return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
}

async function post(pathname: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${api}${pathname}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

async function singles(run: string): Promise<number> {
  let next = 0;
  let accepted = 0;
  const worker = async () => {
    while (next < n) {
      const { status } = await post('/api/transactions', transaction(run, next++));
      if (status === 202) accepted++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return accepted;
}

async function batches(run: string, size: number): Promise<number> {
  let accepted = 0;
  for (let start = 0; start < n; start += size) {
    const items = Array.from({ length: Math.min(size, n - start) }, (_, i) => transaction(run, start + i));
    const { status, json } = await post('/api/transactions/batch', { transactions: items });
    if (status !== 200) throw new Error(`batch answered ${status}: ${JSON.stringify(json).slice(0, 300)}`);
    accepted += (json as { summary: { accepted: number } }).summary.accepted;
  }
  return accepted;
}

async function measure(mode: string, submit: (run: string) => Promise<number>): Promise<ModeResult> {
  const idleRssMb = rssMb();
  let peakRssMb = idleRssMb;
  const sampler = setInterval(() => {
    const now = rssMb();
    if (now !== undefined && (peakRssMb === undefined || now > peakRssMb)) peakRssMb = now;
  }, 50);
  const started = process.hrtime.bigint();
  const accepted = await submit(randomUUID().slice(0, 8)).finally(() => clearInterval(sampler));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const result = { mode, submitted: n, accepted, seconds, perSecond: Math.round(n / seconds) };
  return apiPid ? { ...result, idleRssMb, peakRssMb } : result;
}

async function main() {
  const results: ModeResult[] = [await measure(`single x${concurrency}`, singles)];
  for (const size of batchSizes) results.push(await measure(`batch ${size}`, (run) => batches(run, size)));
  for (const r of results) {
    const rss = r.peakRssMb === undefined ? '' : `  RSS ${r.idleRssMb} -> ${r.peakRssMb} MB`;
    console.log(
      `${r.mode.padEnd(12)} ${String(r.perSecond).padStart(6)} submissions/s  (${r.accepted}/${r.submitted} accepted in ${r.seconds.toFixed(1)} s)${rss}`,
    );
  }
  await mkdir(path.dirname(values.out), { recursive: true });
  await writeFile(
    values.out,
    `${JSON.stringify({ api, n, concurrency, at: new Date().toISOString(), results }, null, 2)}\n`,
  );
  console.log(`written to ${values.out}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
