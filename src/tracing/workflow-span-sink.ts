import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  makeWorkflowExporter,
  type OpenTelemetryWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';

/** The workflow facts a span from the sandbox keeps as attributes: what finds the run, nothing it carries. */
const KEPT: readonly (keyof WorkflowInfo)[] = [
  'workflowId',
  'runId',
  'workflowType',
  'taskQueue',
  'namespace',
  'attempt',
];

/**
 * The sink through which the workflow interceptors hand their spans out of the sandbox, to the process's span
 * processor. The SDK's sink copies the whole WorkflowInfo onto each span, search attributes and memo included
 * (amount, currency, accounts); only the identifying fields above are passed on.
 */
export function workflowSpanSinks(
  spanProcessor: SpanProcessor,
  resource: Resource,
): InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }> {
  const sink = makeWorkflowExporter(spanProcessor, resource);
  return {
    exporter: {
      export: {
        ...sink.export,
        fn: (info, spans) => sink.export.fn(identifying(info), spans),
      },
    },
  };
}

function identifying(info: WorkflowInfo): WorkflowInfo {
  return Object.fromEntries(KEPT.map((key) => [key, info[key]])) as unknown as WorkflowInfo;
}
