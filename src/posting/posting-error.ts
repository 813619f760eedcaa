/**
 * Why a call to the posting service did not succeed:
 * - rejected: the service refused the transaction (a 4xx other than 404/408/409/429); nothing was written
 *   and asking again will not help.
 * - unavailable: no usable answer (connection refused, 5xx, 404/408/409/429 on POST, a bad body). A POST
 *   may still have been written (post-write failure), so a retry must look before it posts again.
 * - timeout: no answer in time. For a POST the outcome is unknown: it may have been written.
 */
export type PostingErrorKind = 'rejected' | 'unavailable' | 'timeout';

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
