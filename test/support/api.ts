import type { Client } from '@temporalio/client';
import pino from 'pino';
import { createApp, type AppDeps } from '../../src/api/http/app';
import { EventsService } from '../../src/api/events/events-service';
import { HealthService, type HealthServiceDeps } from '../../src/api/health/health-service';
import {
  TransactionsService,
  type TransactionsServiceDeps,
} from '../../src/api/transactions/transactions-service';
import type { ProcessingPolicy } from '../../src/domain/transaction';
import { fastPolicy } from './harness';

/**
 * The real API wired to a real Temporal client, as main.ts wires it, with test-sized limits; no auth and no
 * rate limit unless `overrides` asks for them, no downstream probe unless `health` gives one; `service`
 * overrides the transactions service's limits.
 */
export function testApp(
  client: Client,
  taskQueue: string,
  policy: ProcessingPolicy = fastPolicy(),
  overrides: Partial<Omit<AppDeps, 'transactions' | 'health'>> = {},
  health: Partial<Omit<HealthServiceDeps, 'client' | 'taskQueue'>> = {},
  service: Partial<Omit<TransactionsServiceDeps, 'client' | 'taskQueue' | 'policy'>> = {},
) {
  const transactions = new TransactionsService({
    client,
    taskQueue,
    policy,
    queryDeadlineMs: 60,
    rpcTimeoutMs: 2_000,
    ...service,
  });
  const healthService = new HealthService({
    client,
    taskQueue,
    windowMs: 60_000,
    rpcTimeoutMs: 2_000,
    startedAt: Date.now(),
    ...health,
  });
  return createApp({
    transactions,
    health: healthService,
    logger: pino({ level: 'silent' }),
    events: new EventsService({
      client,
      taskQueue,
      rpcTimeoutMs: 2_000,
      subscribers: service.callbacks?.subscribers ?? [],
    }),
    bodyLimitBytes: 16 * 1024,
    metadataLimitBytes: 2 * 1024,
    version: 'test',
    ...overrides,
  });
}
