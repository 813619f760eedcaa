// Load as a careful real client sends it: N transactions, each with its own ID, leaving at planned times (open
// loop); a 503 is retried after its Retry-After, a network error or another 5xx after a backoff, always with
// the same ID and the same body, until a 2xx (202 new, 200 already known) or a final 4xx. Every answer is kept.
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { errorCode } from '../shared/error-code';

export interface LoadOptions {
  api: string;
  /** Every ID is `${idPrefix}${n}`. */
  idPrefix: string;
  count: number;
  /** New transactions per second. */
  rate: number;
  /** Longest a 503's Retry-After is honoured (the API says 5 s; a test may wait less). Default 5 s. */
  maxRetryAfterMs?: number;
  /** A transaction without a 2xx after this long (from its first send) is given up. Default 180 s. */
  giveUpMs?: number;
  /** One request. Default 15 s. */
  requestTimeoutMs?: number;
  connections?: number;
  /** The last `reserve` transactions are not sent by the schedule, only by burst(). Default 0. */
  reserve?: number;
}

/** One HTTP request of a transaction and how it ended. */
export interface Attempt {
  sentAt: number;
  answeredAt: number;
  /** HTTP status, null for a network error (no answer). */
  status: number | null;
  /** Network error code (ECONNREFUSED, UND_ERR_SOCKET, ...). */
  error: string | null;
  /** The Retry-After header of a 503. */
  retryAfter: string | null;
}

export interface TxRecord {
  id: string;
  n: number;
  body: string;
  amount: string;
  attempts: Attempt[];
  /** The first 2xx status (202 new, 200 known), null without one. */
  acceptedStatus: number | null;
  acceptedAt: number | null;
  /** A final refusal (4xx other than 408/429), e.g. a 409. */
  refusedStatus: number | null;
  gaveUp: boolean;
}

export interface LoadSummary {
  submitted: number;
  /** Transactions answered 2xx in the end. */
  accepted: number;
  /** Of them: the first 2xx was a 202 / a 200. */
  accepted202: number;
  accepted200: number;
  refused: number;
  gaveUp: number;
  requests: number;
  /** Transactions that needed more than one request. */
  retried: number;
  /** Every answer of every request by status or network:<code>. */
  answers: Record<string, number>;
  /** Seconds from the first send to the last first-2xx. */
  seconds: number;
}

export function answerKey(a: Pick<Attempt, 'status' | 'error'>): string {
  return a.status !== null ? String(a.status) : `network:${a.error ?? 'unknown'}`;
}

export class Load {
  readonly records: TxRecord[];
  /** Requests awaiting an answer now. */
  inFlight = 0;
  private next = 0;
  private bursted = 0;
  private startedAt = 0;
  private readonly agent: Agent;
  private readonly stopper = new AbortController();
  private readonly pending = new Set<Promise<void>>();
  private loop: Promise<void> = Promise.resolve();

  constructor(readonly options: LoadOptions) {
    this.agent = new Agent({ connections: options.connections ?? 64, keepAliveTimeout: 10_000 });
    this.records = Array.from({ length: options.count }, (_, n) => makeRecord(options.idPrefix, n));
  }

  /** Starts the open loop; `done()` resolves when every transaction has its final answer. */
  start(): this {
    this.startedAt = Date.now();
    this.loop = this.run();
    return this;
  }

  /** Transactions whose first request has left. */
  get submitted(): number {
    return this.next;
  }

  get accepted(): number {
    return this.records.filter((r) => r.acceptedStatus !== null).length;
  }

  /** Transactions with a final answer (2xx, refused or given up). */
  get finished(): number {
    return this.records.filter((r) => r.acceptedStatus !== null || r.refusedStatus !== null || r.gaveUp)
      .length;
  }

  /** Sends the next `k` transactions at once (they leave the schedule), e.g. to have requests in flight. */
  burst(k: number): void {
    for (let i = 0; i < k && this.next < this.records.length; i++) {
      this.bursted++;
      this.launch(this.records[this.next++] as TxRecord);
    }
  }

  /** Resolves once every transaction is sent and has its final answer. */
  async done(): Promise<void> {
    await this.loop;
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Stops sending and retrying; what is in flight is still awaited by done(). */
  stop(): void {
    this.stopper.abort();
  }

  async close(): Promise<void> {
    this.stop();
    await this.done().catch(() => undefined);
    await this.agent.close();
  }

  /** "sent 40/60 | 2xx 38 | in flight 1 | 503 3 | network:ECONNREFUSED 2" */
  status(): string {
    const answers = this.answers();
    const other = Object.entries(answers)
      .filter(([k]) => k !== '202' && k !== '200')
      .map(([k, v]) => `${k} ${v}`);
    return [
      `sent ${this.next}/${this.records.length}`,
      `2xx ${this.accepted}`,
      `in flight ${this.inFlight}`,
      ...other,
    ].join(' | ');
  }

  answers(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.records) {
      for (const a of r.attempts) counts[answerKey(a)] = (counts[answerKey(a)] ?? 0) + 1;
    }
    return counts;
  }

