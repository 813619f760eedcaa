// Tracing with OpenTelemetry (docs/tracing.md): the real API and worker processes (and the all-in-one) export
// to an in-process OTLP/HTTP receiver. One transaction submitted with a W3C `traceparent` must give one trace:
// the REST request, the workflow start, the workflow run, its activities and their downstream HTTP calls, the
// mock downstream receiving each call's `traceparent`; log lines carry the trace ID; the traced run replays with
// the tracing interceptors bundled and without. With the endpoint unset nothing is traced.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { request } from 'undici';
import { Resource } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { createMockApp } from '../tools/mock/app';
import { mockSettings } from '../tools/mock/config';
import { Faults } from '../tools/mock/faults';
import { TransactionStore } from '../tools/mock/store';
import { freePort } from '../tools/shared/ports';
import type { ManagedProcess } from '../tools/shared/processes';
import { spawnTxflow } from '../tools/shared/txflow-process';
import { workflowsPath, workflowTracingModule } from '../src/worker/workflow-bundle';
import { startAllInOneProcess, type RunningAllInOne } from './support/all-in-one-process';
import { eventually } from './support/eventually';
import { testClient } from './support/harness';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver';
import { testTemporalAddress, uniqueTaskQueue } from './support/temporal';
import { startWorkerProcess } from './support/worker-process';

interface SeenCall {
  method: string;
  path: string;
  /** The Idempotency-Key: a POST's transaction ID. */
  key: string | undefined;
  traceparent: string | undefined;
}

