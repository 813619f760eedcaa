import { z } from 'zod';
import { MAX_DELAY_MS } from '../mock/config';
import { FlagError, parseCommandLine, renderUsage, type CommandSpec, type FlagSpec } from '../shared/cli';
import { randomSeed } from '../shared/random';

export { FlagError } from '../shared/cli';

export const PHASES = ['warmup', 'performance', 'stress'] as const;
export type PhaseKind = (typeof PHASES)[number];
export type Arrival = 'uniform' | 'poisson';

/** Downstream fault knobs to set on the mock for the run (PUT /admin/faults); unset ones are left alone. */
export interface FaultFlags {
  preWriteFailureRate?: number;
  postWriteFailureRate?: number;
  getFailureRate?: number;
  postLatencyMs?: { min: number; max: number };
  postWriteMode?: 'error' | 'hang' | 'mixed';
}

export interface LoadTestOptions {
  /** Base URL of the txflow API. */
  api: string;
  /** Base URL of the mock posting service (faults, stats, rows); null runs without downstream checks. */
  mock: string | null;
  phases: PhaseKind[];
  warmupSeconds: number;
  warmupRate: number;
  /** New transactions per second of the performance phase (duplicates come on top). */
  rate: number;
  /** Length of the performance phase; ignored when `transactions` is set. */
  durationSeconds: number;
  /** Number of new transactions of the performance phase (alternative to durationSeconds). */
  transactions: number | null;
  stressStart: number;
  stressStep: number;
  stressStepSeconds: number;
  stressMax: number;
  /** A stress step keeps up when its accepted/s reaches this share of its planned submissions/s... */
  kneeAcceptRatio: number;
  /** ...and its p99 submit latency (from the planned send time) stays at or under this. */
  kneeP99Ms: number;
  arrival: Arrival;
  /** Share of all submissions that re-send an earlier transaction (same ID, same body). */
  duplicates: number;
  /** Share of transactions sent through POST /v1/webhooks/transactions instead of /api/transactions. */
  webhookShare: number;
  faults: FaultFlags;
  /** After the last send, how long every accepted transaction has to reach completed or failed. */
  deadlineSeconds: number;
  /**
   * Per-ID status polls per second while load is being sent, when they are the only way to learn statuses
   * (no listing); kept low so polling does not become the load.
   */
  pollRate: number;
  /** The same after the last send, while waiting for the stragglers. */
  drainPollRate: number;
  /** Seconds between listing sweeps (GET /api/transactions by final status) while load is sent; 0: none. */
  sweepSeconds: number;
  /** The same after the last send. */
  drainSweepSeconds: number;
  /** Per-ID polls per second at most while the listing sweep works (lookups, attempts, stragglers). */
  sweepPollRate: number;
  /** Keep-alive connections to the API for submissions. */
  connections: number;
  requestTimeoutMs: number;
  out: string;
  /** POST /cleanup on the mock before starting (deletes every row, also other runs'). */
  cleanup: boolean;
  seed: number;
  quick: boolean;
  /** No live progress output. */
  quiet: boolean;
}

/** A flag; its --help default is `note` when given, else its full run's default (and --quick's, if other). */
interface Flag extends FlagSpec {
  note?: string;
}

