import { Agent, request, type Dispatcher } from 'undici';
import { holdsAsDouble } from '../domain/decimal';
import type { Transaction } from '../domain/transaction';
import type { TracedCall } from '../tracing/http-client-span';
import { PostingError } from './posting-error';

/** A transaction as the posting service stores it (its own field names). */
export interface PostingRecord {
  id: string;
  amount: string | number;
  currency: string;
  description?: string | null;
  timestamp?: string;
  metadata?: Record<string, unknown> | null;
  [field: string]: unknown;
}

export interface PostingClientOptions {
  baseUrl: string;
  /** Per-request limit; a POST that runs past it has an unknown outcome. */
  timeoutMs: number;
  /** How the decimal amount goes on the wire: a JSON number with the exact digits, or a string. */
  amountFormat: 'number' | 'string';
  /** Connections kept open to the posting service. */
  connections?: number;
  /** Header that carries the transaction ID on every POST (e.g. Idempotency-Key); null sends none. */
  idempotencyHeader?: string | null;
  /** Statuses the service documents as "nothing was written" on a POST (e.g. 429, 503); safe to retry soon. */
  notProcessedStatuses?: readonly number[];
  /** With tracing on: each call in a CLIENT span whose `traceparent` goes to the service. */
  traced?: TracedCall;
}

export interface PostingClient {
  /** The stored record, or null when the service does not hold the transaction. */
  find(id: string, signal?: AbortSignal, timeoutMs?: number): Promise<PostingRecord | null>;
  /** Posts the transaction; resolves once the service answered 200 or 201. `timeoutMs` may shorten the limit. */
  post(transaction: Transaction, signal?: AbortSignal, timeoutMs?: number): Promise<void>;
  /**
   * Every stored row (`GET /transactions`), one per stored POST, so an ID stored twice appears twice; null
   * when the service has no list endpoint (404). Rows without a string ID are left out and counted.
   */
  list(signal?: AbortSignal): Promise<{ rows: PostingRecord[]; unreadable: number } | null>;
  close(): Promise<void>;
}

// 4xx answers to a POST that do not say "no": the route or the record is in an odd state, or the request timed out
// on the service's side. The POST may have been written, so they count as unknown, like a 5xx.
const UNCLEAR_4XX = new Set([404, 408, 409]);
// Errors raised before the request could leave: nothing reached the service. (EHOSTUNREACH and ENETUNREACH are
// left out: they can also end a reused keep-alive socket after the request left.)
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN']);

export function createPostingClient(options: PostingClientOptions): PostingClient {
  const notProcessed = new Set(options.notProcessedStatuses ?? []);
  const dispatcher: Dispatcher = new Agent({
    connections: options.connections ?? 64,
    keepAliveTimeout: 30_000,
    connectTimeout: Math.min(options.timeoutMs, 5_000),
  });

  async function call(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    signal?: AbortSignal,
    timeoutMs = options.timeoutMs,
    extraHeaders: Record<string, string> = {},
  ) {
    const limit = Math.max(1, Math.min(timeoutMs, options.timeoutMs));
    const timeout = AbortSignal.timeout(limit);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const url = `${options.baseUrl}${path}`;
    const send = async (traceHeaders: Record<string, string>) => {
      const response = await request(url, {
        method,
        body,
        headers:
          body === undefined
            ? { accept: 'application/json', ...traceHeaders }
            : { 'content-type': 'application/json', ...extraHeaders, ...traceHeaders },
        signal: combined,
        dispatcher,
      });
      const text = await response.body.text();
      return { status: response.statusCode, text };
    };
    try {
      if (!options.traced) return await send({});
      const route = path.startsWith('/transactions/') ? '/transactions/{id}' : path;
      return await options.traced({ method, url, route }, send);
    } catch (err) {
      if (timeout.aborted) {
        const what = method === 'POST' ? ': outcome unknown, it may still be written' : '';
        throw new PostingError(
          method === 'POST' ? 'unknown' : 'timeout',
          `${method} ${path}: no answer within ${Math.round(limit)} ms${what}`,
        );
      }
      // Aborted by the caller (an activity cancelled, a worker shutting down): a POST may have left all the same.
      if (signal?.aborted && method === 'POST') {
        throw new PostingError(
          'unknown',
          `POST ${path}: abandoned (${describe(signal.reason)}): outcome unknown`,
        );
      }
      if (signal?.aborted) throw err;
      const code = (err as { code?: string }).code ?? (err as Error).name;
      const kind = method === 'GET' ? 'unavailable' : NOT_SENT_CODES.has(code) ? 'not_written' : 'unknown';
      throw new PostingError(kind, `${method} ${path}: ${code}: ${(err as Error).message}`);
    }
  }

  return {
    async find(id, signal, timeoutMs) {
      const path = recordPath(id);
      const { status, text } = await call('GET', path, undefined, signal, timeoutMs);
      if (status === 404) return null;
      if (status !== 200) throw new PostingError('unavailable', `GET ${path}: answered ${status}`, status);
      const record = parseRecord(text);
      if (!record || record.id !== id) {
        throw new PostingError('unavailable', `GET ${path}: answered 200 without the transaction`, status);
      }
      return record;
    },

    async post(transaction, signal, timeoutMs) {
      const body = encodeBody(transaction, options);
      const key = options.idempotencyHeader ? { [options.idempotencyHeader]: transaction.id } : undefined;
      const { status, text } = await call('POST', '/transactions', body, signal, timeoutMs, key);
      if (status === 200 || status === 201) return;
      const detail = `POST /transactions: answered ${status}${errorDetail(text)}`;
      if (notProcessed.has(status)) throw new PostingError('not_written', detail, status);
      if (status >= 400 && status < 500 && !UNCLEAR_4XX.has(status)) {
        throw new PostingError('rejected', detail, status);
      }
      throw new PostingError('unknown', `${detail} (outcome unknown)`, status);
    },

    async list(signal) {
      const { status, text } = await call('GET', '/transactions', undefined, signal);
      if (status === 404) return null;
      if (status !== 200)
        throw new PostingError('unavailable', `GET /transactions: answered ${status}`, status);
      return parseList(text);
    },

    close: () => dispatcher.close(),
  };
}

