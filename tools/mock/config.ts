import { z } from 'zod';
import { bool, decimal, integer, parseEnv } from '../../src/config/env';
import { randomSeed } from '../shared/random';

/** Upper bound of every latency or hang knob: ten minutes. */
export const MAX_DELAY_MS = 600_000;
export const MAX_SEED = 0xffff_ffff;

const delayMs = z
  .number({ message: 'must be a number of milliseconds' })
  .int({ message: 'must be a whole number of milliseconds' })
  .min(0, { message: 'must be at least 0' })
  .max(MAX_DELAY_MS, { message: `must be at most ${MAX_DELAY_MS}` });

const rate = z
  .number({ message: 'must be a number from 0 to 1' })
  .min(0, { message: 'must be at least 0' })
  .max(1, { message: 'must be at most 1' });

/** Uniform random latency, both ends included. */
export const latencyRangeSchema = z
  .strictObject({ min: delayMs, max: delayMs })
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max', path: ['max'] });

export const postWriteModeSchema = z.enum(['error', 'hang', 'mixed'], {
  message: 'must be error, hang or mixed',
});

export const idempotencyModeSchema = z.enum(['honour', 'ignore'], { message: 'must be honour or ignore' });

/** The fault knobs: read from MOCK_* at start, shown by GET /admin/faults, changed by PUT /admin/faults. */
export const faultSettingsSchema = z.strictObject({
  getLatencyMs: latencyRangeSchema,
  postLatencyMs: latencyRangeSchema,
  /** Share of POSTs answered 5xx without storing anything. */
  preWriteFailureRate: rate,
  /** Share of the POSTs that passed the pre-write draw which are stored and then fail. */
  postWriteFailureRate: rate,
  /** How a post-write failure shows: a 5xx, a response held for postWriteHangMs, or either at random. */
  postWriteMode: postWriteModeSchema,
  /** How long a held response waits before it answers 504; set it above the client's timeout. */
  postWriteHangMs: delayMs,
  /** Share of GETs answered 5xx. */
  getFailureRate: rate,
  /**
   * Share of the POSTs that would store whose row is written only lateWriteMs after they arrived, whether or
   * not the client is still there (drawn from a stream of its own: other draws do not shift).
   */
  lateWriteRate: rate,
  /** How long a late write waits before its row is written; set it above the client's timeout. */
  lateWriteMs: delayMs,
  /** honour: a POST's Idempotency-Key makes a repeat replay the first one's row; ignore: every POST stores. */
  idempotency: idempotencyModeSchema,
  /** Every endpoint except /health and /admin answers 503. */
  outage: z.boolean({ message: 'must be true or false' }),
  /** Seeds the fault draws; setting it at run time restarts the sequences. */
  seed: z
    .number({ message: 'must be a whole number' })
    .int({ message: 'must be a whole number' })
    .min(0, { message: 'must be at least 0' })
    .max(MAX_SEED, { message: `must be at most ${MAX_SEED}` }),
});

/** Body of PUT /admin/faults: any subset of the knobs (a latency range is given whole). */
export const faultPatchSchema = faultSettingsSchema.partial();

export type LatencyRange = z.output<typeof latencyRangeSchema>;
export type PostWriteMode = z.output<typeof postWriteModeSchema>;
export type IdempotencyMode = z.output<typeof idempotencyModeSchema>;
export type FaultSettings = z.output<typeof faultSettingsSchema>;
export type FaultPatch = z.output<typeof faultPatchSchema>;

export interface MockSettings {
  host: string;
  port: number;
  /** Whether MOCK_SEED was set; when not, faults.seed was drawn at start (log it to repeat the run). */
  seedGiven: boolean;
  faults: FaultSettings;
}

/** "min-max" or a single "ms" in milliseconds, e.g. "20-200". */
function latencyRange(defaultValue: string) {
  return z
    .string()
    .regex(/^\d{1,9}(-\d{1,9})?$/, { message: 'must be "min-max" or "ms" in milliseconds, e.g. "20-200"' })
    .default(defaultValue)
    .transform((text) => {
      const [min = 0, max = min] = text.split('-').map(Number);
      return { min, max };
    })
    .refine((r) => r.min <= r.max, { message: 'min must not exceed max' })
    .refine((r) => r.max <= MAX_DELAY_MS, { message: `must be at most ${MAX_DELAY_MS}` });
}

export const mockEnvSchema = {
  HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]{1,253}$/, { message: 'must be a host name or IP address' })
    .default('127.0.0.1'),
  PORT: integer(8080, 0, 65_535),
  MOCK_GET_LATENCY_MS: latencyRange('0-0'),
  MOCK_POST_LATENCY_MS: latencyRange('0-0'),
  MOCK_PRE_WRITE_FAILURE_RATE: decimal(0, 0, 1),
  MOCK_POST_WRITE_FAILURE_RATE: decimal(0, 0, 1),
  MOCK_POST_WRITE_MODE: postWriteModeSchema.default('mixed'),
  MOCK_POST_WRITE_HANG_MS: integer(30_000, 0, MAX_DELAY_MS),
  MOCK_GET_FAILURE_RATE: decimal(0, 0, 1),
  MOCK_LATE_WRITE_RATE: decimal(0, 0, 1),
  MOCK_LATE_WRITE_MS: integer(10_000, 0, MAX_DELAY_MS),
  MOCK_IDEMPOTENCY: idempotencyModeSchema.default('honour'),
  MOCK_OUTAGE: bool(false),
  MOCK_SEED: integer(0, 0, MAX_SEED).unwrap().optional(),
};

/** Reads PORT, HOST and MOCK_*; throws ConfigError naming each bad variable. */
export function mockSettings(
  env: Record<string, string | undefined> = process.env,
  drawSeed = randomSeed,
): MockSettings {
  const e = parseEnv(mockEnvSchema, env);
  return {
    host: e.HOST,
    port: e.PORT,
    seedGiven: e.MOCK_SEED !== undefined,
    faults: {
      getLatencyMs: e.MOCK_GET_LATENCY_MS,
      postLatencyMs: e.MOCK_POST_LATENCY_MS,
      preWriteFailureRate: e.MOCK_PRE_WRITE_FAILURE_RATE,
      postWriteFailureRate: e.MOCK_POST_WRITE_FAILURE_RATE,
      postWriteMode: e.MOCK_POST_WRITE_MODE,
      postWriteHangMs: e.MOCK_POST_WRITE_HANG_MS,
      getFailureRate: e.MOCK_GET_FAILURE_RATE,
      lateWriteRate: e.MOCK_LATE_WRITE_RATE,
      lateWriteMs: e.MOCK_LATE_WRITE_MS,
      idempotency: e.MOCK_IDEMPOTENCY,
      outage: e.MOCK_OUTAGE,
      seed: e.MOCK_SEED ?? drawSeed(),
    },
  };
}
