import type { TracingSettings } from '../config/tracing';
import type { Tracing } from './setup';

export type { Tracing };

/**
 * The process's tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set; else undefined, and none of the OpenTelemetry
 * SDK, exporter or interceptor modules is even loaded (they cost a worker or API start-up time and memory).
 */
export async function loadTracing(settings: TracingSettings): Promise<Tracing | undefined> {
  const { endpoint } = settings;
  if (endpoint === undefined) return undefined;
  const { startTracing } = await import('./setup');
  return startTracing({ ...settings, endpoint });
}
