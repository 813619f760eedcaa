import { z } from 'zod';
import { callbackUrlProblem, MAX_CALLBACK_URL_LENGTH } from '../../callbacks/callback-url';

/** What the API accepts as a `callback_url` (CALLBACK_*); absent: callbacks are off. */
export interface CallbackRules {
  /** CALLBACK_SIGNING_SECRET is set. */
  enabled: boolean;
  allowedHosts: readonly string[];
}

/** `callback_url` in both dialects' submissions: a refused URL is a 400 naming `body.callback_url`. */
export function callbackUrlField(rules: CallbackRules | undefined) {
  return z
    .string({ message: 'must be a string' })
    .max(MAX_CALLBACK_URL_LENGTH, { message: `must be at most ${MAX_CALLBACK_URL_LENGTH} characters` })
    .superRefine((url, ctx) => {
      const problem = rules?.enabled
        ? callbackUrlProblem(url, rules.allowedHosts)
        : 'cannot be used: callbacks are not configured on this server (CALLBACK_SIGNING_SECRET)';
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({
      description:
        'Where the final status (completed, failed, cancelled) is POSTed, signed (Txflow-Signature): an https ' +
        'URL, or http to a host in CALLBACK_ALLOWED_HOSTS; part of the submission (a resend with another one is a 409).',
    });
}
