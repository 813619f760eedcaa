// submitBatch and checkItems on their own (no Temporal): the order of the answers, the bound on starts in
// flight, items sharing an ID, and what a failed start does to the rest of the batch.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkItems, submitBatch, summarize, type CheckedItem } from '../src/api/transactions/batch';
import { fromApiBody, type Submission } from '../src/api/transactions/submission';
import { apiSubmissionSchema } from '../src/api/transactions/submission-schemas';
import type { SubmitResult } from '../src/api/transactions/transactions-service';
import { StartOutcomeUnknownError } from '../src/api/temporal/temporal-errors';

const NOW = new Date('2026-12-01T00:00:00Z');
const schema = apiSubmissionSchema(2048);

const valid = (index: number, id: string, amount = '1.00'): CheckedItem => ({
  index,
  submission: fromApiBody({ id, amount, currency: 'EUR' }, id, NOW),
});

const location = (id: string) => `/api/transactions/${id}`;

/** A fake submit: accepts each new ID, then answers like the per-ID deduplication; `delayMs` per call. */
function fakeService(delayMs = 5) {
  const stored = new Map<string, string>();
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const submit = async (s: Submission): Promise<SubmitResult> => {
    const { id } = s.transaction;
    calls.push(id);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await sleep(delayMs);
    inFlight--;
    const known = stored.get(id);
    if (known === undefined) {
      stored.set(id, s.fingerprint);
      return { kind: 'accepted', view: {} as never, eagerlyStarted: false };
    }
    return known === s.fingerprint ? { kind: 'duplicate', view: {} as never } : { kind: 'conflict' };
  };
  return { submit, calls, maxInFlight: () => maxInFlight };
}

