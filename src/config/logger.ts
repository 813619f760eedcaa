import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { parseEnv } from './env';

const { LOG_LEVEL } = parseEnv({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** One JSON line per event, tagged with the component that wrote it. */
export function createLogger(component: string): Logger {
  return pino({ level: LOG_LEVEL, base: { component } });
}

export type { Logger };
