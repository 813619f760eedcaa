// POST /transactions: validate, settle the Idempotency-Key (when honoured), draw the faults, write (late, when
// drawn so) and answer as planned.
import type { Request, RequestHandler, Response } from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { failure, hold } from './answers';
import type { Faults, PostPlan } from './faults';
import {
  IDEMPOTENCY_HEADER,
  keyProblem,
  REPLAYED_HEADER,
  type IdempotencyKeys,
  type Reservation,
} from './idempotency';
import type { LateWrites } from './late-writes';
import type { NewTransaction, StoredTransaction, TransactionStore } from './store';
import { parseTransaction } from './transaction-body';

export interface PostDeps {
  store: TransactionStore;
  faults: Faults;
  keys: IdempotencyKeys;
  lateWrites: LateWrites;
  logger?: Logger | undefined;
  /** The request's raw body, when the JSON parser kept it (to read the amount's exact digits). */
  rawBody(req: Request): Buffer | undefined;
}

const ANSWERED = Symbol('answered');

export function postTransaction(deps: PostDeps): RequestHandler {
  const { store, faults, logger } = deps;
  return async (req, res) => {
    // 'close' before the answer went out means the client went away (aborted, timed out).
    let clientGone = false;
    res.once('close', () => {
      clientGone = !res.writableFinished;
    });
    const parsed = parseTransaction(req.body, deps.rawBody(req));
    if (!parsed.ok) {
      store.recordRejected();
      res.status(400).json({ error: parsed.error });
      return;
    }
    const tx = parsed.transaction;
    const key = claimKey(deps, req, res, tx);
    if (key === ANSWERED) return;
    const plan = faults.planPost();
    const lateMs = faults.planLateWrite();
    if (plan.latencyMs > 0) await sleep(plan.latencyMs);
    if (plan.outcome === 'preWriteFailure') {
      key?.release();
      store.recordFault('preWrite');
      logger?.debug({ id: tx.id, status: plan.status }, 'pre-write failure: nothing stored');
      failure(res, plan.status);
      return;
    }
    if (lateMs > 0) {
      store.recordLateWrite('started');
      logger?.debug({ id: tx.id, lateMs }, 'late write: nothing stored until it lands');
      if (!(await deps.lateWrites.wait(lateMs))) {
        key?.release();
        logger?.debug({ id: tx.id }, 'late write cancelled by /cleanup: nothing stored');
        if (!clientGone) failure(res, 503);
        return;
      }
    }
    const { record, copies } = store.add(tx);
    key?.stored(record);
    if (copies > 1) logger?.warn({ id: tx.id, copies }, 'transaction stored more than once');
    if (lateMs > 0) {
      store.recordLateWrite('landed');
      if (clientGone) {
        store.recordLateWrite('unanswered');
        logger?.debug({ id: tx.id, lateMs }, 'late write landed after the client had gone');
        return;
      }
    }
    await answer(deps, res, plan, record);
  };
}

/**
 * With keys honoured and a key given: answers the POST when its key settles it (400 bad key, 200 replay,
 * 409 in progress, 422 other body) and returns ANSWERED, else the key's reservation. Without a key: undefined.
 */
function claimKey(
  { store, faults, keys, logger }: PostDeps,
  req: Request,
  res: Response,
  tx: NewTransaction,
): Reservation | undefined | typeof ANSWERED {
  if (faults.idempotency === 'ignore') return undefined;
  const key = req.get(IDEMPOTENCY_HEADER);
  if (key === undefined) return undefined;
  const problem = keyProblem(key);
  if (problem !== undefined) {
    store.recordRejected();
    res.status(400).json({ error: `${IDEMPOTENCY_HEADER}: ${problem}` });
    return ANSWERED;
  }
  const claim = keys.claim(key, tx);
  const named = `${IDEMPOTENCY_HEADER} ${JSON.stringify(key)}`;
  switch (claim.outcome) {
    case 'reserved':
      return claim.reservation;
    case 'replay':
      store.recordKeyOutcome('replayed');
      logger?.debug({ id: tx.id, key }, 'idempotent replay: nothing stored');
      res.status(200).set(REPLAYED_HEADER, 'true').json(claim.record);
      return ANSWERED;
    case 'inProgress':
      store.recordKeyOutcome('inProgress');
      logger?.debug({ id: tx.id, key }, 'key in progress: answered 409, nothing stored');
      res.status(409).json({
        error: `a request with ${named} is in progress; retry once it has finished`,
      });
      return ANSWERED;
    case 'mismatch':
      store.recordKeyOutcome('mismatched');
      logger?.warn({ id: tx.id, key }, 'key reused with another body: answered 422, nothing stored');
      res.status(422).json({
        error: `${named} was first used with another request body; a key can only be reused with the same one`,
      });
      return ANSWERED;
  }
}

/** The answer of a POST whose row is stored: 201, or the post-write failure its plan drew. */
async function answer(
  { store, logger }: PostDeps,
  res: Response,
  plan: Exclude<PostPlan, { outcome: 'preWriteFailure' }>,
  record: StoredTransaction,
): Promise<void> {
  switch (plan.outcome) {
    case 'store':
      logger?.debug({ id: record.id, latencyMs: plan.latencyMs }, 'transaction stored');
      res.status(201).json(record);
      return;
    case 'postWriteError':
      store.recordFault('postWrite');
      logger?.debug({ id: record.id, status: plan.status }, 'post-write failure: stored, answered 5xx');
      failure(res, plan.status);
      return;
    case 'postWriteHang':
      store.recordFault('postWrite');
      store.recordFault('postWriteHang');
      logger?.debug({ id: record.id, holdMs: plan.holdMs }, 'post-write failure: stored, response held');
      await hold(res, plan.holdMs);
      return;
  }
}
