import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { isInternalAddress } from './addresses';
import { hostAllowed } from './callback-url';

/** Why a send ended without an HTTP answer. */
export type SendFailure = 'timeout' | 'unreachable' | 'refused';

export class CallbackSendError extends Error {
  override name = 'CallbackSendError';
  constructor(
    readonly kind: SendFailure,
    message: string,
  ) {
    super(message);
  }
}

const REFUSED_CODE = 'ETXFLOW_INTERNAL_ADDRESS';
const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443' };

/**
 * POSTs callbacks. No redirect is followed (undici's request follows none without its redirect interceptor),
 * and the connection's own DNS lookup refuses internal addresses unless the host is allowed: the address checked
 * is the address connected to, so a name cannot resolve to a public address for a check and a private one after.
 */
export function createCallbackSender(allowedHosts: readonly string[]) {
  // The lookup sees no port, so an allowed host:port is decided per request: its own agent may connect inside.
  const strict = new Agent({ connect: { lookup: guardedLookup(false) }, keepAliveTimeout: 4_000 });
  const trusted = new Agent({ connect: { lookup: guardedLookup(true) }, keepAliveTimeout: 4_000 });
  const agentFor = (url: URL) =>
    hostAllowed(allowedHosts, url.hostname, url.port || DEFAULT_PORT[url.protocol]) ? trusted : strict;
  return {
    /** The HTTP status answered; throws CallbackSendError when there was none. */
    async send(
      url: string,
      body: string,
      headers: Record<string, string>,
      timeoutMs: number,
      cancelled: AbortSignal,
    ): Promise<number> {
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const res = await request(url, {
          dispatcher: agentFor(new URL(url)),
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'txflow-callbacks/1', ...headers },
          body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          signal: AbortSignal.any([timeout, cancelled]),
        });
        // The receiver's answer is not read, only drained (bounded) so the connection can be reused.
        await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
        return res.statusCode;
      } catch (err) {
        throw asSendError(err, timeout.aborted, timeoutMs);
      }
    },
    close: async () => {
      await Promise.all([strict.close(), trusted.close()]);
    },
  };
}

export type CallbackSender = ReturnType<typeof createCallbackSender>;

function asSendError(err: unknown, timedOut: boolean, timeoutMs: number): CallbackSendError {
  const codes: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause)
    codes.push(String((e as { code?: unknown }).code));
  if (codes.includes(REFUSED_CODE)) return new CallbackSendError('refused', messageOf(err));
  if (timedOut || codes.some((c) => /TIMEOUT/.test(c))) {
    return new CallbackSendError('timeout', `no answer within ${timeoutMs} ms`);
  }
  return new CallbackSendError('unreachable', messageOf(err));
}

function messageOf(err: unknown): string {
  let inner = err;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  return inner instanceof Error ? inner.message : String(err);
}

function guardedLookup(internalAllowed: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      // The address is not named: the error reaches the client (the events API), internal DNS must not.
      if (!internalAllowed && addresses.some((a) => isInternalAddress(a.address))) {
        const refused = Object.assign(new Error(`${hostname} resolves to an internal address: not allowed`), {
          code: REFUSED_CODE,
        });
        return callback(refused, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}
