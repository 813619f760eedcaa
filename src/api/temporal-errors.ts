import { ServiceError, isGrpcServiceError } from '@temporalio/client';

/** Raised when Temporal cannot be reached in time; the API answers 503 with Retry-After. */
export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
}

// gRPC status codes: CANCELLED 1, UNKNOWN 2, DEADLINE_EXCEEDED 4, RESOURCE_EXHAUSTED 8, ABORTED 10,
// INTERNAL 13, UNAVAILABLE 14. None of them says the request was refused for what it asked.
const UNAVAILABLE_CODES = new Set<number>([1, 2, 4, 8, 10, 13, 14]);

/** Maps connection-level failures to TemporalUnavailableError; returns anything else unchanged. */
export function asTemporalUnavailable(err: unknown): unknown {
  const grpc = err instanceof ServiceError ? err.cause : err;
  if (isGrpcServiceError(grpc) && UNAVAILABLE_CODES.has(grpc.code)) {
    return new TemporalUnavailableError(grpc.details || grpc.message);
  }
  if (err instanceof Error && /Failed to connect|connect ECONNREFUSED|deadline/i.test(err.message)) {
    return new TemporalUnavailableError(err.message);
  }
  return err;
}