/** The mock posting service over real HTTP, noting each request's `traceparent` before the mock answers it. */
async function startRecordingMock(): Promise<{ url: string; seen: SeenCall[]; stop(): Promise<void> }> {
  const seen: SeenCall[] = [];
  const app = express();
  app.use((req, _res, next) => {
    seen.push({
      method: req.method,
      path: req.path,
      key: req.get('idempotency-key'),
      traceparent: req.get('traceparent'),
    });
    next();
  });
  const faults = new Faults(mockSettings({}, () => 42).faults);
  app.use(createMockApp({ store: new TransactionStore(), faults }));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const body = (id: string) =>
  JSON.stringify({
    id,
    amount: '25.00',
    currency: 'EUR',
    source_account: 'acc_a',
    destination_account: 'acc_b',
  });

/** Submits with a fresh caller's `traceparent`; returns the trace ID and the caller's span ID. */
async function submitTraced(url: string, id: string): Promise<{ traceId: string; callerSpanId: string }> {
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  const res = await request(`${url}/api/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
    body: body(id),
  });
  await res.body.dump();
  assert.equal(res.statusCode, 202);
  return { traceId, callerSpanId };
}

async function completed(url: string, id: string): Promise<void> {
  await eventually(async () => {
    const res = await request(`${url}/api/transactions/${id}`);
    assert.equal(((await res.body.json()) as { status: string }).status, 'completed');
  }, 30_000);
}

/** The names from `span` up to the trace's root, through parent IDs (a gap ends it). */
function ancestry(spans: ReceivedSpan[], span: ReceivedSpan): string[] {
  const names = [span.name];
  for (let s = span; s.parentSpanId;) {
    const parent = spans.find((p) => p.spanId === s.parentSpanId);
    if (!parent) break;
    names.push(parent.name);
    s = parent;
  }
  return names;
}

function one(spans: ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one span ${name}; the trace has: ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

/** The JSON log lines (of a process's output) that carry `traceId`. */
function linesWithTrace(lines: string[], traceId: string): Record<string, unknown>[] {
  return lines
    .filter((l) => l.includes(traceId))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter((l) => l.trace_id === traceId);
}

const POSTING_CHAIN = [
  'POST /transactions',
  'RunActivity:postTransaction',
  'StartActivity:postTransaction',
  'RunWorkflow:processTransaction',
  'StartWorkflow:processTransaction',
  'POST /api/transactions',
];

describe('tracing with OpenTelemetry over OTLP', function () {
  this.timeout(120_000);
  let receiver: OtlpReceiver;
  let mock: Awaited<ReturnType<typeof startRecordingMock>>;

  before(async function () {
    receiver = await startOtlpReceiver();
    mock = await startRecordingMock();
  });
  after(async function () {
    await mock?.stop();
    await receiver?.stop();
  });

  describe('the API and the worker as processes', function () {
    let worker: ManagedProcess | undefined;
    let api: ManagedProcess | undefined;
    const workerLines: string[] = [];
    const apiLines: string[] = [];
    let apiUrl: string;

    before(async function () {
      const taskQueue = uniqueTaskQueue('tracing');
      const tracingEnv = {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        // Export every 200 ms rather than 5 s (the batch processor's standard variable).
        OTEL_BSP_SCHEDULE_DELAY: '200',
      };
      const started = await startWorkerProcess(taskQueue, mock.url, 90_000, {
        ...tracingEnv,
        LOG_LEVEL: 'debug',
      });
      worker = started.process;
      worker.onLine((line) => workerLines.push(line));
      const port = await freePort();
      apiUrl = `http://127.0.0.1:${port}`;
      api = spawnTxflow({
        component: 'api',
        env: {
          ...process.env,
          ...tracingEnv,
          TEMPORAL_ADDRESS: testTemporalAddress(),
          TASK_QUEUE: taskQueue,
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'info',
        },
        onLine: (line) => apiLines.push(line),
      });
      await api.waitForLine((l) => l.includes('"msg":"api listening"'), 30_000);
    });
    after(async function () {
      await api?.stop();
      await worker?.stop();
    });

    it('one trace covers the REST request, the workflow start, the run, its activities and the downstream calls', async function () {
      const id = `trace-${randomUUID()}`;
      const { traceId, callerSpanId } = await submitTraced(apiUrl, id);
      await completed(apiUrl, id);

      const trace = await eventually(() => {
        const spans = receiver.spans.filter((s) => s.traceId === traceId);
        for (const name of POSTING_CHAIN.concat('RunActivity:checkExists', 'GET /transactions/{id}')) {
          assert.ok(
            spans.some((s) => s.name === name),
            `${name} in ${spans.map((s) => s.name).join(', ')}`,
          );
        }
        return spans;
      }, 20_000);

      // The request's span continues the caller's trace; every other span hangs under it.
      const server = one(trace, 'POST /api/transactions');
      assert.equal(server.parentSpanId, callerSpanId);
      assert.equal(server.kind, 2, 'SERVER');
      assert.equal(server.attributes['http.route'], '/api/transactions');
      assert.equal(server.attributes['http.response.status_code'], 202);
      for (const span of trace) {
        const chain = ancestry(trace, span);
        assert.equal(chain.at(-1), 'POST /api/transactions', `${span.name} reaches the request: ${chain}`);
      }
      assert.deepEqual(ancestry(trace, one(trace, 'POST /transactions')), POSTING_CHAIN);
      assert.deepEqual(ancestry(trace, one(trace, 'GET /transactions/{id}')), [
        'GET /transactions/{id}',
        'RunActivity:checkExists',
        'StartActivity:checkExists',
        'RunWorkflow:processTransaction',
        'StartWorkflow:processTransaction',
        'POST /api/transactions',
      ]);
      // Each process names itself.
      assert.equal(server.service, 'txflow-api');
      assert.equal(one(trace, 'StartWorkflow:processTransaction').service, 'txflow-api');
      for (const name of [
        'RunWorkflow:processTransaction',
        'RunActivity:postTransaction',
        'POST /transactions',
      ])
        assert.equal(one(trace, name).service, 'txflow-worker', name);
      assert.equal(one(trace, 'POST /transactions').kind, 3, 'CLIENT');
      // Spans from the workflow sandbox name the run, and carry none of the transaction's content.
      const run = one(trace, 'RunWorkflow:processTransaction');
      assert.equal(run.attributes.workflowId, id);
      assert.deepEqual(Object.keys(run.attributes).sort(), [
        'attempt',
        'namespace',
        'runId',
        'taskQueue',
        'workflowId',
        'workflowType',
      ]);
      assert.ok(!JSON.stringify(trace).includes('acc_a'), 'no account in any span');
      assert.equal(one(trace, 'POST /transactions').attributes['http.response.status_code'], 201);

      // The downstream received each call's own span as its parent, in the same trace.
      const calls = mock.seen.filter((c) => c.path.endsWith(id) || c.key === id);
      for (const [method, name] of [
        ['GET', 'GET /transactions/{id}'],
        ['POST', 'POST /transactions'],
      ] as const) {
        const span = one(trace, name);
        assert.ok(
          calls.some((c) => c.method === method && c.traceparent === `00-${traceId}-${span.spanId}-01`),
          `${method} carried traceparent 00-${traceId}-${span.spanId}-01: ${JSON.stringify(calls)}`,
        );
      }

      // Log lines carry the trace ID: the worker's activity lines and the API's request line. The worker's
      // output is read as it comes: its post line may arrive a moment after the spans.
      await eventually(() =>
        assert.ok(
          linesWithTrace(workerLines, traceId).some(
            (l) =>
              l.msg === 'downstream call' && l.outcome === 'posted' && l.activityType === 'postTransaction',
          ),
          `a worker line for the post activity with trace_id ${traceId}: ${workerLines.slice(-20).join('\n')}`,
        ),
      );
      await eventually(() =>
        assert.ok(
          linesWithTrace(apiLines, traceId).some(
            (l) => l.msg === 'request' && l.status === 202 && l.span_id === server.spanId,
          ),
          `the API's request line with trace_id ${traceId}: ${apiLines.slice(-5).join('\n')}`,
        ),
      );
    });

    it('every API request has a span named by its route pattern, the Temporal calls it makes under it', async function () {
      // An ID never submitted: the read asks Temporal (nothing cached) and answers 404.
      const id = `trace-unknown-${randomUUID()}`;
      const traceIds: string[] = [];
      for (const path of [`/api/transactions/${id}`, `/api/no-such-route/${id}`]) {
        const traceId = randomBytes(16).toString('hex');
        traceIds.push(traceId);
        const res = await request(`${apiUrl}${path}`, {
          headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
        });
        await res.body.dump();
        assert.equal(res.statusCode, 404);
      }
      const [read, missing] = await eventually(() => {
        const traces = traceIds.map((t) => receiver.spans.filter((s) => s.traceId === t));
        assert.ok(
          traces.every((t) => t.some((s) => s.kind === 2)),
          'both requests exported',
        );
        return traces as [ReceivedSpan[], ReceivedSpan[]];
      }, 20_000);
      const get = one(read, 'GET /api/transactions/:id');
      assert.equal(get.attributes['http.response.status_code'], 404);
      assert.equal(one(read, 'DescribeWorkflow').parentSpanId, get.spanId);
      assert.equal(one(read, 'DescribeWorkflow').attributes.temporalWorkflowId, id);
      // A URL that matched no route: one name for all of them, no ID in it.
      assert.equal(one(missing, 'GET unmatched').attributes['http.response.status_code'], 404);
    });

    it('the traced run replays with the tracing interceptors bundled and without', async function () {
      const id = `trace-replay-${randomUUID()}`;
      await submitTraced(apiUrl, id);
      await completed(apiUrl, id);
      const history = await (await testClient()).workflow.getHandle(id).fetchHistory();
      const logger = new DefaultLogger('WARN');
      const plain = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger });
      const traced = await bundleWorkflowCode({
        workflowsPath: workflowsPath(),
        workflowInterceptorModules: [workflowTracingModule()],
        logger,
      });
      // Rejects with a DeterminismViolationError if the run's commands differ.
      await Worker.runReplayHistory({ workflowBundle: plain }, history, id);
      const spans = new InMemorySpanExporter();
      const exporter = makeWorkflowExporter(new SimpleSpanProcessor(spans), new Resource({}));
      await Worker.runReplayHistory({ workflowBundle: traced, sinks: { exporter } }, history, id);
      assert.equal(spans.getFinishedSpans().length, 0, 'a replay exports no span again');
    });
  });

  describe('the all-in-one process', function () {
    let running: RunningAllInOne | undefined;
    after(async function () {
      await running?.process.stop();
    });

    it('traces the same way, and flushes its spans when it stops', async function () {
      running = await startAllInOneProcess({
        TASK_QUEUE: uniqueTaskQueue('tracing-aio'),
        POSTING_SERVICE_URL: mock.url,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        // Longer than the test: only the flush at SIGTERM can deliver the spans.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
      });
      const id = `trace-aio-${randomUUID()}`;
      const { traceId } = await submitTraced(running.url, id);
      await completed(running.url, id);
      assert.equal(receiver.spans.filter((s) => s.traceId === traceId).length, 0, 'nothing exported yet');
      const exit = await running.process.stop();
      assert.equal(exit.code, 0);
      const trace = receiver.spans.filter((s) => s.traceId === traceId);
      assert.deepEqual(ancestry(trace, one(trace, 'POST /transactions')), POSTING_CHAIN);
      assert.deepEqual([...new Set(trace.map((s) => s.service))], ['txflow-all-in-one']);
    });

    it('with OTEL_EXPORTER_OTLP_ENDPOINT unset traces nothing and sends no traceparent downstream', async function () {
      running = await startAllInOneProcess({
        TASK_QUEUE: uniqueTaskQueue('tracing-off'),
        POSTING_SERVICE_URL: mock.url,
        OTEL_EXPORTER_OTLP_ENDPOINT: '',
      });
      const id = `trace-off-${randomUUID()}`;
      const { traceId } = await submitTraced(running.url, id);
      await completed(running.url, id);
      const calls = mock.seen.filter((c) => c.path.endsWith(id) || c.key === id);
      assert.ok(calls.some((c) => c.method === 'GET') && calls.some((c) => c.method === 'POST'));
      assert.ok(
        calls.every((c) => c.traceparent === undefined),
        JSON.stringify(calls),
      );
      const before = receiver.requests;
      assert.equal((await running.process.stop()).code, 0);
      assert.equal(receiver.requests, before, 'nothing exported');
      assert.equal(receiver.spans.filter((s) => s.traceId === traceId).length, 0);
      assert.ok(!running.lines.some((l) => l.includes('"trace_id"')), 'no log line has a trace_id');
    });
  });
});
