import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { z } from 'zod';
import { HttpProblem, validationProblem, type FieldError } from './problem';
import { inexactNumbers } from './raw-numbers';

// Each JSON body's bytes as received (UTF-8), for what JSON.parse loses: the exact digits of its numbers.
const rawBodies = new WeakMap<IncomingMessage, Buffer>();

const fieldErrors = (error: z.ZodError, root: string): FieldError[] =>
  error.issues.map((issue) => ({
    field: [root, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));

/** Parses with a zod schema; a failure becomes a 400 naming every failing field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, root = 'body'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationProblem(fieldErrors(result.error, root));
}

/**
 * validate() of a JSON body, which also refuses a number under the top-level members `exactNumbers` that
 * JSON.parse did not read exactly (1.0000000000000001 read as 1, 9007199254740993 as ...992, 1e400 as
 * Infinity): it would be stored changed.
 */
export function validateBody<S extends z.ZodType>(
  schema: S,
  req: Request,
  exactNumbers: ReadonlySet<string>,
): z.output<S> {
  const result = schema.safeParse(req.body);
  const errors = result.success ? [] : fieldErrors(result.error, 'body');
  const raw = rawBodies.get(req);
  if (raw) {
    const named = new Set(errors.map((e) => e.field));
    for (const { path, text } of inexactNumbers(raw.toString('utf8'), exactNumbers)) {
      const field = ['body', ...path.map(String)].join('.');
      if (named.has(field)) continue;
      named.add(field);
      const shown = text.length > 32 ? `${text.slice(0, 24)}…` : text;
      errors.push({
        field,
        message: `is ${shown}, which a JSON parser reads as ${String(Number(text))}: send it as a string`,
      });
    }
  }
  if (result.success && errors.length === 0) return result.data;
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
 * bytes would silently become U+FFFD and be stored as if the client had sent them. Keeps the bytes for
 * validateBody.
 */
export function requireUtf8(
  req: IncomingMessage,
  _res: ServerResponse,
  body: Buffer,
  encoding: string,
): void {
  if (encoding.toLowerCase() !== 'utf-8') {
    throw new HttpProblem(415, 'Unsupported charset', 'Send the body as UTF-8');
  }
  if (!isUtf8(body)) throw new HttpProblem(400, 'Malformed JSON', 'The body is not valid UTF-8');
  rawBodies.set(req, body);
}
