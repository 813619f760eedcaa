// The bench's command line and the sizes of its steps (--quick: a short run for a first look).
import { commandLine, FlagError, type CommandSpec } from '../shared/cli';

const COMMAND = {
  synopsis: 'npm run bench -- [flags]',
  about: [
    'One dev server, then (1) the raw Temporal limit with no-op workflows and (2) txflow on the same server, and',
    'the ratios between them. Prints a table, writes results/bench-*.json.',
    'Exit code: 0 done, 1 a transaction was stored twice downstream or the run failed, 2 bad flags.',
  ],
  flags: {
    quick: { type: 'boolean', help: 'a short run (fewer calls, rounds and seconds)' },
    out: { type: 'string', help: 'folder of the JSON result', shown: 'results' },
    'eager-activities': { type: 'boolean', help: "the dev server's eager activity execution on" },
    'all-in-one': {
      type: 'boolean',
      help: 'end to end with one all-in-one process (eager start), not a worker and an API',
    },
    temporal: {
      type: 'string',
      help: "a running Temporal's host:port; its namespace default has txflow's search attributes",
      shown: 'a dev server',
    },
    pin: {
      type: 'boolean',
      help: 'the dev server on half of the CPUs, everything else on the other half',
    },
    'processing-only': {
      type: 'boolean',
      help: 'only the end-to-end and while-processing steps (about 5 min at full size)',
    },
    peer: {
      type: 'string',
      help: 'also run the BullMQ peer (a checkout of amitkumarconsulting/OpenFabricAssessment) beside txflow',
    },
    'peer-rate': { type: 'string', help: 'open-loop submissions/s of the peer comparison', shown: '25' },
    'peer-clients': { type: 'string', help: 'closed-loop clients of the peer comparison', shown: '16' },
    'peer-settle-ms': {
      type: 'string',
      help: "txflow's POSTING_WRITE_SETTLE_MS in the peer comparison (the mock writes within its answer)",
      shown: "txflow's default",
    },
  },
} satisfies CommandSpec;

export interface BenchFlags {
  quick: boolean;
  out: string;
  eagerActivities: boolean;
  allInOne: boolean;
  /** A running Temporal's host:port (e.g. `npm run cluster`'s 127.0.0.1:7330), or none: a dev server. */
  temporal?: string;
  pin: boolean;
  /** Only the end-to-end and while-processing steps (main.ts processingOnly). */
  processingOnly: boolean;
  /** A checkout of the peer: compare with it (peer-steps.ts). */
  peer?: string;
  peerLoad: { rate: number; clients: number; settleMs?: number };
}

/** The flags, or undefined after --help printed the usage. */
export function benchFlags(argv: readonly string[] = process.argv.slice(2)): BenchFlags | undefined {
  const parsed = commandLine(COMMAND, argv);
  if (!parsed) return undefined;
  const v = parsed.values;
  return {
    quick: v.quick ?? false,
    out: v.out ?? 'results',
    eagerActivities: v['eager-activities'] ?? false,
    allInOne: v['all-in-one'] ?? false,
    temporal: v.temporal,
    pin: v.pin ?? false,
    processingOnly: v['processing-only'] ?? false,
    peer: v.peer,
    peerLoad: {
      rate: positive('peer-rate', v['peer-rate'] ?? '25'),
      clients: positive('peer-clients', v['peer-clients'] ?? '16'),
      ...(v['peer-settle-ms'] !== undefined && { settleMs: positive('peer-settle-ms', v['peer-settle-ms']) }),
    },
  };
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (Number.isInteger(n) && n > 0) return n;
  throw new FlagError(`Invalid flags:
  --${flag} ${JSON.stringify(text)}: must be a whole number above 0`);
}

export const CONCURRENCIES = [1, 8, 64];

export interface BenchSize {
  /** Calls of each kind before measuring: a fresh process runs its first few hundred in V8's interpreter. */
  warmup: number;
  /** Calls per round of the starts step at a concurrency. */
  starts: (concurrency: number) => number;
  rounds: number;
  halfRateSeconds: number;
  /** Workflows of each end-to-end step. */
  workflows: number;
  /** New transactions per mode of the batch step, and its batch sizes. */
  batchTransactions: number;
  batchSizes: number[];
  /** The peer comparison: seconds of its open loop, transactions of its closed loop (per side). */
  peerSeconds: number;
  peerClosedLoop: number;
}

export function benchSize(quick: boolean): BenchSize {
  return quick
    ? {
        warmup: 200,
        starts: (c) => Math.max(60, c * 10),
        rounds: 2,
        halfRateSeconds: 5,
        workflows: 150,
        batchTransactions: 300,
        batchSizes: [100],
        peerSeconds: 10,
        peerClosedLoop: 150,
      }
    : {
        warmup: 200,
        starts: (c) => Math.max(400, c * 40),
        rounds: 4,
        halfRateSeconds: 30,
        workflows: 1_000,
        batchTransactions: 2_000,
        batchSizes: [100, 1_000],
        peerSeconds: 30,
        peerClosedLoop: 500,
      };
}
