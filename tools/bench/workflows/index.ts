// Baseline workflows for `npm run bench`: what the Temporal server under txflow can do with no business logic.
import { proxyActivities } from '@temporalio/workflow';
import type { BenchActivities } from '../bench-activities';

const { first, second } = proxyActivities<BenchActivities>({ startToCloseTimeout: '10s' });

/** Started but never run by a worker: measures workflow starts alone. */
export async function noop(): Promise<void> {}

/** The shape of a transaction without its work: two activities, one after the other. */
export async function twoActivities(): Promise<void> {
  await first();
  await second();
}
