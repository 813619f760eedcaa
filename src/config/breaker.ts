import { ConfigError, bool, decimal, integer, parseEnv } from './env';
import type { BreakerOptions } from '../posting/circuit-breaker';

export const breakerSchema = {
  BREAKER_ENABLED: bool(true),
  BREAKER_FAILURE_RATIO: decimal(0.5, 0.01, 1),
  BREAKER_MIN_CALLS: integer(20, 1, 100_000),
  BREAKER_WINDOW_MS: integer(10_000, 100, 3_600_000),
  BREAKER_PROBE_INTERVAL_MS: integer(5_000, 50, 600_000),
  BREAKER_MAX_PAUSE_MS: integer(300_000, 50, 3_600_000),
};

/** The worker's circuit breaker; undefined when BREAKER_ENABLED=false. */
export function breakerSettings(env = process.env): BreakerOptions | undefined {
  const e = parseEnv(breakerSchema, env);
  if (e.BREAKER_MAX_PAUSE_MS < e.BREAKER_PROBE_INTERVAL_MS) {
    throw new ConfigError(
      `Invalid configuration:\n  BREAKER_MAX_PAUSE_MS=${JSON.stringify(env.BREAKER_MAX_PAUSE_MS ?? '')}: ` +
        `must be at least BREAKER_PROBE_INTERVAL_MS (${e.BREAKER_PROBE_INTERVAL_MS})`,
    );
  }
  if (!e.BREAKER_ENABLED) return undefined;
  return {
    failureRatio: e.BREAKER_FAILURE_RATIO,
    windowMs: e.BREAKER_WINDOW_MS,
    minCalls: e.BREAKER_MIN_CALLS,
    probeIntervalMs: e.BREAKER_PROBE_INTERVAL_MS,
    maxPauseMs: e.BREAKER_MAX_PAUSE_MS,
  };
}
