import { request, type Dispatcher } from 'undici';
import { errorCode } from '../shared/error-code';
import type { LoadTransaction } from './workload';

/** How one submission ended: an HTTP status, or a network-level error (no status). */
export interface SubmitAnswer {
  status: number | null;
  /** For network errors: the error code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, ...). */
  error: string | null;
  /** A bit of the body of a non-2xx answer, for the report. */
  detail?: string;
}

const PATHS = { api: '/api/transactions', webhook: '/v1/webhooks/transactions' } as const;
const DETAIL_CHARS = 300;

/** A key for counting answers: "202", "409", "network:ECONNRESET". */
export function answerKey(answer: SubmitAnswer): string {
  return answer.status !== null ? String(answer.status) : `network:${answer.error ?? 'unknown'}`;
}

export function isAccepted(answer: SubmitAnswer): boolean {
  return answer.status !== null && answer.status >= 200 && answer.status < 300;
}

/** Sends a transaction's body to its dialect's endpoint; never throws. */
export async function submit(
  api: string,
  tx: LoadTransaction,
  dispatcher: Dispatcher,
  timeoutMs: number,
): Promise<SubmitAnswer> {
  try {
    const res = await request(`${api}${PATHS[tx.dialect]}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: tx.body,
      dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    if (res.statusCode >= 200 && res.statusCode < 300) {
      await res.body.dump();
      return { status: res.statusCode, error: null };
    }
    const text = await res.body.text().catch(() => '');
    return { status: res.statusCode, error: null, detail: text.slice(0, DETAIL_CHARS) };
  } catch (err) {
    return { status: null, error: errorCode(err), detail: err instanceof Error ? err.message : String(err) };
  }
}
