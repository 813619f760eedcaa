import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type RequestHandler } from 'express';
import { HttpProblem } from '../http/problem';
import { requireUtf8 } from '../http/validate';

/** Where batches are submitted. */
export const BATCH_PATH = '/api/transactions/batch';

/** Default of API_BATCH_MAX_ITEMS. */
export const DEFAULT_BATCH_MAX_ITEMS = 1_000;

// Each batch body's bytes as received, for the exact-number check of its items' amounts and metadata.
const rawBatches = new WeakMap<IncomingMessage, Buffer>();

/** The batch body's bytes as received (UTF-8), or undefined when it had none. */
export const rawBatchBody = (req: IncomingMessage): Buffer | undefined => rawBatches.get(req);

/**
 * The JSON body parser of the batch route, mounted at BATCH_PATH before the app's own parser (which then
 * skips the request: its body has been read). It counts bytes while reading and stops at `limitBytes`: a
 * Content-Length over it is refused before anything is read, a chunked body as soon as it passes it (the
 * rest is read off and dropped, never kept), so a batch costs at most `limitBytes` of buffer.
 */
export function batchBodyParser(limitBytes: number): RequestHandler {
  const parse = express.json({
    limit: limitBytes,
    type: ['application/json', 'application/*+json'],
    verify: (req: IncomingMessage, res: ServerResponse, body: Buffer, encoding: string) => {
      requireUtf8(req, res, body, encoding);
      rawBatches.set(req, body);
    },
  });
  return (req, res, next) => {
    // Mounted at BATCH_PATH: req.path is what follows it ('/' for the route itself).
    if (req.method !== 'POST' || req.path !== '/') {
      next();
      return;
    }
    parse(req, res, (err?: unknown) => {
      next((err as { type?: string } | undefined)?.type === 'entity.too.large' ? tooLarge(limitBytes) : err);
    });
  };
}

function tooLarge(limitBytes: number): HttpProblem {
  const message =
    `the batch body must be at most ${limitBytes} bytes ` +
    '(API_BATCH_MAX_ITEMS items of at most METADATA_LIMIT_BYTES + 8 KiB each): send fewer transactions per batch';
  return new HttpProblem(413, 'Body too large', `body.transactions: ${message}`, [
    { field: 'body.transactions', message },
  ]);
}
