import { randomUUID } from 'node:crypto';

/** Set by the mocha global fixture (test/setup/global-fixture.ts) to its dev server's host:port. */
export const TEST_TEMPORAL_ADDRESS_ENV = 'TXFLOW_TEST_TEMPORAL_ADDRESS';

/** host:port of the dev server shared by the whole test run. */
export function testTemporalAddress(): string {
  const address = process.env[TEST_TEMPORAL_ADDRESS_ENV];
  if (!address) {
    throw new Error(
      `${TEST_TEMPORAL_ADDRESS_ENV} is not set: the mocha global fixture starts the test Temporal server. ` +
        'Run tests with `npm test` or `npx mocha` (which load dist/test/setup/global-fixture.js through ' +
        '.mocharc.json), or set it to a running server with the txflow search attributes registered.',
    );
  }
  return address;
}

/** A task queue no other test uses, so workers and workflows of different tests never meet. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}
