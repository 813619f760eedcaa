import express, { type ErrorRequestHandler, type Express, type Response } from 'express';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import { faultPatchSchema } from './config';
import type { Faults } from './faults';
import { rawMember } from './raw-json';
import type { NewTransaction, RequestKind, TransactionStore } from './store';

export const MOCK_VERSION = '1.0.0';

export interface MockAppOptions {
  store: TransactionStore;
  faults: Faults;
  /** Injected faults and requests log at debug, duplicates at warn, admin changes at info. */
  logger?: Logger;
  /** Largest JSON body taken (express/bytes syntax); 413 past it. */
  bodyLimit?: string | number;
}

const DECIMAL = /^\d+(\.\d+)?$/;
const JSON_NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

const transactionSchema = z.object(
  {
    id: z
      .string({ message: 'must be a non-empty string' })
      .min(1, { message: 'must be a non-empty string' })
      .max(256, { message: 'must be at most 256 characters' }),
    amount: z.union([z.number(), z.string()], { message: 'must be a decimal number or string' }),
    currency: z
      .string({ message: 'must be a 3-letter currency code' })
      .regex(/^[A-Z]{3}$/, { message: 'must be a 3-letter currency code' }),
    description: z.string({ message: 'must be a string or null' }).nullish(),
    timestamp: z.string({ message: 'must be a string' }).optional(),
    metadata: z.record(z.string(), z.unknown(), { message: 'must be an object or null' }).nullish(),
  },
  { message: 'must be a JSON object' },
);

/**
 * The mock posting service: the API of vinhopenfabric/mock-posting-service (/transactions, /cleanup,
 * /health) with injected latency and failures, plus /admin/stats and /admin/faults. No listen here.
 */
export function createMockApp(options: MockAppOptions): Express {
  const { store, faults, logger } = options;
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

  app.post('/transactions', transactionJson, async (req, res) => {
    const parsed = parseTransaction(req.body, rawBodies.get(req));
    if (!parsed.ok) {
      store.recordRejected();
      res.status(400).json({ error: parsed.error });
      return;
    }
    const tx = parsed.transaction;
    const plan = faults.planPost();
    if (plan.latencyMs > 0) await sleep(plan.latencyMs);
    if (plan.outcome === 'preWriteFailure') {
      store.recordFault('preWrite');
      logger?.debug({ id: tx.id, status: plan.status }, 'pre-write failure: nothing stored');
      failure(res, plan.status);
      return;
    }
    const { record, copies } = store.add(tx);
    if (copies > 1) logger?.warn({ id: tx.id, copies }, 'transaction stored more than once');
    switch (plan.outcome) {
      case 'store':
        logger?.debug({ id: tx.id, latencyMs: plan.latencyMs }, 'transaction stored');
        res.status(201).json(record);
        return;
      case 'postWriteError':
        store.recordFault('postWrite');
        logger?.debug({ id: tx.id, status: plan.status }, 'post-write failure: stored, answered 5xx');
        failure(res, plan.status);
        return;
      case 'postWriteHang':
        store.recordFault('postWrite');
        store.recordFault('postWriteHang');
        logger?.debug({ id: tx.id, holdMs: plan.holdMs }, 'post-write failure: stored, response held');
        await hold(res, plan.holdMs);
        return;
    }
  });

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
    logger?.info({ count }, 'cleanup: all transactions deleted');
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

type ParsedTransaction = { ok: true; transaction: NewTransaction } | { ok: false; error: string };

function parseTransaction(body: unknown, raw: Buffer | undefined): ParsedTransaction {
  const parsed = transactionSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: describeIssues(parsed.error) };
  const { amount, ...rest } = parsed.data;
  const text = typeof amount === 'string' ? amount : numberText(amount, raw);
  if (!DECIMAL.test(text) || !/[1-9]/.test(text)) {
    return { ok: false, error: 'amount: must be a positive decimal such as 150.50' };
  }
  return { ok: true, transaction: { ...rest, amount: text } };
}

/** The amount's digits as the client wrote them when the raw body shows them, else String(amount). */
function numberText(amount: number, raw: Buffer | undefined): string {
  if (raw !== undefined) {
    const text = rawMember(raw.toString('utf8'), 'amount');
    if (text !== undefined && JSON_NUMBER.test(text) && Number(text) === amount) return text;
  }
  return String(amount);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}

function requestKind(method: string): RequestKind {
  if (method === 'GET') return 'get';
  if (method === 'POST') return 'post';
  return 'other';
}

function failure(res: Response, status: number): void {
  res.status(status).json({ error: STATUS_CODES[status] ?? 'error' });
}

/** Holds the response for `ms`, then answers 504; gives up at once if the client goes away. */
function hold(res: Response, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      if (!res.destroyed) failure(res, 504);
      resolve();
    }, ms);
    res.once('close', onClose);
  });
}

/** The 4xx status of an error raised by the body parser (malformed JSON, too large, bad charset). */
function clientErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const status =
    (err as { status?: unknown; statusCode?: unknown }).status ??
    (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}
