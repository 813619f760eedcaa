import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { parseEnv } from '../../src/config/env';
import { formatLogLine } from './log-format';

/**
 * A pino logger whose lines go through the same condensed, prefixed format as the children's output,
 * so the stack's own messages read like the rest of the terminal.
 */
export function createPrefixedLogger(
  component: string,
  write: (text: string) => void = (text) => process.stdout.write(text),
): Logger {
  const { LOG_LEVEL } = parseEnv({
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  });
  return pino(
    { level: LOG_LEVEL, base: { component } },
    { write: (chunk: string) => write(`${formatLogLine(component, chunk.trimEnd())}\n`) },
  );
}
