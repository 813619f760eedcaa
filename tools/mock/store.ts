/** A transaction as POST /transactions takes it, already validated; amount is a decimal string. */
export interface NewTransaction {
  id: string;
  amount: string;
  currency: string;
  description?: string | null;
  timestamp?: string;
  metadata?: Record<string, unknown> | null;
}

/** One stored row: every POST that stores adds one, so an ID posted twice has two rows. */
export interface StoredTransaction extends NewTransaction {
  createdAt: string;
}

export type RequestKind = 'get' | 'post' | 'other';
export type FaultKind = 'preWrite' | 'postWrite' | 'postWriteHang' | 'getFailure' | 'outage';
/** POSTs answered from an Idempotency-Key instead of storing: replayed (200), inProgress (409), mismatched (422). */
export type KeyOutcome = 'replayed' | 'inProgress' | 'mismatched';
/** Late writes: started (the wait began), landed (the row written), unanswered (landed with the client gone). */
export type LateWriteStage = 'started' | 'landed' | 'unanswered';

export interface MockStats {
  /** POST requests that stored a row. */
  posts: number;
  distinctIds: number;
  /** IDs stored more than once, in the order they became duplicates. */
  duplicates: string[];
  /** Requests answered 400 for their body. */
  rejected: number;
  /** Requests to /transactions and /cleanup by method (not /health, not /admin). */
  requests: Record<RequestKind, number>;
  /** Injected faults; postWrite counts every post-write failure, postWriteHang those that were held. */
  faults: Record<FaultKind, number>;
  /** POSTs with an Idempotency-Key that stored nothing because of it (keys honoured). */
  idempotency: Record<KeyOutcome, number>;
  /** POSTs whose row was written late (lateWriteRate). */
  lateWrites: Record<LateWriteStage, number>;
}

const noRequests = (): Record<RequestKind, number> => ({ get: 0, post: 0, other: 0 });
const noFaults = (): Record<FaultKind, number> => ({
  preWrite: 0,
  postWrite: 0,
  postWriteHang: 0,
  getFailure: 0,
  outage: 0,
});

const noKeyOutcomes = (): Record<KeyOutcome, number> => ({ replayed: 0, inProgress: 0, mismatched: 0 });
const noLateWrites = (): Record<LateWriteStage, number> => ({ started: 0, landed: 0, unanswered: 0 });

/** In-memory rows and counters; every operation is O(1) except all() and stats().duplicates. */
export class TransactionStore {
  readonly #byId = new Map<string, StoredTransaction[]>();
  #rows: StoredTransaction[] = [];
  #duplicates: string[] = [];
  #rejected = 0;
  #requests = noRequests();
  #faults = noFaults();
  #keyOutcomes = noKeyOutcomes();
  #lateWrites = noLateWrites();

  /** Stores a new row, even for an ID already stored, and returns it with how many rows that ID now has. */
  add(tx: NewTransaction, now: Date = new Date()): { record: StoredTransaction; copies: number } {
    const record: StoredTransaction = Object.freeze({
      id: tx.id,
      amount: tx.amount,
      currency: tx.currency,
      ...(tx.description !== undefined && { description: tx.description }),
      ...(tx.timestamp !== undefined && { timestamp: tx.timestamp }),
      ...(tx.metadata !== undefined && { metadata: tx.metadata }),
      createdAt: now.toISOString(),
    });
    this.#rows.push(record);
    const rows = this.#byId.get(tx.id);
    if (rows === undefined) {
      this.#byId.set(tx.id, [record]);
      return { record, copies: 1 };
    }
    rows.push(record);
    if (rows.length === 2) this.#duplicates.push(tx.id);
    return { record, copies: rows.length };
  }

  /** The first row stored for `id`. */
  first(id: string): StoredTransaction | undefined {
    return this.#byId.get(id)?.[0];
  }

  /** How many rows `id` has. */
  copies(id: string): number {
    return this.#byId.get(id)?.length ?? 0;
  }

  /** Every row in the order stored. */
  all(): readonly StoredTransaction[] {
    return this.#rows;
  }

  /** Deletes every row and resets the counters; returns how many rows were deleted. */
  clear(): number {
    const count = this.#rows.length;
    this.#byId.clear();
    this.#rows = [];
    this.#duplicates = [];
    this.#rejected = 0;
    this.#requests = noRequests();
    this.#faults = noFaults();
    this.#keyOutcomes = noKeyOutcomes();
    this.#lateWrites = noLateWrites();
    return count;
  }

  recordRequest(kind: RequestKind): void {
    this.#requests[kind] += 1;
  }

  recordFault(kind: FaultKind): void {
    this.#faults[kind] += 1;
  }

  recordKeyOutcome(kind: KeyOutcome): void {
    this.#keyOutcomes[kind] += 1;
  }

  recordLateWrite(stage: LateWriteStage): void {
    this.#lateWrites[stage] += 1;
  }

  recordRejected(): void {
    this.#rejected += 1;
  }

  stats(): MockStats {
    return {
      posts: this.#rows.length,
      distinctIds: this.#byId.size,
      duplicates: [...this.#duplicates],
      rejected: this.#rejected,
      requests: { ...this.#requests },
      faults: { ...this.#faults },
      idempotency: { ...this.#keyOutcomes },
      lateWrites: { ...this.#lateWrites },
    };
  }
}
