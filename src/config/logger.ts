import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';
import { z } from 'zod';
import { parseEnv } from './env';
import { tracingRequested } from './tracing';

const { LOG_LEVEL } = parseEnv({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/**
 * Where credentials would sit if request headers, gRPC metadata or the Temporal settings (API key, TLS private
 * key) were ever logged: always written as "[redacted]".
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  'metadata.authorization',
  '*.metadata.authorization',
  'apiKey',
  '*.apiKey',
  'tls.clientCertPair.key',
  '*.tls.clientCertPair.key',
];

/** One JSON line per event, tagged with the component that wrote it; to stdout unless told otherwise. */
export function createLogger(component: string, destination?: DestinationStream): Logger {
  const options = {
    level: LOG_LEVEL,
    base: { component },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Only with tracing on: without it no span is ever current, and the lines cost nothing extra.
    ...(tracingRequested() && { mixin: traceIds }),
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The current span's trace and span IDs, so a log line can be found from its trace and the other way round. */
function traceIds(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ids = span.spanContext();
  return isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
}

/**
 * Loggers of several components in one process (the all-in-one), writing through one stream: separate streams
 * each buffer and flush on their own, so lines could come out in another order than they were logged.
 */
export function createLoggers<C extends string>(...components: C[]): Record<C, Logger> {
  const stream = pino.destination(1);
  return Object.fromEntries(components.map((c) => [c, createLogger(c, stream)])) as Record<C, Logger>;
}

export type { Logger };
