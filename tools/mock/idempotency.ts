// Idempotency keys as payment APIs keep them (Stripe's documented behaviour is the model): the first POST with a
// key reserves it; a repeat while it runs is refused (409), a repeat after it stored gets its row back (200,
// replayed), a repeat with another body is refused (422); a first POST that stored nothing frees the key.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../src/api/transactions/submission';
import type { NewTransaction, StoredTransaction } from './store';

/** The request header the mock reads, and the one it sets on a replayed answer. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';
/** Stripe's limit; txflow's IDs (the keys its worker sends) are at most 128 characters. */
export const MAX_KEY_LENGTH = 255;
/** Keys remembered at most; past it the oldest are forgotten first. Rows outgrow this long before. */
export const DEFAULT_MAX_KEYS = 1_000_000;
/** Stripe forgets a key after 24 hours. */
export const DEFAULT_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** What the POST that reserved a key reports back when it has finished. */
export interface Reservation {
  /** It stored its row: later POSTs with the key get that row back. */
  stored(record: StoredTransaction): void;
  /** It stored nothing (a pre-write failure, a cancelled late write): the key is free again. */
  release(): void;
}

export type Claim =
  | { outcome: 'reserved'; reservation: Reservation }
  | { outcome: 'replay'; record: StoredTransaction }
  | { outcome: 'inProgress' }
  | { outcome: 'mismatch' };

interface Entry {
  fingerprint: string;
  reservedAt: number;
  /** Undefined while the first POST is in flight. */
  record: StoredTransaction | undefined;
}

/** Why a header value cannot be a key, or undefined when it can. */
export function keyProblem(key: string): string | undefined {
  return key.length >= 1 && key.length <= MAX_KEY_LENGTH
    ? undefined
    : `must be 1 to ${MAX_KEY_LENGTH} characters`;
}

/** The keys seen, in reservation order (a Map keeps insertion order: the oldest come first). */
export class IdempotencyKeys {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly maxKeys = DEFAULT_MAX_KEYS,
    private readonly ttlMs = DEFAULT_KEY_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reserves `key` for this POST, or says why the POST must not run: in progress, replay or mismatch. */
  claim(key: string, tx: NewTransaction): Claim {
    this.#forget(0);
    const fingerprint = fingerprintOf(tx);
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      if (entry.fingerprint !== fingerprint) return { outcome: 'mismatch' };
      return entry.record === undefined
        ? { outcome: 'inProgress' }
        : { outcome: 'replay', record: entry.record };
    }
    this.#forget(1);
    const mine: Entry = { fingerprint, reservedAt: this.now(), record: undefined };
    this.#entries.set(key, mine);
    // The key may have been forgotten (cleanup, age, cap) and claimed anew meanwhile: touch only our entry.
    const current = (): boolean => this.#entries.get(key) === mine;
    return {
      outcome: 'reserved',
      reservation: {
        stored: (record) => {
          if (current()) mine.record = record;
        },
        release: () => {
          if (current()) this.#entries.delete(key);
        },
      },
    };
  }

  /** Keys remembered now (in flight or stored). */
  get size(): number {
    return this.#entries.size;
  }

  /** Forgets every key; returns how many there were. */
  clear(): number {
    const count = this.#entries.size;
    this.#entries.clear();
    return count;
  }

  /** Drops the keys past their age, and the oldest ones until `room` more fit under the cap. */
  #forget(room: number): void {
    const expired = this.now() - this.ttlMs;
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size + room <= this.maxKeys && entry.reservedAt > expired) return;
      this.#entries.delete(key);
    }
  }
}

/**
 * What a repeat must match: the validated body with object keys sorted and the amount as a canonical
 * decimal (150.5 and 150.50 are the same money), hashed so a key costs the same memory whatever the body.
 */
export function fingerprintOf(tx: NewTransaction): string {
  const canonical = canonicalJson({ ...tx, amount: canonicalDecimal(tx.amount) });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** "0150.50" -> "150.5", "12.00" -> "12": the input is a validated decimal string. */
function canonicalDecimal(text: string): string {
  const [whole = '', fraction = ''] = text.split('.');
  const w = whole.replace(/^0+(?=\d)/, '');
  const f = fraction.replace(/0+$/, '');
  return f === '' ? w : `${w}.${f}`;
}
