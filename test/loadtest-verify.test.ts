import assert from 'node:assert/strict';
import { verifyDownstream } from '../tools/loadtest/verify';
import type { MockStats } from '../tools/mock/store';

const stats = (over: Partial<MockStats> = {}): MockStats => ({
  posts: 0,
  distinctIds: 0,
  duplicates: [],
  rejected: 0,
  requests: { get: 0, post: 0, other: 0 },
  faults: { preWrite: 0, postWrite: 0, postWriteHang: 0, getFailure: 0, outage: 0 },
  idempotency: { replayed: 0, inProgress: 0, mismatched: 0 },
  lateWrites: { started: 0, landed: 0, unanswered: 0 },
  ...over,
});

describe('loadtest: downstream verification', function () {
  it('finds duplicates, lost, unexpected, mismatched and failed-but-posted transactions of this run only', function () {
    const expected = new Map([
      ['lt-a-1', { amount: '1.00', currency: 'EUR' }],
      ['lt-a-2', { amount: '2.00', currency: 'EUR' }],
      ['lt-a-3', { amount: '3', currency: 'JPY' }],
      ['lt-a-4', { amount: '4.000', currency: 'BHD' }],
      ['lt-a-5', { amount: '5.00', currency: 'USD' }],
      ['lt-a-6', { amount: '6.00', currency: 'USD' }],
      ['lt-a-7', { amount: '7.00', currency: 'USD' }],
    ]);
    const statuses = new Map([
      ['lt-a-1', 'completed'], // held once: fine
      ['lt-a-2', 'completed'], // held twice: duplicate
      ['lt-a-3', 'completed'], // not held: lost
      ['lt-a-4', 'failed'], // held: failed but posted
      ['lt-a-5', 'processing'], // not finished, not held: counted by the terminal check
      ['lt-a-6', 'absent'], // never started but held: unexpected
      ['lt-a-7', 'completed'], // held with another amount
    ]);
    const rows = [
      { id: 'lt-a-1', amount: '1.00', currency: 'EUR' },
      { id: 'lt-a-2', amount: '2.00', currency: 'EUR' },
      { id: 'lt-a-2', amount: '2.00', currency: 'EUR' },
      { id: 'lt-a-4', amount: '4.000', currency: 'BHD' },
      { id: 'lt-a-6', amount: '6.00', currency: 'USD' },
      { id: 'lt-a-7', amount: '7.5', currency: 'USD' },
      { id: 'lt-other-1', amount: '1.00', currency: 'EUR' },
      { id: 'lt-other-1', amount: '1.00', currency: 'EUR' },
    ];
    const v = verifyDownstream({
      idPrefix: 'lt-a-',
      expected,
      statuses,
      rows,
      statsBefore: stats({ posts: 10, requests: { get: 1, post: 10, other: 0 } }),
      statsAfter: stats({
        posts: 16,
        duplicates: ['lt-other-1', 'lt-a-2'],
        requests: { get: 9, post: 20, other: 0 },
      }),
    });
    assert.equal(v.rowsForRun, 6);
    assert.equal(v.distinctIds, 5);
    assert.equal(v.started, 6);
    assert.equal(v.heldOnce, 3); // 1, 4 (failed but terminal) and 7
    assert.deepEqual(v.duplicates, [{ id: 'lt-a-2', copies: 2 }]);
    assert.deepEqual(v.lost, [{ id: 'lt-a-3', status: 'completed' }]);
    assert.equal(v.missingNotTerminal, 1);
    assert.deepEqual(v.unexpected, ['lt-a-6']);
    assert.deepEqual(v.failedButPosted, ['lt-a-4']);
    assert.deepEqual(v.mismatched, [{ id: 'lt-a-7', expected: '7.00 USD', stored: '7.5 USD' }]);
    assert.deepEqual(v.counts, { duplicates: 1, lost: 1, unexpected: 1, failedButPosted: 1, mismatched: 1 });
    assert.equal(v.mock.posts, 6);
    assert.deepEqual(v.mock.requests, { get: 8, post: 10, other: 0 });
    assert.deepEqual(v.mock.duplicatesReported, ['lt-a-2']);
  });
});