const FLAGS = {
  api: { type: 'string', help: 'txflow API base URL' },
  mock: { type: 'string', help: 'mock posting service base URL; "none": no faults, no downstream check' },
  phases: { type: 'string', help: 'phases to run, comma-separated' },
  'warmup-seconds': { type: 'string', help: 'warm-up length' },
  'warmup-rate': { type: 'string', help: 'warm-up transactions/s', note: 'half of --rate' },
  rate: { type: 'string', help: 'performance phase: new transactions/s (open loop)' },
  duration: { type: 'string', help: 'performance phase length in seconds' },
  transactions: { type: 'string', help: 'performance phase: this many transactions instead of --duration' },
  'stress-start': { type: 'string', help: 'stress: first step, transactions/s' },
  'stress-step': { type: 'string', help: 'stress: added per step' },
  'stress-step-seconds': { type: 'string', help: 'stress: length of each step' },
  'stress-max': { type: 'string', help: 'stress: highest step rate' },
  'knee-accept-ratio': {
    type: 'string',
    help: 'stress: a step keeps up when accepted/s >= this x planned/s',
  },
  'knee-p99-ms': { type: 'string', help: 'stress: ...and its p99 submit latency <= this' },
  arrival: { type: 'string', help: 'arrival process: uniform or poisson' },
  duplicates: { type: 'string', help: 'share of submissions that re-send a transaction (same ID, body)' },
  'webhook-share': { type: 'string', help: 'share of transactions sent via /v1/webhooks/transactions' },
  'pre-write': { type: 'string', help: 'mock: share of POSTs failing before storing', note: 'unchanged' },
  'post-write': { type: 'string', help: 'mock: share of POSTs stored, then failing', note: 'unchanged' },
  'post-write-mode': {
    type: 'string',
    help: 'mock: post-write failure as error, hang or mixed',
    note: 'unchanged',
  },
  'get-failure': { type: 'string', help: 'mock: share of GETs failing', note: 'unchanged' },
  'post-latency': { type: 'string', help: 'mock: POST latency range in ms, "min-max"', note: 'unchanged' },
  'deadline-seconds': { type: 'string', help: 'after the last send, time for every accepted one to finish' },
  'poll-rate': { type: 'string', help: 'per-ID status polls/s during the load (without a listing)' },
  'drain-poll-rate': { type: 'string', help: 'per-ID status polls/s after the load (without a listing)' },
  'sweep-seconds': { type: 'string', help: 'listing sweep of final statuses every this many s (0: none)' },
  'drain-sweep-seconds': { type: 'string', help: 'the same after the load' },
  'sweep-poll-rate': { type: 'string', help: 'per-ID status polls/s at most while the listing sweep works' },
  connections: { type: 'string', help: 'keep-alive connections for submissions' },
  'request-timeout-ms': { type: 'string', help: 'one submission or poll' },
  out: { type: 'string', help: 'folder of the JSON and HTML reports' },
  seed: { type: 'string', help: 'seed of the workload (amounts, dialects, duplicates)', note: 'random' },
  cleanup: { type: 'boolean', help: 'POST /cleanup on the mock first (deletes all its rows)' },
  quick: { type: 'boolean', help: 'a tiny run for CI (its defaults in parentheses)' },
  quiet: { type: 'boolean', help: 'no live progress' },
} satisfies Record<string, Flag>;

const number = (min: number, max: number, whole = false) =>
  z
    .string()
    .regex(whole ? /^\d+$/ : /^\d+(\.\d+)?$/, {
      message: whole ? 'must be a whole number' : 'must be a number',
    })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { message: `must be at least ${min}` })
        .max(max, { message: `must be at most ${max}` }),
    );

const share = number(0, 1);
const positive = (max: number) => number(0, max).refine((n) => n > 0, { message: 'must be greater than 0' });

const url = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, { message: 'must be an http(s) URL' })
  .transform((u) => u.replace(/\/+$/, ''));

const latencyRange = z
  .string()
  .regex(/^\d{1,9}(-\d{1,9})?$/, { message: 'must be "min-max" or "ms" in milliseconds, e.g. "0-50"' })
  .transform((text) => {
    const [min = 0, max = min] = text.split('-').map(Number);
    return { min, max };
  })
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max' })
  .refine((r) => r.max <= MAX_DELAY_MS, { message: `must be at most ${MAX_DELAY_MS}` });

const phaseList = z
  .string()
  .transform((s) => s.split(',').map((p) => p.trim()))
  .pipe(z.array(z.enum(PHASES, { message: `each must be one of ${PHASES.join(', ')}` })))
  .refine((list) => list.length > 0, { message: 'must name at least one phase' })
  // Phases always run in their natural order, each once.
  .transform((list) => PHASES.filter((p) => list.includes(p)));

