import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { z } from 'zod';
import { HttpProblem, validationProblem } from './problem';

/** Parses with a zod schema; a failure becomes a 400 naming every failing field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, root = 'body'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    field: [root, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw validationProblem(errors);
}

/** Writes need a JSON body: anything else is refused before it is read. */
export function requireJson(req: Request): void {
  if (!req.is(['application/json', 'application/*+json'])) {
    throw new HttpProblem(415, 'Unsupported media type', 'Send the body as application/json');
  }
}

/**
 * express.json's `verify` hook: JSON travels as UTF-8 (RFC 8259), and the body must be valid UTF-8. Without
 * it, a charset such as UTF-7 would hide what the body says from anything in front of the API, and broken
 * bytes would silently become U+FFFD and be stored as if the client had sent them.
 */
export function requireUtf8(
  _req: IncomingMessage,
  _res: ServerResponse,
  body: Buffer,
  encoding: string,
): void {
  if (encoding.toLowerCase() !== 'utf-8') {
    throw new HttpProblem(415, 'Unsupported charset', 'Send the body as UTF-8');
  }
  if (!isUtf8(body)) throw new HttpProblem(400, 'Malformed JSON', 'The body is not valid UTF-8');
}
