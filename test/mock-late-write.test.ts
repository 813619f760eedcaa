// The mock's late writes over real HTTP: nothing stored for lateWriteMs, then the row lands whether or not the
// client stayed. And the failure they model: a naive client (timeout, look, post again) leaves two rows when the
// key is ignored, one when it is honoured.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { mockSettings, type FaultSettings } from '../tools/mock/config';
import { Faults } from '../tools/mock/faults';
import type { MockStats } from '../tools/mock/store';
import { eventually } from './support/eventually';
import { startMock, type RunningMock } from './support/mock-server';
import { answered, getStatus, mockBody, naiveClient, postTx, rowsFor } from './support/mock-http';

async function stats(url: string): Promise<MockStats> {
  return (await (await request(`${url}/admin/stats`)).body.json()) as MockStats;
}

/** The first seed whose late-write draws at `rate` start with `pattern` (true: late). */
function seedWithLateWrites(pattern: boolean[], rate: number): number {
  for (let seed = 1; ; seed++) {
    const faults = new Faults({ ...mockSettings({}, () => seed).faults, lateWriteRate: rate });
    if (pattern.every((late) => faults.planLateWrite() > 0 === late)) return seed;
  }
}

describe('mock posting service: late writes (real HTTP)', function () {
  let mock: RunningMock;

  afterEach(async () => {
    await mock.stop();
  });

  it('a late write lands after the client gave up: 404 right after the abort, then the row, once', async () => {
    mock = await startMock({ lateWriteRate: 1, lateWriteMs: 600 });
    const sentAt = Date.now();
    assert.equal(await postTx(mock.url, mockBody('late-gone'), { timeoutMs: 150 }), 'timeout');
    assert.equal(await getStatus(mock.url, 'late-gone'), 404, 'nothing stored yet');
    assert.deepEqual((await stats(mock.url)).lateWrites, { started: 1, landed: 0, unanswered: 0 });
    await eventually(async () => assert.equal(await getStatus(mock.url, 'late-gone'), 200), 5_000);
    const rows = await rowsFor(mock.url, 'late-gone');
    assert.equal(rows.length, 1);
    const landedAfter = Date.parse(String(rows[0]?.createdAt)) - sentAt;
    assert.ok(landedAfter >= 590, `landed ${landedAfter} ms after the POST`);
    assert.deepEqual((await stats(mock.url)).lateWrites, { started: 1, landed: 1, unanswered: 1 });
  });

  it('a client that stays gets its 201 once the row lands; a GET meanwhile answers 404', async () => {
    mock = await startMock({ lateWriteRate: 1, lateWriteMs: 400 });
    const sentAt = Date.now();
    const pending = postTx(mock.url, mockBody('late-stay'));
    await sleep(100);
    assert.equal(await getStatus(mock.url, 'late-stay'), 404);
    const answer = await answered(pending);
    assert.equal(answer.status, 201);
    assert.ok(Date.now() - sentAt >= 390, `answered after ${Date.now() - sentAt} ms`);
    assert.equal(await getStatus(mock.url, 'late-stay'), 200);
    assert.deepEqual((await stats(mock.url)).lateWrites, { started: 1, landed: 1, unanswered: 0 });
  });

  it('with keys honoured a late-writing POST is in flight until it lands: 409 for its key meanwhile', async () => {
    mock = await startMock({ lateWriteRate: 1, lateWriteMs: 500 });
    const body = mockBody('late-key');
    assert.equal(await postTx(mock.url, body, { key: 'late-key', timeoutMs: 100 }), 'timeout');
    const busy = await answered(postTx(mock.url, body, { key: 'late-key' }));
    assert.equal(busy.status, 409);
    await eventually(async () => assert.equal(await getStatus(mock.url, 'late-key'), 200), 5_000);
    const replay = await answered(postTx(mock.url, body, { key: 'late-key' }));
    assert.equal(replay.status, 200);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal((await rowsFor(mock.url, 'late-key')).length, 1);
  });

  it('POST /cleanup cancels the waiting late writes: nothing lands, a client still waiting gets 503', async () => {
    mock = await startMock({ lateWriteRate: 1, lateWriteMs: 300 });
    const pending = postTx(mock.url, mockBody('late-wiped'));
    await sleep(50);
    const res = await request(`${mock.url}/cleanup`, { method: 'POST' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    assert.equal((await answered(pending)).status, 503);
    await sleep(400);
    assert.equal(await getStatus(mock.url, 'late-wiped'), 404);
    assert.equal((await stats(mock.url)).posts, 0);
  });

  it('a pre-write failure stores nothing, so it never writes late', async () => {
    mock = await startMock({ preWriteFailureRate: 1, lateWriteRate: 1, lateWriteMs: 5_000 });
    const answer = await answered(postTx(mock.url, mockBody('late-pre'), { timeoutMs: 2_000 }));
    assert.ok(answer.status >= 500, `status ${answer.status}`);
    assert.equal((await stats(mock.url)).lateWrites.started, 0);
  });

  describe('a naive client (timeout, GET 404, POST again) against late writes', () => {
    // Its first POST writes late (after the client's timeout), its second on time.
    const seed = seedWithLateWrites([true, false], 0.5);
    const knobs: Partial<FaultSettings> = { seed, lateWriteRate: 0.5, lateWriteMs: 800 };

    it('keys ignored: two rows for one ID (the mode models the failure)', async () => {
      mock = await startMock({ ...knobs, idempotency: 'ignore' });
      const body = mockBody('naive-ignored');
      const trace = await naiveClient(mock.url, body, { timeoutMs: 150, key: body.id });
      assert.deepEqual(trace, ['POST timeout', 'GET 404', 'POST 201']);
      await eventually(async () => assert.equal((await stats(mock.url)).lateWrites.landed, 1), 5_000);
      assert.equal((await rowsFor(mock.url, 'naive-ignored')).length, 2);
      assert.deepEqual((await stats(mock.url)).duplicates, ['naive-ignored']);
    });

    it('keys honoured: the same client ends with one row', async () => {
      mock = await startMock({ ...knobs, idempotency: 'honour' });
      const body = mockBody('naive-honoured');
      const trace = await naiveClient(mock.url, body, { timeoutMs: 150, key: body.id });
      assert.deepEqual(trace.slice(0, 3), ['POST timeout', 'GET 404', 'POST 409']);
      assert.match(trace.at(-1) ?? '', /^(GET|POST) 200$/);
      await eventually(async () => assert.equal((await stats(mock.url)).lateWrites.landed, 1), 5_000);
      await sleep(100);
      assert.equal((await rowsFor(mock.url, 'naive-honoured')).length, 1);
      assert.deepEqual((await stats(mock.url)).duplicates, []);
    });
  });
});

describe('mock posting service: late-write draws', () => {
  const base: FaultSettings = { ...mockSettings({}, () => 77).faults, preWriteFailureRate: 0.3 };

  it('come from their own stream: the POST plans of a seed do not shift, the rate is honoured', () => {
    const without = new Faults({ ...base, postWriteFailureRate: 0.3, postLatencyMs: { min: 0, max: 50 } });
    const withLate = new Faults({ ...without.settings(), lateWriteRate: 0.5, lateWriteMs: 3_000 });
    let late = 0;
    for (let i = 0; i < 400; i++) {
      // Only `withLate` draws late writes: were they drawn from the POST stream, its plans would shift.
      const ms = withLate.planLateWrite();
      if (ms > 0) late++;
      assert.ok(ms === 0 || ms === 3_000);
      assert.deepEqual(withLate.planPost(), without.planPost(), `POST ${i}`);
    }
    assert.ok(Math.abs(late / 400 - 0.5) < 0.1, `late share ${late / 400}`);
  });

  it('setting the seed restarts their sequence', () => {
    const faults = new Faults({ ...base, lateWriteRate: 0.5 });
    const first = Array.from({ length: 30 }, () => faults.planLateWrite());
    faults.update({ seed: 77 });
    assert.deepEqual(
      Array.from({ length: 30 }, () => faults.planLateWrite()),
      first,
    );
  });
});
