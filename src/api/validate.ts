import type { z } from 'zod';
import { HttpProblem, validationProblem } from './problem';
import type { Request } from 'express';

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
