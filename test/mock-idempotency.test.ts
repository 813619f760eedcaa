// The mock's Idempotency-Key, over real HTTP: replay, in progress, freed after a pre-write failure, another body,
// ignore mode, cleanup, and the bound on the keys it remembers.
import assert from 'node:assert/strict';
import { request } from 'undici';
import { IdempotencyKeys } from '../tools/mock/idempotency';
import type { FaultPatch } from '../tools/mock/config';
import type { MockStats } from '../tools/mock/store';
import { startMock, type RunningMock } from './support/mock-server';
import { answered, mockBody, postTx, rowsFor } from './support/mock-http';

const INJECTED_5XX = [500, 502, 503];

async function putFaults(url: string, patch: FaultPatch): Promise<void> {
  const res = await request(`${url}/admin/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
  assert.equal(res.statusCode, 200, await res.body.text());
  await res.body.dump();
}

async function stats(url: string): Promise<MockStats> {
  return (await (await request(`${url}/admin/stats`)).body.json()) as MockStats;
}

describe('mock posting service: Idempotency-Key (real HTTP)', function () {
  let mock: RunningMock;

  afterEach(async () => {
    await mock.stop();
  });

  it('a repeat after the first stored gets its row back: 200, Idempotent-Replayed, nothing stored', async () => {
    mock = await startMock();
    const body = mockBody('idem-replay');
    const first = await answered(postTx(mock.url, body, { key: 'idem-replay' }));
    assert.equal(first.status, 201);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    const again = await answered(postTx(mock.url, body, { key: 'idem-replay' }));
    assert.equal(again.status, 200);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.deepEqual(again.body, first.body, 'the stored record, createdAt included');
    // The same money written another way is the same request.
    const sameMoney = await answered(postTx(mock.url, { ...body, amount: 150.5 }, { key: 'idem-replay' }));
    assert.equal(sameMoney.status, 200);
    assert.equal((await rowsFor(mock.url, 'idem-replay')).length, 1);
    const s = await stats(mock.url);
    assert.deepEqual([s.posts, s.requests.post], [1, 3]);
    assert.deepEqual(s.idempotency, { replayed: 2, inProgress: 0, mismatched: 0 });
  });

  it('a repeat while the first is in flight is answered 409 and stores nothing', async () => {
    mock = await startMock({ postLatencyMs: { min: 400, max: 400 } });
    const body = mockBody('idem-busy');
    const first = postTx(mock.url, body, { key: 'idem-busy' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await answered(postTx(mock.url, body, { key: 'idem-busy' }));
    assert.equal(second.status, 409);
    assert.match(String(second.body.error), /request with Idempotency-Key "idem-busy" is in progress/);
    assert.equal((await answered(first)).status, 201);
    assert.equal((await rowsFor(mock.url, 'idem-busy')).length, 1);
    assert.equal((await stats(mock.url)).idempotency.inProgress, 1);
    // Once it stored, the key replays.
    assert.equal((await answered(postTx(mock.url, body, { key: 'idem-busy' }))).status, 200);
  });

  it('a first POST that stored nothing (pre-write failure) frees the key', async () => {
    mock = await startMock({ preWriteFailureRate: 1 });
    const body = mockBody('idem-free');
    const failed = await answered(postTx(mock.url, body, { key: 'idem-free' }));
    assert.ok(INJECTED_5XX.includes(failed.status), `status ${failed.status}`);
    await putFaults(mock.url, { preWriteFailureRate: 0 });
    const retry = await answered(postTx(mock.url, body, { key: 'idem-free' }));
    assert.equal(retry.status, 201, 'a new POST, neither refused nor replayed');
    assert.equal(retry.headers['idempotent-replayed'], undefined);
    assert.equal((await rowsFor(mock.url, 'idem-free')).length, 1);
  });

  it('a first POST that stored and then failed (post-write 5xx) keeps the key: the repeat replays', async () => {
    mock = await startMock({ postWriteFailureRate: 1, postWriteMode: 'error' });
    const body = mockBody('idem-postwrite');
    const failed = await answered(postTx(mock.url, body, { key: 'idem-postwrite' }));
    assert.ok(INJECTED_5XX.includes(failed.status), `status ${failed.status}`);
    const again = await answered(postTx(mock.url, body, { key: 'idem-postwrite' }));
    assert.equal(again.status, 200);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal((await rowsFor(mock.url, 'idem-postwrite')).length, 1);
  });

  it('the key with another body is answered 422 naming the key, stored or in flight', async () => {
    mock = await startMock();
    const body = mockBody('idem-other');
    assert.equal((await answered(postTx(mock.url, body, { key: 'idem-other' }))).status, 201);
    const others = [
      { amount: '150.51' },
      { currency: 'EUR' },
      { metadata: { source_account: 'acc_a', destination_account: 'acc_c' } },
      { description: 'another' },
      { id: 'idem-other-2' },
    ];
    for (const change of others) {
      const res = await answered(postTx(mock.url, { ...body, ...change }, { key: 'idem-other' }));
      assert.equal(res.status, 422, JSON.stringify(change));
      assert.match(String(res.body.error), /Idempotency-Key "idem-other" was first used with another/);
    }
    await putFaults(mock.url, { postLatencyMs: { min: 300, max: 300 } });
    const busy = postTx(mock.url, mockBody('idem-other-busy'), { key: 'idem-other-busy' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const res = await answered(
      postTx(mock.url, mockBody('idem-other-busy', { amount: '1.00' }), { key: 'idem-other-busy' }),
    );
    assert.equal(res.status, 422);
    assert.equal((await answered(busy)).status, 201);
    assert.equal((await rowsFor(mock.url, 'idem-other')).length, 1);
    assert.equal((await rowsFor(mock.url, 'idem-other-2')).length, 0);
    assert.equal((await stats(mock.url)).idempotency.mismatched, others.length + 1);
  });

  it('a key longer than 255 characters is answered 400 naming the header, nothing stored', async () => {
    mock = await startMock();
    const res = await answered(postTx(mock.url, mockBody('idem-long'), { key: 'k'.repeat(256) }));
    assert.equal(res.status, 400);
    assert.match(String(res.body.error), /^Idempotency-Key: must be 1 to 255 characters/);
    assert.equal((await rowsFor(mock.url, 'idem-long')).length, 0);
  });

  it('ignore mode (set at run time by PUT /admin/faults): every POST stores, whatever its key', async () => {
    mock = await startMock();
    await putFaults(mock.url, { idempotency: 'ignore' });
    const body = mockBody('idem-ignored');
    for (let i = 0; i < 2; i++) {
      const res = await answered(postTx(mock.url, body, { key: 'idem-ignored' }));
      assert.equal(res.status, 201);
      assert.equal(res.headers['idempotent-replayed'], undefined);
    }
    // Another body, or a key no honouring mock would take, changes nothing either.
    const other = await answered(postTx(mock.url, { ...body, amount: '2.00' }, { key: 'idem-ignored' }));
    assert.equal(other.status, 201);
    assert.equal(
      (await answered(postTx(mock.url, mockBody('idem-x'), { key: 'k'.repeat(300) }))).status,
      201,
    );
    assert.equal((await rowsFor(mock.url, 'idem-ignored')).length, 3);
    const s = await stats(mock.url);
    assert.deepEqual(s.duplicates, ['idem-ignored']);
    assert.deepEqual(s.idempotency, { replayed: 0, inProgress: 0, mismatched: 0 });
  });

  it('POST /cleanup forgets the keys: the key then posts anew', async () => {
    mock = await startMock();
    const body = mockBody('idem-clean');
    assert.equal((await answered(postTx(mock.url, body, { key: 'idem-clean' }))).status, 201);
    const res = await request(`${mock.url}/cleanup`, { method: 'POST' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal((await answered(postTx(mock.url, body, { key: 'idem-clean' }))).status, 201);
    assert.equal((await rowsFor(mock.url, 'idem-clean')).length, 1);
  });
});

describe('mock posting service: the Idempotency-Keys remembered', () => {
  const tx = (id: string) => ({ id, amount: '1.00', currency: 'EUR' });
  const record = (id: string) => ({ ...tx(id), createdAt: '2026-01-01T00:00:00.000Z' });

  it('past the cap the oldest key is forgotten first', () => {
    const keys = new IdempotencyKeys(3);
    for (const id of ['a', 'b', 'c', 'd']) {
      const claim = keys.claim(id, tx(id));
      assert.equal(claim.outcome, 'reserved');
      if (claim.outcome === 'reserved') claim.reservation.stored(record(id));
    }
    assert.equal(keys.size, 3);
    assert.equal(keys.claim('d', tx('d')).outcome, 'replay');
    assert.equal(keys.claim('b', tx('b')).outcome, 'replay');
    assert.equal(keys.claim('a', tx('a')).outcome, 'reserved', 'a was forgotten');
  });

  it('a key is forgotten after its age, and a stale reservation cannot touch its successor', () => {
    let now = 0;
    const keys = new IdempotencyKeys(100, 1_000, () => now);
    const old = keys.claim('k', tx('k'));
    now = 1_001;
    const fresh = keys.claim('k', tx('k'));
    assert.equal(fresh.outcome, 'reserved', 'the old reservation expired');
    if (old.outcome === 'reserved') old.reservation.release();
    assert.equal(keys.claim('k', tx('k')).outcome, 'inProgress', 'the fresh reservation still holds');
  });
});
