import type { z } from 'zod';
import type { Named, ResponseDoc } from '../http/route';
import { problemSchema } from './openapi-schemas';

export const named = <S extends z.ZodType>(name: string, schema: S): Named<S> => ({ name, schema });

const PROBLEM = named('Problem', problemSchema);

/** A JSON answer described by `body`. */
export const json = (description: string, body: Named, headers?: Record<string, string>): ResponseDoc => ({
  description,
  content: { 'application/json': body },
  ...(headers && { headers }),
});

/** An application/problem+json answer (RFC 9457). */
export const problem = (description: string, headers?: Record<string, string>): ResponseDoc => ({
  description,
  content: { 'application/problem+json': PROBLEM },
  ...(headers && { headers }),
});

export const RETRY_AFTER = { 'Retry-After': 'seconds to wait before retrying' };

/** Answers any route that needs a key can give. */
export const GUARDED: Record<string, ResponseDoc> = {
  '401': problem('API_KEYS is set and no valid key was sent (`WWW-Authenticate: Bearer`)', {
    'WWW-Authenticate': 'Bearer realm="txflow"',
  }),
  '429': problem('over RATE_LIMIT_PER_MINUTE for this client', RETRY_AFTER),
};
