import { intBetween, type Random } from '../shared/random';
import type { Scheduled } from '../shared/schedule';

export type Dialect = 'api' | 'webhook';

/** One transaction of the run, with the body sent for it every time (duplicates re-send the same bytes). */
export interface LoadTransaction {
  id: string;
  dialect: Dialect;
  /** The JSON body, serialized once. */
  body: string;
  /** What the downstream must hold: the canonical amount (currency's minor-unit digits) and currency. */
  amount: string;
  currency: string;
}

export type SubmissionKind = 'original' | 'duplicate-concurrent' | 'duplicate-later';

export interface Submission {
  tx: LoadTransaction;
  kind: SubmissionKind;
  /** The phase (or stress step) it belongs to, e.g. "performance" or "stress@40". */
  phase: string;
}

// Currencies with 2, 0 and 3 minor-unit digits, so the exact-decimal path is exercised.
const CURRENCIES: readonly { code: string; digits: number; weight: number }[] = [
  { code: 'EUR', digits: 2, weight: 40 },
  { code: 'USD', digits: 2, weight: 20 },
  { code: 'INR', digits: 2, weight: 20 },
  { code: 'JPY', digits: 0, weight: 10 },
  { code: 'BHD', digits: 3, weight: 10 },
];
const TOTAL_WEIGHT = CURRENCIES.reduce((a, c) => a + c.weight, 0);
const ACCOUNTS = 50;

/** A prefix unique to this run, so earlier runs' rows downstream do not count: "lt-<time>-<random>-". */
export function runIdPrefix(now: Date, random: Random): { runId: string; idPrefix: string } {
  const time = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const runId = `${time}-${intBetween(random, 0, 36 ** 4 - 1)
    .toString(36)
    .padStart(4, '0')}`;
  return { runId, idPrefix: `lt-${runId}-` };
}

/** The n-th transaction of the run: its dialect, a random currency, amount and accounts, from `random`. */
export function makeTransaction(
  idPrefix: string,
  n: number,
  phase: string,
  webhookShare: number,
  random: Random,
): LoadTransaction {
  const id = `${idPrefix}${n}`;
  const dialect: Dialect = random() < webhookShare ? 'webhook' : 'api';
  let pick = random() * TOTAL_WEIGHT;
  const currency =
    CURRENCIES.find((c) => (pick -= c.weight) < 0) ?? (CURRENCIES[0] as (typeof CURRENCIES)[0]);
  const minor = intBetween(random, 1, 10 ** (currency.digits + 4));
  const amount = formatMinor(minor, currency.digits);
  const source = intBetween(random, 1, ACCOUNTS);
  const destination = ((source + intBetween(random, 0, ACCOUNTS - 2)) % ACCOUNTS) + 1;
  // Half of the amounts go as JSON numbers ("amount":12.3), which the API must turn into "12.30".
  const asNumber = random() < 0.5;
  const amountValue = asNumber ? Number(amount) : amount;
  const accounts = { source_account: `acc_${source}`, destination_account: `acc_${destination}` };
  const body =
    dialect === 'api'
      ? { id, amount: amountValue, currency: currency.code, description: `load test ${phase}`, ...accounts }
      : { transaction_id: id, ...accounts, amount: amountValue, currency: currency.code };
  return { id, dialect, body: JSON.stringify(body), amount, currency: currency.code };
}

function formatMinor(minor: number, digits: number): string {
  if (digits === 0) return String(minor);
  const text = String(minor).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

export interface WorkloadInput {
  /** Arrival offsets in ms of the new transactions, ascending. */
  arrivals: readonly number[];
  /** Length of the window in ms: later duplicates are planned inside it. */
  windowMs: number;
  phase: string;
  idPrefix: string;
  /** Number of the first transaction (transaction numbers run on across phases). */
  firstN: number;
  duplicates: number;
  webhookShare: number;
  random: Random;
}

/**
 * The submissions of one phase, sorted by planned time: one original per arrival, plus duplicates so that
 * they make `duplicates` of all submissions. Half of the duplicates leave at the same instant as their
 * original (a concurrent race), half 0.2-3 s later (capped at the end of the window), after the original
 * was most likely answered.
 */
export function buildWorkload(input: WorkloadInput): {
  items: Scheduled<Submission>[];
  transactions: LoadTransaction[];
} {
  const { arrivals, random, phase } = input;
  // p duplicates per original makes p/(1+p) of all submissions duplicates.
  const perOriginal = input.duplicates / (1 - input.duplicates);
  const items: Scheduled<Submission>[] = [];
  const transactions: LoadTransaction[] = [];
  arrivals.forEach((atMs, i) => {
    const tx = makeTransaction(input.idPrefix, input.firstN + i, phase, input.webhookShare, random);
    transactions.push(tx);
    items.push({ atMs, item: { tx, kind: 'original', phase } });
    if (random() < perOriginal) {
      const concurrent = random() < 0.5;
      const later = Math.min(atMs + 200 + random() * 2_800, Math.max(atMs, input.windowMs - 1));
      items.push({
        atMs: concurrent ? atMs : later,
        item: { tx, kind: concurrent ? 'duplicate-concurrent' : 'duplicate-later', phase },
      });
    }
  });
  // Stable: a concurrent duplicate stays right after its original.
  items.sort((a, b) => a.atMs - b.atMs);
  return { items, transactions };
}
