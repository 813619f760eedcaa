// The operator commands' one way to the API: its URL from --api-url (else TXFLOW_API_URL, else the local
// stack's), its key from TXFLOW_API_KEY (never a flag: flags end up in shell history and `ps`).
import { Agent, fetch, type Response } from 'undici';
import { FlagError } from '../shared/cli';

// A redrive answers when it is done (up to limit / REDRIVE_MAX_PER_SECOND seconds): no client-side timeout.
const patient = new Agent({ headersTimeout: 0, bodyTimeout: 0 });

/** Closes the kept-alive connection, so the command exits at once. */
export const closeApi = (): Promise<void> => patient.close();

export const API_URL_FLAG = {
  type: 'string',
  help: 'the txflow API (key: env TXFLOW_API_KEY)',
  shown: 'TXFLOW_API_URL, http://127.0.0.1:3000',
} as const;

export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** Exit codes shared by the operator commands. */
export const EXIT = { ok: 0, refused: 1, flags: 2, unreachable: 3 } as const;

export function apiUrl(flag: string | undefined, env = process.env): string {
  const url = (flag ?? env.TXFLOW_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(url)) throw new FlagError(`--api-url: must be an http(s) URL, got ${url}`);
  return url;
}

/** One JSON call; throws Unreachable when no HTTP answer came. */
export async function callApi(
  base: string,
  method: 'GET' | 'PUT' | 'POST',
  path: string,
  body?: unknown,
  env = process.env,
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (env.TXFLOW_API_KEY) headers.authorization = `Bearer ${env.TXFLOW_API_KEY}`;
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      dispatcher: patient,
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new Unreachable(
      `${base}: ${err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err)}`,
    );
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: shown as it came.
  }
  return { status: res.status, body: parsed };
}

export class Unreachable extends Error {
  override name = 'Unreachable';
}

/** A problem+json answer as one line per failing field (or its detail). */
export function describeProblem({ status, body }: ApiAnswer): string {
  const p = body as { title?: string; detail?: string; errors?: { field: string; message: string }[] };
  const lines = p?.errors?.length
    ? p.errors.map((e) => `${e.field}: ${e.message}`)
    : [p?.detail ?? p?.title ?? String(body)];
  return [`HTTP ${status}`, ...lines].join('\n  ');
}
