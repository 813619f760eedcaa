import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingSettings } from '../config/tracing';

/** A process's tracing, once installed: what the Temporal interceptors and the HTTP spans need. */
export interface Tracing {
  tracer: Tracer;
  /** The `service.name` (and SDK) attributes, also put on the spans the workflow sandbox hands out. */
  resource: Resource;
  /** Batches spans to the OTLP exporter; the workflow spans' sink feeds it too. */
  spanProcessor: SpanProcessor;
  /** Exports what is still buffered, then stops; for the end of the process. */
  shutdown(): Promise<void>;
}

/**
 * Installs OpenTelemetry for this process when OTEL_EXPORTER_OTLP_ENDPOINT is set: a tracer provider whose
 * batch processor exports OTLP/HTTP, the AsyncLocalStorage context (so a span stays current across awaits) and
 * the W3C `traceparent` propagator. Unset: returns undefined and installs nothing.
 */
export function startTracing(settings: TracingSettings): Tracing | undefined {
  if (settings.endpoint === undefined) return undefined;
  // The exporter also reads the other standard OTEL_EXPORTER_OTLP_* variables (headers, timeout) itself.
  const exporter = new OTLPTraceExporter({ url: `${settings.endpoint}/v1/traces` });
  const spanProcessor = new BatchSpanProcessor(exporter);
  const resource = Resource.default().merge(new Resource({ [ATTR_SERVICE_NAME]: settings.serviceName }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({
    contextManager: new AsyncLocalStorageContextManager(),
    propagator: new W3CTraceContextPropagator(),
  });
  return {
    tracer: provider.getTracer('txflow'),
    resource,
    spanProcessor,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
