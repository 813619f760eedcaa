import { Agent, request, type Dispatcher } from 'undici';
import type { Transaction } from '../domain/transaction';
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
}

export interface PostingClient {
  /** The stored record, or null when the service does not hold the transaction. */
  find(id: string, signal?: AbortSignal): Promise<PostingRecord | null>;
  /** Posts the transaction; resolves once the service answered 200 or 201. */
  post(transaction: Transaction, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

// Statuses that say "try again later" rather than "no": the write did not happen or may have.
const RETRYABLE_4XX = new Set([404, 408, 409, 429]);

export function createPostingClient(options: PostingClientOptions): PostingClient {
  const dispatcher: Dispatcher = new Agent({
    connections: options.connections ?? 64,
    keepAliveTimeout: 30_000,
    connectTimeout: Math.min(options.timeoutMs, 5_000),
  });

  async function call(method: 'GET' | 'POST', path: string, body: string | undefined, signal?: AbortSignal) {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const response = await request(`${options.baseUrl}${path}`, {
        method,
        body,
        headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' },
        signal: combined,
        dispatcher,
      });
      const text = await response.body.text();
      return { status: response.statusCode, text };
    } catch (err) {
      if (timeout.aborted) {
        throw new PostingError('timeout', `${method} ${path}: no answer within ${options.timeoutMs} ms`);
      }
      if (signal?.aborted) throw err;
      const code = (err as { code?: string }).code ?? (err as Error).name;
      throw new PostingError('unavailable', `${method} ${path}: ${code}: ${(err as Error).message}`);
    }
  }

  return {
    async find(id, signal) {
      const path = `/transactions/${encodeURIComponent(id)}`;
      const { status, text } = await call('GET', path, undefined, signal);
      if (status === 404) return null;
      if (status !== 200) throw new PostingError('unavailable', `GET ${path}: answered ${status}`, status);
      const record = parseRecord(text);
      if (!record || record.id !== id) {
        throw new PostingError('unavailable', `GET ${path}: answered 200 without the transaction`, status);
      }
      return record;
    },

    async post(transaction, signal) {
      const { status, text } = await call('POST', '/transactions', encodeBody(transaction, options), signal);
      if (status === 200 || status === 201) return;
      const detail = `POST /transactions: answered ${status}${errorDetail(text)}`;
      if (status >= 400 && status < 500 && !RETRYABLE_4XX.has(status)) {
        throw new PostingError('rejected', detail, status);
      }
      throw new PostingError('unavailable', detail, status);
    },

    close: () => dispatcher.close(),
  };
}

/** The body the posting service takes. Accounts travel in metadata: its API has no fields for them. */
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
      : { ...accounts, ...transaction.metadata };
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

function errorDetail(text: string): string {
  const trimmed = text.trim().slice(0, 200);
  return trimmed ? `: ${trimmed}` : '';
}
