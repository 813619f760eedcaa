import { Agent, request } from 'undici';

export interface ProbeResult {
  url: string;
  /** The downstream answered its health endpoint with a 2xx in time. */
  ok: boolean;
  http_status: number | null;
  latency_ms: number | null;
  /** Why not ok: `HTTP 503`, `timeout`, `ECONNREFUSED`, ... */
  error: string | null;
  checked_at: string;
}

export interface DownstreamProbeOptions {
  /** The posting service's base URL; its `GET /health` is probed. */
  baseUrl: string;
  /** At most one probe per this many ms; callers in between get the last result. */
  intervalMs: number;
  timeoutMs: number;
}

/**
 * `GET <posting service>/health`, cached and rate-limited: however often health is asked for, the downstream
 * sees at most one probe per interval from this API instance, and never two at once.
 */
export class DownstreamProbe {
  private last?: { at: number; result: Promise<ProbeResult> };
  // One connection is plenty for one request per interval.
  private readonly agent = new Agent({ connections: 1, keepAliveTimeout: 30_000 });

  constructor(private readonly options: DownstreamProbeOptions) {}

  get url(): string {
    return `${this.options.baseUrl}/health`;
  }

  current(): Promise<ProbeResult> {
    const now = Date.now();
    if (!this.last || now - this.last.at >= this.options.intervalMs) {
      this.last = { at: now, result: this.probe(now) };
    }
    return this.last.result;
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async probe(now: number): Promise<ProbeResult> {
    const { timeoutMs } = this.options;
    const base = { url: this.url, checked_at: new Date(now).toISOString() };
    try {
      const res = await request(this.url, {
        dispatcher: this.agent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body.dump();
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return {
        ...base,
        ok,
        http_status: res.statusCode,
        latency_ms: Date.now() - now,
        error: ok ? null : `HTTP ${res.statusCode}`,
      };
    } catch (err) {
      return { ...base, ok: false, http_status: null, latency_ms: null, error: describeError(err) };
    }
  }
}

function describeError(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || /Timeout/.test(e.code ?? '')) return 'timeout';
  return e.code ?? e.cause?.code ?? e.name ?? 'error';
}