/**
 * The record's path. A dot segment would be normalised away by any URL parser (`/transactions/..` is `/`), so
 * such an ID never reaches the wire; the API refuses it at intake.
 */
export function recordPath(id: string): string {
  if (id === '.' || id === '..' || id === '') {
    throw new PostingError('rejected', `transaction ID ${JSON.stringify(id)} cannot be put in a URL path`);
  }
  return `/transactions/${encodeURIComponent(id)}`;
}

/**
 * The body the posting service takes. Accounts travel in metadata (its API has no fields for them), written last
 * so that client metadata can never override them.
 */
export function encodeBody(
  transaction: Transaction,
  options: Pick<PostingClientOptions, 'amountFormat'>,
): string {
  const accounts = {
    ...(transaction.sourceAccount !== null && { source_account: transaction.sourceAccount }),
    ...(transaction.destinationAccount !== null && { destination_account: transaction.destinationAccount }),
  };
  const metadata =
    transaction.metadata === null && Object.keys(accounts).length === 0
      ? undefined
      : { ...transaction.metadata, ...accounts };
  if (options.amountFormat === 'number' && !holdsAsDouble(transaction.amount)) {
    throw new PostingError(
      'rejected',
      `amount ${transaction.amount} cannot be sent as an exact JSON number: set POSTING_AMOUNT_FORMAT=string`,
    );
  }
  const json = JSON.stringify({
    amount: transaction.amount,
    id: transaction.id,
    currency: transaction.currency,
    description: transaction.description ?? '',
    timestamp: transaction.timestamp,
    metadata,
  });
  // A JSON number whose text is the exact decimal: "150.50" stays 150.50 on the wire, no float rounding.
  // amount is the first key and a validated decimal, so the first match is ours.
  return options.amountFormat === 'number'
    ? json.replace(`"amount":"${transaction.amount}"`, `"amount":${transaction.amount}`)
    : json;
}

function parseRecord(text: string): PostingRecord | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && 'id' in value
      ? (value as PostingRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `{data: [rows]}` (the mock posting service) or a bare array of rows. */
function parseList(text: string): { rows: PostingRecord[]; unreadable: number } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PostingError('unavailable', 'GET /transactions: answered 200 with a body that is not JSON');
  }
  const items: unknown =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as { data?: unknown }).data
      : value;
  if (!Array.isArray(items)) {
    throw new PostingError('unavailable', 'GET /transactions: answered 200 without a list of transactions');
  }
  const rows = items.filter(
    (item): item is PostingRecord =>
      typeof item === 'object' && item !== null && typeof (item as { id?: unknown }).id === 'string',
  );
  return { rows, unreadable: items.length - rows.length };
}

function describe(reason: unknown): string {
  return reason instanceof Error ? reason.message || reason.name : String(reason);
}

function errorDetail(text: string): string {
  const trimmed = text.trim().slice(0, 200);
  return trimmed ? `: ${trimmed}` : '';
}
