import { CircuitBreaker, type BreakerEvents, type BreakerOptions, type CallKind } from './circuit-breaker';
import type { PostingClient } from './posting-client';
import { PostingError } from './posting-error';

/** The ID the probe asks for: a GET of a record nobody posts, answered 404 by a working service. */
export const PROBE_TRANSACTION_ID = 'txflow-breaker-probe';

/**
 * Whether a call's error says the downstream is not working: no answer, a 5xx, or "not processed" (503, 429,
 * connection refused). A refusal, a conflict or an unclear 4xx is an answer from a working service.
 */
export function isDownstreamFailure(err: unknown): boolean {
  if (!(err instanceof PostingError)) return true;
  if (err.kind === 'rejected' || err.kind === 'conflict') return false;
  return err.status === undefined || err.status >= 500 || err.kind === 'not_written';
}

/**
 * The posting client with a breaker in front: every find and post feeds it its outcome. The probe is a real
 * GET of the posting API, not its /health, which can answer while the API itself fails (the mock's outage).
 */
export function withBreaker(
  posting: PostingClient,
  options: BreakerOptions,
  events: BreakerEvents = {},
): { posting: PostingClient; breaker: CircuitBreaker } {
  const probe = () =>
    posting.find(PROBE_TRANSACTION_ID).then(
      () => true,
      (err: unknown) => !isDownstreamFailure(err),
    );
  const breaker = new CircuitBreaker(options, probe, events);
  async function counted<T>(kind: CallKind, call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      breaker.record(true, undefined, kind);
      return result;
    } catch (err) {
      const failed = isDownstreamFailure(err);
      breaker.record(!failed, failed ? describeFailure(err) : undefined, kind);
      throw err;
    }
  }
  return {
    breaker,
    posting: {
      find: (id, signal, timeoutMs) => counted('find', () => posting.find(id, signal, timeoutMs)),
      post: (transaction, signal, timeoutMs) =>
        counted('post', () => posting.post(transaction, signal, timeoutMs)),
      list: (signal) => posting.list(signal),
      close: () => {
        breaker.close();
        return posting.close();
      },
    },
  };
}

/**
 * What a paused transaction shows as its last error: the worker's last failed call may be another transaction's,
 * so only its kind and status, never its path (that transaction's ID) nor the downstream's words about it.
 */
function describeFailure(err: unknown): { message: string; kind: string } {
  const kind = err instanceof PostingError ? err.kind : 'unknown';
  const status = err instanceof PostingError ? err.status : undefined;
  const what = status === undefined ? `failed (${kind})` : `answered ${status}`;
  return { message: `a recent downstream call ${what}`, kind };
}