const flagsSchema = z.object({
  api: url,
  mock: z.union([z.enum(['none', '']).transform(() => null), url]),
  phases: phaseList,
  'warmup-seconds': number(0, 3_600),
  'warmup-rate': positive(10_000).optional(),
  rate: positive(10_000),
  duration: positive(86_400),
  transactions: number(1, 10_000_000, true).optional(),
  'stress-start': positive(10_000),
  'stress-step': number(0, 10_000),
  'stress-step-seconds': positive(3_600),
  'stress-max': positive(10_000),
  'knee-accept-ratio': share,
  'knee-p99-ms': positive(600_000),
  arrival: z.enum(['uniform', 'poisson'], { message: 'must be uniform or poisson' }),
  duplicates: number(0, 0.5),
  'webhook-share': share,
  'pre-write': share.optional(),
  'post-write': share.optional(),
  'post-write-mode': z
    .enum(['error', 'hang', 'mixed'], { message: 'must be error, hang or mixed' })
    .optional(),
  'get-failure': share.optional(),
  'post-latency': latencyRange.optional(),
  'deadline-seconds': number(0, 86_400),
  'poll-rate': positive(10_000),
  'drain-poll-rate': positive(10_000),
  'sweep-seconds': number(0, 3_600),
  'drain-sweep-seconds': number(0, 3_600),
  'sweep-poll-rate': positive(10_000),
  connections: number(1, 10_000, true),
  'request-timeout-ms': number(1, 600_000, true),
  out: z.string().min(1, { message: 'must be a folder' }),
  seed: number(0, 0xffff_ffff, true).optional(),
  cleanup: z.boolean(),
  quick: z.boolean(),
  quiet: z.boolean(),
});

const FULL_DEFAULTS: Record<string, string> = {
  api: 'http://127.0.0.1:3000',
  mock: 'http://127.0.0.1:8080',
  phases: PHASES.join(','),
  'warmup-seconds': '10',
  rate: '20',
  duration: '60',
  'stress-start': '20',
  'stress-step': '20',
  'stress-step-seconds': '15',
  'stress-max': '200',
  'knee-accept-ratio': '0.95',
  'knee-p99-ms': '1000',
  arrival: 'uniform',
  duplicates: '0.1',
  'webhook-share': '0.3',
  'deadline-seconds': '180',
  'poll-rate': '10',
  'drain-poll-rate': '100',
  'sweep-seconds': '5',
  'drain-sweep-seconds': '2',
  'sweep-poll-rate': '5',
  connections: '128',
  'request-timeout-ms': '30000',
  out: 'results',
};

/** --quick: about 230 transactions (255 submissions) in 15 s of load, for CI. */
const QUICK_DEFAULTS: Record<string, string> = {
  ...FULL_DEFAULTS,
  'warmup-seconds': '2',
  rate: '10',
  duration: '4',
  'stress-start': '10',
  'stress-step': '10',
  'stress-step-seconds': '3',
  'stress-max': '30',
  'deadline-seconds': '60',
};

export type ParsedFlags = { help: true } | { help: false; options: LoadTestOptions };

/** Parses and validates the command line; throws FlagError naming each bad flag. */
export function parseFlags(argv: readonly string[], drawSeed: () => number = randomSeed): ParsedFlags {
  const parsed = parseCommandLine(command(), argv);
  if (parsed.help) return { help: true };
  return { help: false, options: optionsFromFlags(parsed.values, drawSeed) };
}

