/**
 * Measures the time from POST to a final answer: with `Prefer: wait=N` against submit + polling GET, at a fixed
 * open-loop rate, alternating the two so both see the same load. Against a running txflow (`npm start`); run
 * by hand, it takes the machine's CPUs for its duration:
 *   node dist/test/tools/wait-latency.js --url http://127.0.0.1:3000 --rate 11 --seconds 60
 * Prints a table and writes JSON to results/wait-latency-<time>.json (or --out).
 *
 * The default rate, 11/s, is half of what the bench measured end to end (22.3 transactions/s through the API,
 * docs/performance.md). Half of the top *accept* rate (82/s) would outrun the worker: every transaction would
 * queue, and both ways would measure the backlog rather than how a client learns the outcome.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

export interface WaitLatencyOptions {
  url: string;
  /** Transactions started per second, half of them each way. */
  rate: number;
  seconds: number;
  /** N of `Prefer: wait=N`; a 202 after it falls back to polling. */
  waitSeconds: number;
  /** The polling client's interval between GETs. */
  pollMs: number;
}

type Mode = 'wait' | 'poll';

interface Sample {
  mode: Mode;
  /** POST sent to final status known, in ms; undefined when it failed or did not end. */
  ms?: number;
  requests: number;
  /** A `Prefer: wait` answered 202: the client polled after it. */
  fellBack: boolean;
  error?: string;
}

export interface ModeSummary {
  transactions: number;
  final: number;
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  requestsPerTransaction: number;
  fellBack: number;
}

export interface WaitLatencyReport {
  options: WaitLatencyOptions;
  startedAt: string;
  offeredRate: number;
  modes: Record<Mode, ModeSummary>;
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);
/** A transaction not final this long after its POST counts as an error. */
const GIVE_UP_MS = 120_000;

const body = (id: string) => ({
  id,
  amount: '10.00',
  currency: 'EUR',
  source_account: 'acc_a',
  destination_account: 'acc_b',
});

async function post(url: string, id: string, prefer?: string) {
  const res = await fetch(`${url}/api/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(prefer && { prefer }) },
    body: JSON.stringify(body(id)),
  });
  const json = (await res.json()) as { status?: string };
  return { status: res.status, txStatus: json.status };
}

/** GETs every `pollMs` until the status is final; the number of GETs. */
async function pollUntilFinal(url: string, id: string, pollMs: number, started: number): Promise<number> {
  for (let gets = 1; ; gets++) {
    await sleep(pollMs);
    const res = await fetch(`${url}/api/transactions/${encodeURIComponent(id)}`);
    const json = (await res.json()) as { status?: string };
    if (json.status && FINAL.has(json.status)) return gets;
    if (performance.now() - started > GIVE_UP_MS) throw new Error(`not final after ${GIVE_UP_MS} ms`);
  }
}

async function one(options: WaitLatencyOptions, mode: Mode, id: string): Promise<Sample> {
  const started = performance.now();
  const sample: Sample = { mode, requests: 1, fellBack: false };
  try {
    const prefer = mode === 'wait' ? `wait=${options.waitSeconds}` : undefined;
    const answer = await post(options.url, id, prefer);
    if (answer.status >= 400) throw new Error(`POST answered ${answer.status}`);
    const final = answer.txStatus !== undefined && FINAL.has(answer.txStatus);
    if (!final) {
      sample.fellBack = mode === 'wait';
      sample.requests += await pollUntilFinal(options.url, id, options.pollMs, started);
    }
    sample.ms = performance.now() - started;
  } catch (err) {
    sample.error = err instanceof Error ? err.message : String(err);
  }
  return sample;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN);

function summarize(samples: Sample[]): ModeSummary {
  const times = samples.flatMap((s) => (s.ms === undefined ? [] : [s.ms])).sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    transactions: samples.length,
    final: times.length,
    errors: samples.filter((s) => s.error !== undefined).length,
    p50Ms: round(percentile(times, 0.5)),
    p90Ms: round(percentile(times, 0.9)),
    p99Ms: round(percentile(times, 0.99)),
    maxMs: round(times.at(-1) ?? NaN),
    meanMs: round(times.reduce((a, b) => a + b, 0) / times.length),
    requestsPerTransaction: round(samples.reduce((a, s) => a + s.requests, 0) / samples.length),
    fellBack: samples.filter((s) => s.fellBack).length,
  };
}

/** Sends `rate × seconds` transactions on a fixed schedule (open loop), alternating wait and poll. */
export async function measureWaitLatency(options: WaitLatencyOptions): Promise<WaitLatencyReport> {
  const startedAt = new Date().toISOString();
  const total = Math.max(2, Math.round(options.rate * options.seconds));
  const prefix = `wl-${Date.now().toString(36)}`;
  const start = performance.now();
  const running: Promise<Sample>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / options.rate;
    const delay = due - performance.now();
    if (delay > 0) await sleep(delay);
    running.push(one(options, i % 2 === 0 ? 'wait' : 'poll', `${prefix}-${i}`));
  }
  const samples = await Promise.all(running);
  const of = (mode: Mode) => summarize(samples.filter((s) => s.mode === mode));
  return { options, startedAt, offeredRate: options.rate, modes: { wait: of('wait'), poll: of('poll') } };
}

function table(report: WaitLatencyReport): string {
  const columns = [
    'mode',
    'final/sent',
    'errors',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'max ms',
    'req/tx',
    '202→poll',
  ];
  const rows = (['wait', 'poll'] as const).map((mode) => {
    const m = report.modes[mode];
    const label =
      mode === 'wait' ? `Prefer: wait=${report.options.waitSeconds}` : `poll ${report.options.pollMs} ms`;
    return [
      label,
      `${m.final}/${m.transactions}`,
      m.errors,
      m.p50Ms,
      m.p90Ms,
      m.p99Ms,
      m.maxMs,
      m.requestsPerTransaction,
      m.fellBack,
    ].map(String);
  });
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [columns, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')).join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:3000' },
      rate: { type: 'string', default: '11' },
      seconds: { type: 'string', default: '60' },
      wait: { type: 'string', default: '30' },
      'poll-ms': { type: 'string', default: '250' },
      out: { type: 'string' },
    },
  });
  const positive = (name: string, value: string) => {
    const n = Number(value);
    if (!(n > 0)) throw new Error(`--${name} must be a positive number, not ${value}`);
    return n;
  };
  const options: WaitLatencyOptions = {
    url: values.url.replace(/\/+$/, ''),
    rate: positive('rate', values.rate),
    seconds: positive('seconds', values.seconds),
    waitSeconds: positive('wait', values.wait),
    pollMs: positive('poll-ms', values['poll-ms']),
  };
  console.log(`${options.rate}/s for ${options.seconds} s against ${options.url}, half each way…`);
  const report = await measureWaitLatency(options);
  console.log(table(report));
  const out =
    values.out ?? path.join('results', `wait-latency-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written to ${out}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
