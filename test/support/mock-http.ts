import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** A transaction body as the worker posts it (accounts in metadata). */
export function mockBody(
  id: string,
  extra: Record<string, unknown> = {},
): { id: string } & Record<string, unknown> {
  return {
    id,
    amount: '150.50',
    currency: 'INR',
    description: 'Payment',
    timestamp: '2026-11-23T10:00:00.000Z',
    metadata: { source_account: 'acc_a', destination_account: 'acc_b' },
    ...extra,
  };
}

/**
 * POST /transactions over real HTTP, with an Idempotency-Key when `key` is given; 'timeout' when no answer came
 * within `timeoutMs` (the request is then aborted: the mock sees the client go away). Never rejects (a pending
 * one must not fail a later test when its mock stops): a network error resolves 'connection error'.
 */
export async function postTx(
  url: string,
  body: unknown,
  opts: { key?: string; timeoutMs?: number } = {},
): Promise<Answer | 'timeout' | 'connection error'> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.key !== undefined) headers['idempotency-key'] = opts.key;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
  try {
    const res = await request(`${url}/transactions`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal,
    });
    return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Answer['body'] };
  } catch {
    if (signal.aborted) return 'timeout';
    return 'connection error';
  }
}

/** The answer of a postTx, asserting there was one. */
export async function answered(pending: ReturnType<typeof postTx>): Promise<Answer> {
  const answer = await pending;
  assert.ok(typeof answer === 'object', `the mock should have answered: ${String(answer)}`);
  return answer;
}

/** GET /transactions/:id: its status. */
export async function getStatus(url: string, id: string): Promise<number> {
  const res = await request(`${url}/transactions/${encodeURIComponent(id)}`);
  await res.body.dump();
  return res.statusCode;
}

/** GET /transactions: the rows held for `id`. */
export async function rowsFor(url: string, id: string): Promise<Record<string, unknown>[]> {
  const res = await request(`${url}/transactions`);
  const { data } = (await res.body.json()) as { data: Record<string, unknown>[] };
  return data.filter((row) => row.id === id);
}

/**
 * A plain retry loop with no settle window, as a naive downstream client writes it: POST; on a timeout look
 * (GET) at once and, if the transaction is not there (404), POST again; on a refusal (409, 5xx) pause, look and
 * POST again. Stops once a POST is answered 200/201 or a look finds the transaction. Returns what it saw.
 */
export async function naiveClient(
  url: string,
  body: { id: string },
  opts: { timeoutMs: number; key?: string; pauseMs?: number; maxPosts?: number },
): Promise<string[]> {
  const trace: string[] = [];
  for (let posts = 0; posts < (opts.maxPosts ?? 20); posts++) {
    const answer = await postTx(url, body, opts);
    if (typeof answer === 'string') {
      trace.push(`POST ${answer}`);
    } else {
      trace.push(`POST ${answer.status}`);
      if (answer.status === 200 || answer.status === 201) return trace;
      await sleep(opts.pauseMs ?? 100);
    }
    const looked = await getStatus(url, body.id);
    trace.push(`GET ${looked}`);
    if (looked === 200) return trace;
  }
  throw new Error(`the naive client gave up: ${trace.join(', ')}`);
}
