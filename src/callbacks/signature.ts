import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Txflow-Signature';
export const EVENT_ID_HEADER = 'Txflow-Event-Id';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, the value of Txflow-Signature. */
export function signatureHeader(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${hmac(secret, t, body)}`;
}

/**
 * What a receiver does (the README shows the same lines): the HMAC matches and `t` is within `toleranceSec` of
 * now, so that a captured request cannot be replayed later.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  toleranceSec = 300,
  nowSec = Math.floor(Date.now() / 1000),
): boolean {
  const parts = new Map((header ?? '').split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const given = Buffer.from(parts.get('v1') ?? '', 'hex');
  const expected = Buffer.from(hmac(secret, t, body), 'hex');
  if (!Number.isInteger(t) || Math.abs(nowSec - t) > toleranceSec) return false;
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function hmac(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}
