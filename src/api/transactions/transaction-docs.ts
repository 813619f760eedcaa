import type { ResponseDoc } from '../http/route';
import { apiTransactionSchema, v1TransactionSchema } from '../openapi/openapi-schemas';
import { named, problem, RETRY_AFTER } from '../openapi/responses';
import { transactionId, type AmountFormat } from './submission-schemas';

// What both dialects' route declarations say alike in the OpenAPI document.

/** Named once so every request and response that holds a transaction ID refers to one component. */
export const TRANSACTION_ID = named('TransactionId', transactionId);

export const API_TRANSACTION = named('ApiTransaction', apiTransactionSchema);
export const V1_TRANSACTION = named('V1Transaction', v1TransactionSchema);

/** The errors of a submission. */
export const WRITE: Record<string, ResponseDoc> = {
  '400': problem('invalid body, each failing field in `errors`; malformed JSON'),
  '413': problem('body over BODY_LIMIT_BYTES (after decompression)'),
  '415': problem('not application/json, not UTF-8, or an unknown Content-Encoding'),
  '503': problem(
    'Temporal unreachable. Title "Outcome unknown": the start got no answer and may have been recorded; ' +
      '`transaction_id` names the ID (also a generated one) to resend with, Location where to read it. ' +
      'Otherwise nothing was started. Either way a resend with the same ID and body is safe',
    { ...RETRY_AFTER, Location: 'with "Outcome unknown": the transaction\'s URL' },
  ),
};

/** The errors of a route with a transaction ID in its path. */
export const READ: Record<string, ResponseDoc> = {
  '400': problem('the ID in the path is not a valid transaction ID'),
  '404': problem('no transaction with this ID'),
  '503': problem('Temporal unreachable', RETRY_AFTER),
};

/** The amount rules zod cannot express, in words, for a submission's description. */
export const amountRules = (format: AmountFormat, numbersIn: string) =>
  'Rules beyond the schema: `amount` is a positive decimal (string or JSON number) with at most the ' +
  "currency's ISO 4217 minor-unit digits; `currency` is a known ISO 4217 code. " +
  (format === 'number'
    ? 'This API posts amounts downstream as JSON numbers (POSTING_AMOUNT_FORMAT=number): an amount a ' +
      'JSON parser would not read exactly (more significant digits than a double holds, e.g. ' +
      '"99999999999999.99") is refused. '
    : '') +
  `A JSON number in the body (${numbersIn}) whose digits the JSON parser does not ` +
  'read exactly (1.0000000000000001, 9007199254740993, 1e400) is refused rather than changed: send it as ' +
  'a string. The answer to a failed rule is a 400 problem naming the field.';
