/**
 * Why a call to the posting service did not succeed. What matters for exactly-once is whether a POST may have
 * been written:
 * - rejected: the service refused the transaction (a 4xx it does not document as "not processed"); nothing was
 *   written and asking again will not help.
 * - not_written: a POST that surely wrote nothing (a status the service documents as "not processed", such as
 *   503 or 429, or a connection that could not be opened): safe to send again after the usual look.
 * - unknown: a POST that may have been written, now or later (no answer in time, a connection lost mid-request,
 *   any other status): nothing is sent again until the write-settle window has passed and a look found nothing.
 * - conflict: the service holds the transaction's ID with another amount, currency or accounts: never "found".
 * - unavailable / timeout: a GET without a usable answer; reads are always safe to repeat.
 */
export type PostingErrorKind =
  'rejected' | 'not_written' | 'unknown' | 'conflict' | 'unavailable' | 'timeout';

export class PostingError extends Error {
  override name = 'PostingError';
  constructor(
    readonly kind: PostingErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
