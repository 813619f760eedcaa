// OTEL_* settings (src/config/tracing.ts): off by default, a bad value stops each process naming the variable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError } from '../src/config/env';
import { tracingRequested, tracingSettings } from '../src/config/tracing';
import { txflowCommand } from '../tools/shared/txflow-process';

describe('tracing configuration', function () {
  it('is off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; an empty value counts as unset', function () {
    assert.deepEqual(tracingSettings('txflow-api', {}), { endpoint: undefined, serviceName: 'txflow-api' });
    assert.equal(tracingSettings('txflow-api', { OTEL_EXPORTER_OTLP_ENDPOINT: '' }).endpoint, undefined);
    assert.equal(tracingRequested({}), false);
    assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }), false);
    assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
  });

  it('reads the endpoint (trailing slash trimmed) and the service name', function () {
    assert.deepEqual(
      tracingSettings('txflow-worker', {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318/',
        OTEL_SERVICE_NAME: 'payments-worker',
      }),
      { endpoint: 'https://collector.example:4318', serviceName: 'payments-worker' },
    );
  });

  it('names each bad variable and its rule', function () {
    for (const [name, value, rule] of [
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', 'must be an http(s) URL'],
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'grpc://collector:4317', 'must be an http(s) URL'],
      ['OTEL_SERVICE_NAME', 'txflow api', 'must be 1-200 of [A-Za-z0-9._/-]'],
    ] as const) {
      assert.throws(
        () => tracingSettings('txflow-api', { [name]: value }),
        (err: unknown) =>
          err instanceof ConfigError && err.message.includes(`${name}=${JSON.stringify(value)}: ${rule}`),
        `${name}=${value}`,
      );
    }
  });

  it('off, the processes load none of the OpenTelemetry SDK, exporter or interceptor modules', function () {
    // The modules the API, worker and all-in-one entry points import, loaded in a fresh Node process.
    const src = path.join(__dirname, '..', 'src');
    const script = `
      for (const m of ['api/http/serve', 'api/temporal/temporal-client', 'worker/run-worker', 'tracing/load'])
        require(${JSON.stringify(src)} + '/' + m);
      const loaded = Object.keys(require.cache).filter((f) => /node_modules[/]@(opentelemetry|temporalio[/]interceptors)/.test(f));
      console.log(JSON.stringify([...new Set(loaded.map((f) => f.split('node_modules/').pop().split('/').slice(0, 2).join('/')))]));`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    // Only the small API package (the log lines' trace IDs read it), no SDK, exporter or interceptors.
    assert.deepEqual(JSON.parse(result.stdout), ['@opentelemetry/api']);
  });

  for (const entry of ['api', 'worker', 'all-in-one'] as const) {
    it(`npm run ${entry} stops at once with exit code 2 naming a bad OTEL_EXPORTER_OTLP_ENDPOINT`, function () {
      const txflow = txflowCommand(entry, [], {
        PATH: process.env.PATH,
        OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318',
        TEMPORAL_ADDRESS: '127.0.0.1:1',
      });
      const result = spawnSync(txflow.command, txflow.args, {
        env: txflow.env,
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(result.status, 2, result.stderr);
      assert.ok(
        result.stderr.includes(
          'Invalid configuration:\n  OTEL_EXPORTER_OTLP_ENDPOINT="localhost:4318": must be an http(s) URL',
        ),
        result.stderr,
      );
    });
  }
});
