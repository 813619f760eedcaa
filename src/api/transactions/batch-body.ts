import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type RequestHandler } from 'express';
import { HttpProblem } from '../http/problem';
import { requireUtf8 } from '../http/validate';

/** Where batches are submitted. */
export const BATCH_PATH = '/api/transactions/batch';

/** Default of API_BATCH_MAX_ITEMS. */
export const DEFAULT_BATCH_MAX_ITEMS = 1_000;

// A valid item's fields other than metadata take under 8 KiB of JSON even with every character \u-escaped
// (description 500 characters: 3,000 bytes; id, accounts, amount, currency, timestamp and keys: under 2,500).
const ITEM_FIELDS_ALLOWANCE = 8 * 1024;

/**
 * The batch route's body limit: API_BATCH_MAX_ITEMS items of at most what a valid item can take (its metadata
 * limit plus the other fields, never more than the single body limit), and never below the single body limit.
 * With the defaults: 1,000 x 16 KiB = 16 MiB, against 64 MiB for 1,000 single body limits.
 */
export function batchBodyLimitBytes(limits: {
  maxItems: number;
  bodyLimitBytes: number;
  metadataLimitBytes: number;
}): number {
  const perItem = Math.min(limits.bodyLimitBytes, limits.metadataLimitBytes + ITEM_FIELDS_ALLOWANCE);
  return Math.max(limits.bodyLimitBytes, limits.maxItems * perItem);
}

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
