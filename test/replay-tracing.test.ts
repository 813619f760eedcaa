// The committed histories (recorded without tracing) replay with the OpenTelemetry workflow interceptors
// bundled in, and without: turning tracing on or off never breaks a running workflow (docs/tracing.md).
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Resource } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { Worker, bundleWorkflowCode, DefaultLogger, type ReplayWorkerOptions } from '@temporalio/worker';
import { workflowsPath, workflowTracingModule } from '../src/worker/workflow-bundle';

const HISTORIES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'histories');

async function histories() {
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      workflowId: path.basename(file, '.json'),
      history: JSON.parse(await readFile(path.join(HISTORIES, file), 'utf8')),
    })),
  );
}

/** Replays every committed history; returns the errors by workflow ID (none expected). */
async function replayAll(options: ReplayWorkerOptions): Promise<Record<string, string>> {
  const recorded = await histories();
  assert.ok(recorded.length >= 3, 'histories are committed under test/fixtures/histories');
  const errors: Record<string, string> = {};
  let count = 0;
  for await (const result of Worker.runReplayHistories(options, recorded)) {
    count++;
    if (result.error) errors[result.workflowId] = String(result.error);
  }
  assert.equal(count, recorded.length, 'every history was replayed');
  return errors;
}

describe('replay with and without the tracing interceptors', function () {
  this.timeout(120_000);

  it('replays every committed history with the OpenTelemetry workflow interceptors bundled in', async function () {
    const code = await bundleWorkflowCode({
      workflowsPath: workflowsPath(),
      workflowInterceptorModules: [workflowTracingModule()],
      logger: new DefaultLogger('WARN'),
    });
    // The interceptors are really in the bundle (else this test would prove nothing).
    assert.match(code.code, /OpenTelemetryInboundInterceptor/);
    const spans = new InMemorySpanExporter();
    const errors = await replayAll({
      workflowBundle: code,
      sinks: {
        exporter: makeWorkflowExporter(
          new SimpleSpanProcessor(spans),
          new Resource({ 'service.name': 'replay' }),
        ),
      },
    });
    assert.deepEqual(errors, {});
    // Spans of a replayed run are not exported again: the sink is not called during replay.
    assert.equal(spans.getFinishedSpans().length, 0);
  });

  it('replays every committed history without them', async function () {
    const code = await bundleWorkflowCode({
      workflowsPath: workflowsPath(),
      logger: new DefaultLogger('WARN'),
    });
    assert.doesNotMatch(code.code, /OpenTelemetryInboundInterceptor/);
    assert.deepEqual(await replayAll({ workflowBundle: code }), {});
  });
});
