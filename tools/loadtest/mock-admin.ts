import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import type { FaultSettings } from '../mock/config';
import type { MockStats } from '../mock/store';
import type { FaultFlags } from './options';

/** A row as GET /transactions lists it (only what the checks read). */
export interface DownstreamRow {
  id: string;
  amount: string;
  currency: string;
}

/** The mock posting service's admin and listing endpoints, as the load test uses them. */
export class MockAdmin {
  constructor(
    readonly url: string,
    private readonly dispatcher: Dispatcher,
    private readonly timeoutMs = 30_000,
  ) {}

  stats(): Promise<MockStats> {
    return this.#json<MockStats>('GET', '/admin/stats');
  }

  faults(): Promise<FaultSettings> {
    return this.#json<FaultSettings>('GET', '/admin/faults');
  }

  setFaults(patch: Partial<FaultSettings>): Promise<FaultSettings> {
    return this.#json<FaultSettings>('PUT', '/admin/faults', patch);
  }

  /** Deletes every row (also other runs'): only with --cleanup. */
  async cleanup(): Promise<number> {
    return (await this.#json<{ count: number }>('POST', '/cleanup')).count;
  }

  /**
   * Every stored row. GET /transactions is subject to the mock's GET faults (and outage), so 5xx answers
   * are retried a few times; the faults should have been restored before this.
   */
  async rows(attempts = 5): Promise<DownstreamRow[]> {
    for (let i = 1; ; i++) {
      try {
        const body = await this.#json<{ data: DownstreamRow[] }>('GET', '/transactions');
        return body.data;
      } catch (err) {
        if (i >= attempts) throw err;
        await sleep(200 * i);
      }
    }
  }

  async #json<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await request(`${this.url}${path}`, {
      method,
      dispatcher: this.dispatcher,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      ...(body !== undefined && {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    });
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      throw new Error(`${method} ${this.url}${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    }
    return (await res.body.json()) as T;
  }
}

/** The fault patch of the flags, in the mock's terms. */
export function faultPatch(flags: FaultFlags): Partial<FaultSettings> {
  return Object.fromEntries(
    Object.entries(flags).filter(([, v]) => v !== undefined),
  ) as Partial<FaultSettings>;
}

/** The previous values of exactly the knobs a patch changes, to put them back afterwards. */
export function restorePatch(previous: FaultSettings, patch: Partial<FaultSettings>): Partial<FaultSettings> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(patch) as (keyof FaultSettings)[]) out[key] = previous[key];
  return out as Partial<FaultSettings>;
}
