// Mocha global fixture (required by .mocharc.json): one in-memory, headless Temporal dev server for the
// whole run, shared through TXFLOW_TEST_TEMPORAL_ADDRESS; tests isolate themselves by task queue.
// When that variable is already set, its server is used and none is started.
import { createLogger } from '../../src/config/logger';
import { type DevServer, startDevServer } from '../../tools/stack/dev-server';
import { freePort } from '../../tools/shared/ports';
import { progressReporter } from '../../tools/shared/progress';
import { obtainTemporalCli } from '../../tools/stack/temporal-cli';
import { TEST_TEMPORAL_ADDRESS_ENV } from '../support/temporal';

let server: DevServer | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  if (process.env[TEST_TEMPORAL_ADDRESS_ENV]) return;
  const log = createLogger('test-fixture');
  const reporter = progressReporter(process.stderr);
  const cliPath = await obtainTemporalCli({ onProgress: reporter.onProgress, log });
  reporter.done();
  server = await startDevServer({
    cliPath,
    port: await freePort(),
    uiPort: false,
    namespace: 'default',
    log,
  });
  process.env[TEST_TEMPORAL_ADDRESS_ENV] = server.address;
  log.debug({ address: server.address }, 'test temporal server ready');
}

export async function mochaGlobalTeardown(): Promise<void> {
  if (!server) return;
  await server.stop();
  delete process.env[TEST_TEMPORAL_ADDRESS_ENV];
  server = undefined;
}