describe('batch submission (no Temporal)', function () {
  it('answers in request order with at most `concurrency` starts in flight', async function () {
    const service = fakeService();
    const items = Array.from({ length: 40 }, (_, i) => valid(i, `tx-${i}`));
    const results = await submitBatch(items, { submit: service.submit, concurrency: 4, location });
    assert.deepEqual(
      results.map((r) => [r.index, r.id, r.status, r.location]),
      items.map((_, i) => [i, `tx-${i}`, 'accepted', `/api/transactions/tx-${i}`]),
    );
    assert.equal(service.maxInFlight(), 4);
    assert.equal(service.calls.length, 40);
  });

  it('submits items sharing an ID one after the other: the second is a duplicate or a conflict', async function () {
    const service = fakeService();
    const items = [valid(0, 'a'), valid(1, 'b'), valid(2, 'a'), valid(3, 'a', '2.00'), valid(4, 'b')];
    const results = await submitBatch(items, { submit: service.submit, concurrency: 8, location });
    assert.deepEqual(
      results.map((r) => r.status),
      ['accepted', 'accepted', 'duplicate', 'conflict', 'duplicate'],
    );
    assert.equal(results[3]?.location, undefined);
    assert.equal(service.maxInFlight(), 2, 'the three items of "a" never overlap');
  });

  it('keeps invalid items in place, unsubmitted', async function () {
    const service = fakeService();
    const errors = [{ field: 'body.transactions[0]', message: 'must be a JSON object' }];
    const items: CheckedItem[] = [{ index: 0, id: null, errors }, valid(1, 'c')];
    const results = await submitBatch(items, { submit: service.submit, concurrency: 2, location });
    assert.deepEqual(results[0], { index: 0, id: null, status: 'invalid', errors });
    assert.deepEqual(service.calls, ['c']);
    assert.deepEqual(summarize(results), {
      accepted: 1,
      duplicate: 0,
      conflict: 0,
      invalid: 1,
      unknown: 0,
      skipped: 0,
    });
  });

  it('after `failureLimit` failed starts: those are unknown, those in flight finish, the rest are skipped', async function () {
    const service = fakeService(20);
    const failed: string[] = [];
    const submit = async (s: Submission) => {
      if (s.transaction.id === 'tx-1') {
        await sleep(5);
        throw new StartOutcomeUnknownError('no answer', 'tx-1');
      }
      return service.submit(s);
    };
    const items = Array.from({ length: 10 }, (_, i) => valid(i, `tx-${i}`));
    const results = await submitBatch(items, {
      submit,
      concurrency: 3,
      failureLimit: 1,
      location,
      onFailed: (_err, id) => failed.push(id),
    });
    assert.deepEqual(
      results.map((r) => r.status),
      ['accepted', 'unknown', 'accepted', ...Array<string>(7).fill('skipped')],
    );
    assert.equal(results[1]?.location, '/api/transactions/tx-1', 'an unknown one may exist: where to look');
    assert.deepEqual(failed, ['tx-1']);
    assert.deepEqual(service.calls, ['tx-0', 'tx-2']);
  });

  it('with Temporal down, the starts in flight fail and nothing more is started: one wave, not one per worker', async function () {
    const calls: string[] = [];
    const submit = async (s: Submission): Promise<SubmitResult> => {
      calls.push(s.transaction.id);
      await sleep(5 + calls.length); // they fail one after the other, not all at once
      throw new StartOutcomeUnknownError('no answer', s.transaction.id);
    };
    const items = Array.from({ length: 20 }, (_, i) => valid(i, `tx-${i}`));
    const results = await submitBatch(items, { submit, concurrency: 4, location });
    assert.deepEqual(summarize(results), {
      accepted: 0,
      duplicate: 0,
      conflict: 0,
      invalid: 0,
      unknown: 4,
      skipped: 16,
    });
    assert.deepEqual(calls, ['tx-0', 'tx-1', 'tx-2', 'tx-3']);
  });

  it('a failed start under the limit (one slow start) does not stop the batch', async function () {
    const service = fakeService();
    const submit = async (s: Submission) => {
      if (s.transaction.id === 'tx-2') throw new StartOutcomeUnknownError('no answer', 'tx-2');
      return service.submit(s);
    };
    const items = Array.from({ length: 8 }, (_, i) => valid(i, `tx-${i}`));
    const results = await submitBatch(items, { submit, concurrency: 2, location });
    assert.deepEqual(
      results.map((r) => r.status),
      ['accepted', 'accepted', 'unknown', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted'],
    );
  });

  it('starts nothing more once the client has gone away', async function () {
    const service = fakeService();
    let gone = false;
    const items = Array.from({ length: 6 }, (_, i) => valid(i, `tx-${i}`));
    const results = await submitBatch(items, {
      submit: async (s) => {
        gone = true;
        return service.submit(s);
      },
      concurrency: 1,
      location,
      abandoned: () => gone,
    });
    assert.deepEqual(
      results.map((r) => r.status),
      ['accepted', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped'],
    );
  });

  it('checkItems: the single POST rules per item, the ID required, fields named from the body', function () {
    const raw = Buffer.from(
      '{"transactions":[{"id":"ok","amount":"1.00","currency":"EUR"},' +
        '{"id":"n","amount":1.0000000000000001,"currency":"EUR"},{"amount":"1.00","currency":"EUR"},' +
        '{"id":"m","amount":"1","currency":"EUR","metadata":{"a":[1e400]}},"x"]}',
    );
    const parsed = JSON.parse(raw.toString()) as { transactions: unknown[] };
    const checked = checkItems(parsed.transactions, raw, schema, NOW);
    assert.ok('submission' in (checked[0] ?? {}));
    const errors = checked.map((c) => ('errors' in c ? c.errors.map((e) => e.field) : []));
    assert.deepEqual(errors, [
      [],
      ['body.transactions[1].amount'],
      ['body.transactions[2].id'],
      ['body.transactions[3].metadata.a.0'],
      ['body.transactions[4]'],
    ]);
    assert.deepEqual(
      checked.map((c) => ('errors' in c ? c.id : c.submission.transaction.id)),
      ['ok', 'n', null, 'm', null],
    );
  });
});
