import { z } from 'zod';
import { parseEnv } from './env';

export const tracingSchema = {
  /**
   * OTLP/HTTP base URL of a collector (the standard variable; spans go to <url>/v1/traces). Unset: tracing is
   * off, nothing of OpenTelemetry is installed.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .url({ message: 'must be an http(s) URL, e.g. http://otel-collector:4318' })
    .refine((u) => /^https?:\/\//.test(u), {
      message: 'must be an http(s) URL, e.g. http://otel-collector:4318',
    })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  /** The `service.name` on every span; default txflow-api, txflow-worker or txflow-all-in-one. */
  OTEL_SERVICE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._/-]{1,200}$/, { message: 'must be 1-200 of [A-Za-z0-9._/-]' })
    .optional(),
};

export interface TracingSettings {
  /** The collector's OTLP/HTTP base URL; undefined: tracing off. */
  endpoint: string | undefined;
  serviceName: string;
}

export function tracingSettings(defaultServiceName: string, env = process.env): TracingSettings {
  const e = parseEnv(tracingSchema, env);
  return { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME ?? defaultServiceName };
}

/**
 * Whether tracing is asked for, before the settings are validated (the logger is made first): the process then
 * validates them with tracingSettings() and stops on a bad value.
 */
export function tracingRequested(env = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT);
}
