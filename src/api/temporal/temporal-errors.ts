import { ServiceError, isGrpcServiceError } from '@temporalio/client';

/** Raised when Temporal cannot be reached in time; the API answers 503 with Retry-After. */
export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
}

/**
 * A workflow start that got no answer: the request may have reached Temporal and been recorded (the answer
 * was lost, or came after the deadline). Resending it is safe: the workflow ID is the transaction ID, so
 * Temporal never starts a second run for it.
 */
export class StartOutcomeUnknownError extends TemporalUnavailableError {
  override name = 'StartOutcomeUnknownError';
  constructor(
    message: string,
    readonly transactionId: string,
  ) {
    super(message);
  }
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

/**
 * Like asTemporalUnavailable, for the start of transaction `transactionId`'s workflow: every such failure
 * becomes StartOutcomeUnknownError. Even one that says the connection was refused does not prove nothing was
 * started: the client retries UNAVAILABLE by itself within the deadline, so an earlier attempt may have
 * reached the server and been recorded before its connection dropped (test/start-outcome.test.ts shows it).
 */
export function asStartFailure(err: unknown, transactionId: string): unknown {
  const mapped = asTemporalUnavailable(err);
  if (!(mapped instanceof TemporalUnavailableError)) return mapped;
  return new StartOutcomeUnknownError(mapped.message, transactionId);
}
