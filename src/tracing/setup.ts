import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { RequestHandler } from 'express';
import type { TracingSettings } from '../config/tracing';
import { withClientSpan, type TracedCall } from './http-client-span';
import { tracingMiddleware } from './http-server-span';
import { clientInterceptors, workerTracingOptions } from './temporal-interceptors';

/** A process's tracing, once installed: the pieces each part of txflow plugs in. */
export interface Tracing {
  tracer: Tracer;
  /** The API's middleware: a SERVER span per request. */
  requestSpans: RequestHandler;
  /** The Temporal client's interceptors (API, all-in-one). */
  clientInterceptors: WorkflowClientInterceptor[];
  /** The worker's interceptors and workflow span sink. */
  workerOptions: Pick<WorkerOptions, 'interceptors' | 'sinks'>;
  /** The posting client's: one CLIENT span per downstream call, its `traceparent` sent along. */
  tracedCall: TracedCall;
  /** Exports what is still buffered, then stops; for the end of the process. */
  shutdown(): Promise<void>;
}

/**
 * Installs OpenTelemetry for this process: a tracer provider whose batch processor exports OTLP/HTTP to
 * `<endpoint>/v1/traces`, the AsyncLocalStorage context (a span stays current across awaits) and the W3C
 * `traceparent` propagator. Loaded only when tracing is on (load.ts).
 */
export function startTracing(settings: TracingSettings & { endpoint: string }): Tracing {
  // The exporter also reads the other standard OTEL_EXPORTER_OTLP_* variables (headers, timeout) itself.
  const exporter = new OTLPTraceExporter({ url: `${settings.endpoint}/v1/traces` });
  const spanProcessor = new BatchSpanProcessor(exporter);
  const resource = Resource.default().merge(new Resource({ [ATTR_SERVICE_NAME]: settings.serviceName }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({
    contextManager: new AsyncLocalStorageContextManager(),
    propagator: new W3CTraceContextPropagator(),
  });
  const tracer = provider.getTracer('txflow');
  return {
    tracer,
    requestSpans: tracingMiddleware(tracer),
    clientInterceptors: clientInterceptors(tracer),
    workerOptions: workerTracingOptions(tracer, spanProcessor, resource),
    tracedCall: (call, send) => withClientSpan(tracer, call, send),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
