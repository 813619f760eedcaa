import { z } from 'zod';
import type { ResponseDoc } from '../http/route';
import { json, problem } from '../openapi/responses';
import { API_TRANSACTION, READ, WRITE } from './transaction-docs';

// What the route declarations say of waiting, in the OpenAPI document.

export const SECONDS = /^[0-9]+$/;

export const waitMessage = (maxSeconds: number, what: string) =>
  maxSeconds === 0
    ? `${what} is turned off on this server (API_MAX_WAIT_SECONDS=0)`
    : `${what} must be a whole number of seconds from 0 to ${maxSeconds}`;

/** `Preference-Applied` of a submission answered under `Prefer: wait`. */
export const PREFERENCE_APPLIED = {
  'Preference-Applied': 'wait=N when the request had `Prefer: wait=N`: the status code tells the outcome',
};

/** The documented `Prefer` header of a submission (the handler parses it: RFC 7240 allows other preferences). */
export const waitHeaders = (maxSeconds: number) => ({
  Prefer: z
    .string()
    .optional()
    .describe(
      `RFC 7240. \`wait=N\` (0 to ${maxSeconds}, API_MAX_WAIT_SECONDS) waits up to N seconds for the transaction ` +
        'to end: 201 (new) or 200 (known) with its final view if it does, else 202 with the current one; either way ' +
        '`Preference-Applied: wait=N`. Other preferences are ignored; a bad `wait` is a 400 naming `header.Prefer`.',
    ),
});

/** The query of `GET /api/transactions/{id}`: `wait`, checked against API_MAX_WAIT_SECONDS; others ignored. */
export const waitQuery = (maxSeconds: number) =>
  z.object({
    wait: z
      .string({ message: waitMessage(maxSeconds, 'wait') })
      .regex(SECONDS, { message: waitMessage(maxSeconds, 'wait') })
      .transform(Number)
      .refine((n) => n <= maxSeconds, { message: waitMessage(maxSeconds, 'wait') })
      .optional()
      .describe(
        `Long-poll: answer once the status differs from the one at the request, or after this many seconds (0 to ${maxSeconds}), whichever comes first. A final transaction is answered at once.`,
      ),
  });

type Responses = Record<string, ResponseDoc>;

export const WAIT_DOCS: {
  submit: Responses;
  submitErrors: Responses;
  readErrors: Responses;
  readDescription: string;
} = {
  submit: {
    '201': json(
      'with `Prefer: wait=N`: a new transaction that ended within N seconds, its final view',
      API_TRANSACTION,
      {
        Location: '/api/transactions/{id}',
        ...PREFERENCE_APPLIED,
      },
    ),
  },
  // The 400s of WRITE and READ, with the wait.
  submitErrors: {
    '400': problem(`${WRITE['400']?.description ?? ''}; a bad \`wait\` in \`Prefer\` (\`header.Prefer\`)`),
  },
  readErrors: { '400': problem(`${READ['400']?.description ?? ''}, or a bad \`wait\` (\`query.wait\`)`) },
  readDescription:
    'With `?wait=N` the answer waits until the status changes (from the one it had when the request came) or N ' +
    'seconds pass, whichever is first; compare the status to know which. A final transaction answers at once.',
};
