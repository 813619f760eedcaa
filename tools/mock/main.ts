import { createServer } from 'node:http';
import { runMain } from '../../src/config/env';
import { createLogger } from '../../src/config/logger';
import { createMockApp } from './app';
import { mockSettings } from './config';
import { Faults } from './faults';
import { TransactionStore } from './store';

// Time in-flight requests get to finish on SIGTERM/SIGINT before their connections are cut.
const SHUTDOWN_GRACE_MS = 2_000;

void runMain(async () => {
  const settings = mockSettings();
  const logger = createLogger('mock');
  const store = new TransactionStore();
  const faults = new Faults(settings.faults);
  const server = createServer(createMockApp({ store, faults, logger }));
  // Longer than the client's keep-alive, so the server is not the side that closes a reused connection.
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  logger.info(
    { url: `http://${host}:${port}`, faults: faults.settings(), seedGiven: settings.seedGiven },
    'mock posting service listening',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'mock posting service stopping');
    server.close(() => {
      logger.info('mock posting service stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    // Held (post-write hang) responses would keep the server open: cut what is left after the grace.
    setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
});
