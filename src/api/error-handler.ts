import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HttpProblem } from './problem';
import { TemporalUnavailableError } from './temporal-errors';

// body-parser's error types → what the client did wrong.
const BODY_ERRORS: Record<string, [number, string]> = {
  'entity.parse.failed': [400, 'Malformed JSON'],
  'entity.too.large': [413, 'Body too large'],
  'encoding.unsupported': [415, 'Unsupported content encoding'],
  'charset.unsupported': [415, 'Unsupported charset'],
  'request.aborted': [400, 'Request aborted'],
  'request.size.invalid': [400, 'Body size does not match Content-Length'],
  'stream.encoding.set': [500, 'Internal error'],
};

const RETRY_AFTER_SECONDS = 5;

export const notFoundHandler: RequestHandler = (req) => {
  throw new HttpProblem(404, 'Not found', `No route for ${req.method} ${req.path}`);
};

/** The one error handler: every error becomes problem+json; nothing internal reaches the client. */
export const errorHandler: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) {
    // Too late for a problem answer: Express's own handler cuts the connection.
    req.log.error({ err }, 'request failed after the answer started');
    next(err);
    return;
  }
  const problem = toProblem(err);
  if (problem.status >= 500) req.log.error({ err }, 'request failed');
  else req.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'request refused');
  res
    .status(problem.status)
    .set(problem.headers)
    .type('application/problem+json')
    .json({
      type: 'about:blank',
      title: problem.title,
      status: problem.status,
      ...(problem.detail !== undefined && { detail: problem.detail }),
      ...(problem.errors !== undefined && { errors: problem.errors }),
      instance: req.originalUrl,
      request_id: req.id,
    });
};

function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof TemporalUnavailableError) {
    return new HttpProblem(
      503,
      'Service unavailable',
      'The workflow service cannot be reached; nothing was started. Retry with the same ID.',
      undefined,
      { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    );
  }
  const type = (err as { type?: string }).type;
  const known = type === undefined ? undefined : BODY_ERRORS[type];
  if (known) return new HttpProblem(known[0], known[1]);
  // Other client errors raised by Express itself (http-errors style `status`): a path that is not valid
  // percent-encoding, a body that does not decompress. Their own messages stay in the log.
  const status = clientErrorStatus(err);
  if (status !== undefined) {
    return err instanceof URIError
      ? new HttpProblem(status, 'Malformed URL', 'The path is not valid percent-encoding')
      : new HttpProblem(status, 'Bad request', 'The request could not be read');
  }
  return new HttpProblem(
    500,
    'Internal error',
    'The request could not be completed; it is safe to retry with the same ID.',
  );
}

function clientErrorStatus(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code < 500 ? code : undefined;
}
