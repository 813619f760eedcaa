import express, { type ErrorRequestHandler, type Express, type Response } from 'express';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { failure } from './answers';
import { faultPatchSchema } from './config';
import type { Faults } from './faults';
import { IdempotencyKeys } from './idempotency';
import { LateWrites } from './late-writes';
import { postTransaction } from './post-transaction';
import type { RequestKind, TransactionStore } from './store';
import { describeIssues } from './transaction-body';

export const MOCK_VERSION = '1.0.0';

export interface MockAppOptions {
  store: TransactionStore;
  faults: Faults;
  /** Injected faults and requests log at debug, duplicates at warn, admin changes at info. */
  logger?: Logger;
  /** Largest JSON body taken (express/bytes syntax); 413 past it. */
  bodyLimit?: string | number;
  /** The Idempotency-Keys seen (a fresh set by default). */
  keys?: IdempotencyKeys;
}

/**
 * The mock posting service: the API of vinhopenfabric/mock-posting-service (/transactions, /cleanup,
 * /health) with injected latency, failures and late writes, Idempotency-Key honoured (or not), plus
 * /admin/stats and /admin/faults. No listen here.
 */
export function createMockApp(options: MockAppOptions): Express {
  const { store, faults, logger } = options;
  const keys = options.keys ?? new IdempotencyKeys();
  const lateWrites = new LateWrites();
  const limit = options.bodyLimit ?? '256kb';
  // POST /transactions keeps its raw body to read the amount's exact digits (150.50, not 150.5).
  const rawBodies = new WeakMap<IncomingMessage, Buffer>();
  const transactionJson = express.json({
    limit,
    verify: (req, _res, buf, encoding) => {
      if (/^utf-?8$/i.test(encoding)) rawBodies.set(req, buf);
    },
  });
  const adminJson = express.json({ limit });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/health', (_req, res) => {
    res.json({ status: 'healthy', timestamp: new Date().toISOString(), version: MOCK_VERSION });
  });

  const admin = express.Router();
  admin.get('/stats', (_req, res) => {
    res.json(store.stats());
  });
  admin.get('/faults', (_req, res) => {
    res.json(faults.settings());
  });
  admin.put('/faults', adminJson, (req, res) => {
    const parsed = faultPatchSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: describeIssues(parsed.error) });
      return;
    }
    const settings = faults.update(parsed.data);
    logger?.info({ faults: settings }, 'fault settings changed');
    res.json(settings);
  });
  admin.use((req, res) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.baseUrl}${req.path}` });
  });
  app.use('/admin', admin);

  // Everything past here is the posting API: counted, and down during an outage.
  app.use((req, res, next) => {
    store.recordRequest(requestKind(req.method));
    if (!faults.outage) {
      next();
      return;
    }
    store.recordFault('outage');
    logger?.debug({ method: req.method, path: req.path }, 'outage: answered 503');
    res.status(503).json({ error: 'Service Unavailable' });
  });

  app.post(
    '/transactions',
    transactionJson,
    postTransaction({ store, faults, keys, lateWrites, logger, rawBody: (req) => rawBodies.get(req) }),
  );

  app.get('/transactions/:id', async (req, res) => {
    if (await getFails(res)) return;
    const record = store.first(req.params.id);
    if (record === undefined) {
      res.status(404).json({ error: `transaction ${req.params.id} not found` });
      return;
    }
    res.json(record);
  });

  app.get('/transactions', async (_req, res) => {
    if (await getFails(res)) return;
    res.json({ data: store.all() });
  });

  app.post('/cleanup', (_req, res) => {
    const count = store.clear();
    // Keys and waiting late writes go too: nothing lands in, or replays from, a wiped mock.
    const forgotten = keys.clear();
    const cancelled = lateWrites.cancelAll();
    logger?.info({ count, keys: forgotten, lateWrites: cancelled }, 'cleanup: all transactions deleted');
    res.json({ count });
  });

  app.use((req, res) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
  });

  const onError: ErrorRequestHandler = (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status = clientErrorStatus(err);
    if (status !== undefined) {
      const malformed = (err as { type?: unknown }).type === 'entity.parse.failed';
      const message = err instanceof Error ? err.message : String(err);
      res.status(status).json({ error: malformed ? `malformed JSON: ${message}` : message });
      return;
    }
    logger?.error({ err, method: req.method, path: req.path }, 'unexpected error');
    res.status(500).json({ error: 'internal error' });
  };
  app.use(onError);

  /** Waits the GET latency; answers the injected failure and returns true when there is one. */
  async function getFails(res: Response): Promise<boolean> {
    const plan = faults.planGet();
    if (plan.latencyMs > 0) await sleep(plan.latencyMs);
    if (plan.outcome === 'answer') return false;
    store.recordFault('getFailure');
    logger?.debug({ path: res.req.path, status: plan.status }, 'GET failure');
    failure(res, plan.status);
    return true;
  }

  return app;
}

function requestKind(method: string): RequestKind {
  if (method === 'GET') return 'get';
  if (method === 'POST') return 'post';
  return 'other';
}

/** The 4xx status of an error raised by the body parser (malformed JSON, too large, bad charset). */
function clientErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const status =
    (err as { status?: unknown; statusCode?: unknown }).status ??
    (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}
