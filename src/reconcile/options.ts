import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, hostPort, httpUrl, name } from '../config/env';
import { postingSettings } from '../config/posting';
import { temporalSettings, type TemporalTls } from '../config/temporal';

export interface ReconcileOptions {
  /** Start of the range (inclusive). */
  from: Date;
  /** End of the range (inclusive). */
  to: Date;
  /** Only workflows of this task queue on the txflow side; null: every task queue. */
  taskQueue: string | null;
  /** Temporal frontend, host:port. */
  temporal: string;
  namespace: string;
  /** TLS and API key of the Temporal connection, from the env (TEMPORAL_TLS*, TEMPORAL_API_KEY). */
  temporalTls?: TemporalTls;
  temporalApiKey?: string;
  /** Base URL of the posting service (no trailing slash). */
  posting: string;
  /**
   * A pending/processing transaction already held downstream is "in flight" (posted, completion not yet
   * recorded) while it started less than this long before `now`; past it, it is a mismatch.
   */
  graceMs: number;
  /** IDs shown per category on stdout (the JSON file has them all). */
  limit: number;
  /** Folder of the JSON result. */
  out: string;
  /** The reconciliation's "now" (grace window); default: when reconcile() starts. */
  now?: Date;
  /** Limit of one HTTP call to the posting service (the list can be large). Default 60 s. */
  httpTimeoutMs?: number;
  /** Parallel per-ID calls (downstream GETs, Temporal describes). Default 16. */
  concurrency?: number;
}

interface Flag {
  type: 'string' | 'boolean';
  help: string;
  /** The default, as shown in --help. */
  shown: string;
}

const FLAGS = {
  from: {
    type: 'string',
    help: 'start of the range, ISO 8601 (e.g. 2026-11-23T00:00:00Z)',
    shown: '--to - 24 h',
  },
  to: { type: 'string', help: 'end of the range, ISO 8601', shown: 'now' },
  'task-queue': { type: 'string', help: 'only workflows of this task queue (txflow side)', shown: 'all' },
  temporal: {
    type: 'string',
    help: 'Temporal frontend host:port',
    shown: 'TEMPORAL_ADDRESS, 127.0.0.1:7233',
  },
  namespace: { type: 'string', help: 'Temporal namespace', shown: 'TEMPORAL_NAMESPACE, default' },
  posting: {
    type: 'string',
    help: 'posting service base URL',
    shown: 'POSTING_SERVICE_URL, http://127.0.0.1:8080',
  },
  grace: {
    type: 'string',
    help: 'seconds a pending/processing one held downstream counts as in flight',
    shown: '300',
  },
  limit: { type: 'string', help: 'IDs printed per category (the JSON has all)', shown: '20' },
  out: { type: 'string', help: 'folder of the JSON result, reconcile-<time>.json', shown: 'results' },
  help: { type: 'boolean', help: 'this text', shown: '' },
} satisfies Record<string, Flag>;

type FlagName = keyof typeof FLAGS;

export const DEFAULT_RANGE_MS = 24 * 3_600_000;

const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], {
    message: 'must be an ISO 8601 date-time with a zone, e.g. 2026-11-23T10:00:00Z, or a date (UTC midnight)',
  })
  .transform((text) => new Date(text))
  .refine((d) => Number.isFinite(d.getTime()), { message: 'must be a valid date' });

const whole = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { message: `must be at least ${min}` })
        .max(max, { message: `must be at most ${max}` }),
    );

// The env helpers carry defaults; flags are optional here and fall back to the env (then those defaults).
const flagsSchema = z.object({
  from: instant.optional(),
  to: instant.optional(),
  'task-queue': name('').unwrap().optional(),
  temporal: hostPort('').unwrap().optional(),
  namespace: name('').unwrap().optional(),
  posting: httpUrl('').unwrap().optional(),
  grace: whole(0, 30 * 86_400).default(300),
  limit: whole(0, 1_000_000).default(20),
  out: z.string().min(1, { message: 'must be a folder' }).default('results'),
});

/** Exit code 2 through runMain: the message names each bad flag. */
export class FlagError extends ConfigError {
  override name = 'FlagError';
}

export type ParsedFlags = { help: true } | { help: false; options: ReconcileOptions };

/**
 * Parses and validates the command line; throws FlagError naming each bad flag. Flags not given come from
 * the env (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, POSTING_SERVICE_URL); TLS and the API key always do. A bad
 * env var is a ConfigError naming the variable.
 */
export function parseFlags(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
  now: Date = new Date(),
): ParsedFlags {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.entries(FLAGS).map(([flag, f]) => [flag, { type: f.type }]));
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new FlagError(`Invalid flags:\n  ${err instanceof Error ? err.message : String(err)}`);
  }
  if (values.help === true) return { help: true };
  const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
  const parsed = flagsSchema.safeParse(given);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const flag = String(issue.path[0] ?? '');
      return `--${flag}=${JSON.stringify(given[flag] ?? '')}: ${issue.message}`;
    });
    throw new FlagError(`Invalid flags:\n  ${[...new Set(problems)].join('\n  ')}`);
  }
  const f = parsed.data;
  const to = f.to ?? now;
  const from = f.from ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
  if (from.getTime() > to.getTime()) {
    const shown = f.to ? `--to (${to.toISOString()})` : `now (${to.toISOString()}; --to not given)`;
    throw new FlagError(`Invalid flags:\n  --from=${JSON.stringify(given.from)}: must not be after ${shown}`);
  }
  const temporal = temporalSettings(env);
  return {
    help: false,
    options: {
      from,
      to,
      taskQueue: f['task-queue'] ?? null,
      temporal: f.temporal ?? temporal.address,
      namespace: f.namespace ?? temporal.namespace,
      ...(temporal.tls && { temporalTls: temporal.tls }),
      ...(temporal.apiKey !== undefined && { temporalApiKey: temporal.apiKey }),
      posting: f.posting ?? postingSettings(env).baseUrl,
      graceMs: f.grace * 1_000,
      limit: f.limit,
      out: f.out,
    },
  };
}

/** --help text: every flag with its default. */
export function usage(): string {
  const rows = (Object.entries(FLAGS) as [FlagName, Flag][]).map(([flag, f]) => {
    const shown = f.type === 'string' ? `--${flag} <v>` : `--${flag}`;
    return [shown, f.help, f.shown] as const;
  });
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return [
    'npm run reconcile -- [flags]',
    '',
    "Compares the transactions txflow completed (Temporal visibility) with the posting service's rows, by",
    'transaction ID, over a time range. Reports: completed in txflow but missing downstream; held downstream',
    'but not completed in txflow (unknown there, failed, cancelled, or still open past --grace); held',
    'downstream more than once; stored with another amount, currency or account than txflow posted (amounts',
    'as exact decimals); and, not as mismatches, the transactions still in flight.',
    'Exit code: 0 clean, 1 a mismatch, 2 bad flags or env, 3 could not reconcile (a service unreachable).',
    '',
    `${'flag'.padEnd(w0)}  ${'meaning'.padEnd(w1)}  default`,
    ...rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`.trimEnd()),
  ].join('\n');
}
