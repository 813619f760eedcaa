import { randomUUID } from 'node:crypto';

/** Address of the dev server the global fixture started for this test run. */
export function testTemporalAddress(): string {
  const address = process.env.TXFLOW_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('TXFLOW_TEST_TEMPORAL_ADDRESS is not set: run the tests with `npm test`');
  return address;
}

/** A task queue no other test uses, so leftover tasks of one test never reach another's worker. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}