/** Options from flag values (as parseArgs gives them: strings and booleans), with defaults applied. */
export function optionsFromFlags(
  values: Record<string, string | boolean | undefined>,
  drawSeed: () => number = randomSeed,
): LoadTestOptions {
  const quick = values.quick === true;
  const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
  const input = {
    ...(quick ? QUICK_DEFAULTS : FULL_DEFAULTS),
    ...given,
    cleanup: values.cleanup === true,
    quick,
    quiet: values.quiet === true,
  };
  const parsed = flagsSchema.safeParse(input);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const flag = String(issue.path[0] ?? '');
      problems.push(`--${flag}=${JSON.stringify(input[flag as keyof typeof input] ?? '')}: ${issue.message}`);
    }
    throw new FlagError(`Invalid flags:\n  ${problems.join('\n  ')}`);
  }
  const f = parsed.data;
  if (given.duration !== undefined && given.transactions !== undefined) {
    problems.push('--duration, --transactions: give one of them, not both');
  }
  if (f['stress-max'] < f['stress-start']) {
    problems.push(`--stress-max=${f['stress-max']}: must be at least --stress-start (${f['stress-start']})`);
  }
  const faultFlags = (
    ['pre-write', 'post-write', 'post-write-mode', 'get-failure', 'post-latency'] as const
  ).filter((name) => given[name] !== undefined);
  if (f.mock === null && faultFlags.length > 0) {
    problems.push(`--${faultFlags[0]}: needs a mock (--mock is "none")`);
  }
  if (f.mock === null && f.cleanup) problems.push('--cleanup: needs a mock (--mock is "none")');
  if (problems.length > 0) throw new FlagError(`Invalid flags:\n  ${problems.join('\n  ')}`);

  const faults: FaultFlags = {};
  if (f['pre-write'] !== undefined) faults.preWriteFailureRate = f['pre-write'];
  if (f['post-write'] !== undefined) faults.postWriteFailureRate = f['post-write'];
  if (f['post-write-mode'] !== undefined) faults.postWriteMode = f['post-write-mode'];
  if (f['get-failure'] !== undefined) faults.getFailureRate = f['get-failure'];
  if (f['post-latency'] !== undefined) faults.postLatencyMs = f['post-latency'];

  return {
    api: f.api,
    mock: f.mock,
    phases: f.phases,
    warmupSeconds: f['warmup-seconds'],
    warmupRate: f['warmup-rate'] ?? f.rate / 2,
    rate: f.rate,
    durationSeconds: f.transactions !== undefined ? f.transactions / f.rate : f.duration,
    transactions: f.transactions ?? null,
    stressStart: f['stress-start'],
    stressStep: f['stress-step'],
    stressStepSeconds: f['stress-step-seconds'],
    stressMax: f['stress-max'],
    kneeAcceptRatio: f['knee-accept-ratio'],
    kneeP99Ms: f['knee-p99-ms'],
    arrival: f.arrival,
    duplicates: f.duplicates,
    webhookShare: f['webhook-share'],
    faults,
    deadlineSeconds: f['deadline-seconds'],
    pollRate: f['poll-rate'],
    drainPollRate: f['drain-poll-rate'],
    sweepSeconds: f['sweep-seconds'],
    drainSweepSeconds: f['drain-sweep-seconds'],
    sweepPollRate: f['sweep-poll-rate'],
    connections: f.connections,
    requestTimeoutMs: f['request-timeout-ms'],
    out: f.out,
    cleanup: f.cleanup,
    seed: f.seed ?? drawSeed(),
    quick: f.quick,
    quiet: f.quiet,
  };
}

/** Options as a program would build them: the defaults (of --quick when asked) and the given overrides. */
export function loadTestOptions(overrides: Partial<LoadTestOptions> = {}): LoadTestOptions {
  return { ...optionsFromFlags({ quick: overrides.quick === true }), ...overrides };
}

/** The command line: every flag with its default for a full run and, where other, for --quick. */
function command(): CommandSpec {
  const flags = Object.fromEntries(
    Object.entries(FLAGS).map(([name, f]: [string, Flag]) => {
      const full = f.note ?? FULL_DEFAULTS[name] ?? '';
      const quick = f.note ?? QUICK_DEFAULTS[name] ?? '';
      return [name, { type: f.type, help: f.help, shown: quick === full ? full : `${full} (${quick})` }];
    }),
  );
  return {
    synopsis: 'npm run loadtest -- [flags]',
    about: [
      'Open-loop load test of a running txflow: warm-up, performance at a fixed rate, stress in rising steps;',
      'then waits for every accepted transaction to finish and checks the downstream holds each exactly once.',
      'Exit code: 0 all checks passed, 1 a check failed, 2 bad flags, 3 could not run.',
    ],
    flags,
  };
}

/** --help text. */
export function usage(): string {
  return renderUsage(command());
}