  summary(): LoadSummary {
    const accepted = this.records.filter((r) => r.acceptedStatus !== null);
    const lastAccepted = Math.max(this.startedAt, ...accepted.map((r) => r.acceptedAt ?? 0));
    return {
      submitted: this.next,
      accepted: accepted.length,
      accepted202: accepted.filter((r) => r.acceptedStatus === 202).length,
      accepted200: accepted.filter((r) => r.acceptedStatus === 200).length,
      refused: this.records.filter((r) => r.refusedStatus !== null).length,
      gaveUp: this.records.filter((r) => r.gaveUp).length,
      requests: this.records.reduce((a, r) => a + r.attempts.length, 0),
      retried: this.records.filter((r) => r.attempts.length > 1).length,
      answers: this.answers(),
      seconds: round((lastAccepted - this.startedAt) / 1000),
    };
  }

  private async run(): Promise<void> {
    const { rate } = this.options;
    const scheduled = () => this.records.length - Math.max(0, (this.options.reserve ?? 0) - this.bursted);
    while (this.next < scheduled() && !this.stopper.signal.aborted) {
      const planned = this.startedAt + ((this.next - this.bursted) * 1000) / rate;
      const wait = planned - Date.now();
      if (wait > 0) await sleep(wait);
      if (this.next >= scheduled() || this.stopper.signal.aborted) break;
      this.launch(this.records[this.next++] as TxRecord);
    }
  }

  private launch(record: TxRecord): void {
    const p = this.submit(record);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Sends until a 2xx or a final 4xx, or until it gives up. */
  private async submit(record: TxRecord): Promise<void> {
    const giveUpAt = Date.now() + (this.options.giveUpMs ?? 180_000);
    for (let retry = 0; ; retry++) {
      const attempt = await this.once(record.body);
      record.attempts.push(attempt);
      const { status } = attempt;
      if (status !== null && status >= 200 && status < 300) {
        record.acceptedStatus = status;
        record.acceptedAt = attempt.answeredAt;
        return;
      }
      if (status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429) {
        record.refusedStatus = status;
        return;
      }
      let waitMs: number;
      if (status === 503 && attempt.retryAfter !== null && /^\d+$/.test(attempt.retryAfter)) {
        waitMs = Math.min(Number(attempt.retryAfter) * 1000, this.options.maxRetryAfterMs ?? 5_000);
      } else {
        waitMs = Math.min(200 * 2 ** retry, 2_000);
      }
      waitMs *= 1 + Math.random() * 0.2;
      if (Date.now() + waitMs > giveUpAt || this.stopper.signal.aborted) {
        record.gaveUp = true;
        return;
      }
      await sleep(waitMs);
    }
  }

  private async once(body: string): Promise<Attempt> {
    const sentAt = Date.now();
    const timeoutMs = this.options.requestTimeoutMs ?? 15_000;
    this.inFlight++;
    try {
      const res = await request(`${this.options.api}/api/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        dispatcher: this.agent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      await res.body.dump();
      const retryAfter = res.headers['retry-after'];
      return {
        sentAt,
        answeredAt: Date.now(),
        status: res.statusCode,
        error: null,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
      };
    } catch (err) {
      return { sentAt, answeredAt: Date.now(), status: null, error: errorCode(err), retryAfter: null };
    } finally {
      this.inFlight--;
    }
  }
}

function makeRecord(idPrefix: string, n: number): TxRecord {
  const id = `${idPrefix}${n}`;
  const amount = `${1 + (n % 997)}.${String(n % 100).padStart(2, '0')}`;
  const body = JSON.stringify({
    id,
    amount,
    currency: 'EUR',
    description: `chaos ${n}`,
    source_account: `acc_${n % 17}`,
    destination_account: `acc_${(n % 17) + 100}`,
  });
  return {
    id,
    n,
    body,
    amount,
    attempts: [],
    acceptedStatus: null,
    acceptedAt: null,
    refusedStatus: null,
    gaveUp: false,
  };
}

/** Resolves once `condition` holds (checked every `everyMs`), false when `timeoutMs` passed first. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= end) return false;
    await sleep(everyMs);
  }
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
