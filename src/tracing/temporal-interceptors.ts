import type { Tracer } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import { workflowSpanSinks } from './workflow-span-sink';

/**
 * The client's: each call (start, query, update…) in a span, a child of the current one (the request's); a
 * start's span travels to the workflow in its headers, so the run joins the request's trace.
 */
export function clientInterceptors(tracer: Tracer): WorkflowClientInterceptor[] {
  return [new OpenTelemetryWorkflowClientInterceptor({ tracer })];
}

/**
 * The worker's: a span per activity attempt (child of the workflow's StartActivity span), trace IDs on
 * activity log lines, and the sink for the spans of the workflow interceptors, which are in the traced bundle.
 */
export function workerTracingOptions(
  tracer: Tracer,
  spanProcessor: SpanProcessor,
  resource: Resource,
): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: workflowSpanSinks(spanProcessor, resource),
  };
}
