import { context, propagation, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';

/** Runs `send` in a CLIENT span (withClientSpan with the process's tracer). */
export type TracedCall = <T extends { status: number }>(
  call: ClientCall,
  send: (headers: Record<string, string>) => Promise<T>,
) => Promise<T>;

export interface ClientCall {
  method: string;
  url: string;
  /** The path pattern, for the span's name (`GET /transactions/{id}`): IDs stay out of names. */
  route: string;
}

/**
 * Runs one outgoing HTTP call in a CLIENT span, a child of the current span (the activity's), handing `send`
 * the headers that carry it to the server (`traceparent`). A status of 500 or more marks the span as an error;
 * so does a throw, which is passed on.
 */
export async function withClientSpan<T extends { status: number }>(
  tracer: Tracer,
  call: ClientCall,
  send: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(
    `${call.method} ${call.route}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { [ATTR_HTTP_REQUEST_METHOD]: call.method, [ATTR_URL_FULL]: call.url },
    },
    async (span) => {
      const headers: Record<string, string> = {};
      propagation.inject(context.active(), headers);
      try {
        const result = await send(headers);
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, result.status);
        if (result.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        return result;
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}
