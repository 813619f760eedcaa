import { ApplicationFailure, Context } from '@temporalio/activity';
import { callbackUrlProblem } from '../callbacks/callback-url';
import { CallbackSendError, type CallbackSender } from '../callbacks/sender';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader } from '../callbacks/signature';
import { CALLBACK_FAILURES, type AttemptOutcome, type DeliveryInput } from '../domain/callbacks';

/** What the worker needs to send callbacks: the secret never leaves the worker (not in any workflow input). */
export interface CallbackSenderSettings {
  signingSecret: string | undefined;
  allowedHosts: string[];
}

/** One delivery attempt's outcome, counted in `txflow_callback_attempts` for operators. */
type AttemptKind =
  'delivered' | 'gone' | 'refused' | 'http_error' | 'timeout' | 'unreachable' | 'unconfigured';

function count(outcome: AttemptKind): void {
  Context.current()
    .metricMeter.createCounter('txflow_callback_attempts', '1', 'Callback delivery attempts by outcome')
    .add(1, { outcome });
}

export function createCallbackActivities(settings: CallbackSenderSettings, sender: CallbackSender) {
  return {
    /**
     * Sends the event once, signed now (`t` is this attempt's send time). A 2xx delivers it; a 410 stops it; any
     * other answer, a timeout or a refused connection is retried by the workflow's retry policy.
     */
    async deliverCallback(input: DeliveryInput): Promise<AttemptOutcome> {
      const { attempt } = Context.current().info;
      const fail = (kind: AttemptKind, type: string, message: string, status: number | null = null) => {
        count(kind);
        // Also as heartbeat details: when the window ends between attempts, the timeout carries only those.
        Context.current().heartbeat({ attempt, status });
        const nonRetryable = type === CALLBACK_FAILURES.gone || type === CALLBACK_FAILURES.refused;
        return ApplicationFailure.create({ type, message, nonRetryable, details: [{ attempt, status }] });
      };
      if (settings.signingSecret === undefined) {
        // Retried: the operator can set it on the worker within the window.
        throw fail(
          'unconfigured',
          CALLBACK_FAILURES.unconfigured,
          'CALLBACK_SIGNING_SECRET is not set on the worker',
        );
      }
      const problem = callbackUrlProblem(input.url, settings.allowedHosts);
      if (problem) throw fail('refused', CALLBACK_FAILURES.refused, `callback URL refused: it ${problem}`);
      const body = JSON.stringify(input.event);
      let status: number;
      try {
        status = await sender.send(
          input.url,
          body,
          {
            [SIGNATURE_HEADER]: signatureHeader(settings.signingSecret, body),
            [EVENT_ID_HEADER]: input.event.id,
          },
          input.policy.timeoutMs,
          Context.current().cancellationSignal,
        );
      } catch (err) {
        if (!(err instanceof CallbackSendError)) throw err;
        if (err.kind === 'refused') {
          // A name that resolves to an internal address: counted as refused for the operator, but shown to the
          // client (the events API) and retried exactly like a name that does not resolve, so that a client
          // cannot map the operator's internal DNS one callback_url at a time.
          throw fail('refused', CALLBACK_FAILURES.unreachable, notResolved(input.url));
        }
        const type = err.kind === 'timeout' ? CALLBACK_FAILURES.timeout : CALLBACK_FAILURES.unreachable;
        throw fail(err.kind, type, `POST callback: ${err.message}`);
      }
      if (status >= 200 && status < 300) {
        count('delivered');
        return { attempt, status };
      }
      if (status === 410) throw fail('gone', CALLBACK_FAILURES.gone, 'the receiver answered 410 Gone', 410);
      throw fail('http_error', CALLBACK_FAILURES.status, `the receiver answered ${status}`, status);
    },
  };
}

export type CallbackActivities = ReturnType<typeof createCallbackActivities>;

/** What a failed DNS lookup of the URL's host reads like (undici's message for ENOTFOUND). */
function notResolved(url: string): string {
  return `POST callback: getaddrinfo ENOTFOUND ${new URL(url).hostname}`;
}
