import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { ConfigError } from '../src/config/env';
import { createMockApp } from '../tools/mock/app';
import { mockSettings, type FaultSettings } from '../tools/mock/config';
import { Faults, type PostPlan } from '../tools/mock/faults';
import { intBetween, mulberry32 } from '../tools/shared/random';
import { rawMember } from '../tools/mock/raw-json';
import { TransactionStore } from '../tools/mock/store';

const NO_FAULTS: FaultSettings = {
  getLatencyMs: { min: 0, max: 0 },
  postLatencyMs: { min: 0, max: 0 },
  preWriteFailureRate: 0,
  postWriteFailureRate: 0,
  postWriteMode: 'error',
  postWriteHangMs: 30_000,
  getFailureRate: 0,
  lateWriteRate: 0,
  lateWriteMs: 10_000,
  idempotency: 'honour',
  outage: false,
  seed: 1,
};

function setup(knobs: Partial<FaultSettings> = {}, bodyLimit?: string) {
  const store = new TransactionStore();
  const faults = new Faults({ ...NO_FAULTS, ...knobs });
  const app = createMockApp({ store, faults, ...(bodyLimit !== undefined && { bodyLimit }) });
  return { app, store, faults };
}

function tx(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    amount: '150.50',
    currency: 'INR',
    description: 'Payment',
    timestamp: '2025-01-02T03:04:05.000Z',
    ...extra,
  };
}

const INJECTED_5XX = [500, 502, 503];

describe('mock posting service', () => {
  describe('config', () => {
    it('defaults: 127.0.0.1:8080, no faults, mixed mode, 30 s hang, keys honoured, a drawn seed', () => {
      const s = mockSettings({}, () => 4242);
      assert.equal(s.host, '127.0.0.1');
      assert.equal(s.port, 8080);
      assert.equal(s.seedGiven, false);
      assert.deepEqual(s.faults, {
        getLatencyMs: { min: 0, max: 0 },
        postLatencyMs: { min: 0, max: 0 },
        preWriteFailureRate: 0,
        postWriteFailureRate: 0,
        postWriteMode: 'mixed',
        postWriteHangMs: 30_000,
        getFailureRate: 0,
        lateWriteRate: 0,
        lateWriteMs: 10_000,
        idempotency: 'honour',
        outage: false,
        seed: 4242,
      });
    });

    it('reads every variable', () => {
      const s = mockSettings({
        HOST: '0.0.0.0',
        PORT: '9090',
        MOCK_GET_LATENCY_MS: '5-50',
        MOCK_POST_LATENCY_MS: '20',
        MOCK_PRE_WRITE_FAILURE_RATE: '0.1',
        MOCK_POST_WRITE_FAILURE_RATE: '0.25',
        MOCK_POST_WRITE_MODE: 'hang',
        MOCK_POST_WRITE_HANG_MS: '12000',
        MOCK_GET_FAILURE_RATE: '1',
        MOCK_LATE_WRITE_RATE: '0.3',
        MOCK_LATE_WRITE_MS: '3000',
        MOCK_IDEMPOTENCY: 'ignore',
        MOCK_OUTAGE: 'true',
        MOCK_SEED: '99',
      });
      assert.equal(s.host, '0.0.0.0');
      assert.equal(s.port, 9090);
      assert.equal(s.seedGiven, true);
      assert.deepEqual(s.faults, {
        getLatencyMs: { min: 5, max: 50 },
        postLatencyMs: { min: 20, max: 20 },
        preWriteFailureRate: 0.1,
        postWriteFailureRate: 0.25,
        postWriteMode: 'hang',
        postWriteHangMs: 12_000,
        getFailureRate: 1,
        lateWriteRate: 0.3,
        lateWriteMs: 3_000,
        idempotency: 'ignore',
        outage: true,
        seed: 99,
      });
    });

    const bad: [string, string][] = [
      ['PORT', '70000'],
      ['HOST', 'a b'],
      ['MOCK_GET_LATENCY_MS', 'fast'],
      ['MOCK_POST_LATENCY_MS', '200-100'],
      ['MOCK_PRE_WRITE_FAILURE_RATE', '1.5'],
      ['MOCK_POST_WRITE_FAILURE_RATE', '-0.1'],
      ['MOCK_POST_WRITE_MODE', 'explode'],
      ['MOCK_POST_WRITE_HANG_MS', '2s'],
      ['MOCK_GET_FAILURE_RATE', 'often'],
      ['MOCK_LATE_WRITE_RATE', '2'],
      ['MOCK_LATE_WRITE_MS', '-1'],
      ['MOCK_LATE_WRITE_MS', '600001'],
      ['MOCK_IDEMPOTENCY', 'honor'],
      ['MOCK_OUTAGE', 'maybe'],
      ['MOCK_SEED', '1.5'],
    ];
    for (const [name, value] of bad) {
      it(`rejects ${name}=${value} with a ConfigError naming it`, () => {
        assert.throws(
          () => mockSettings({ [name]: value }),
          (err: unknown) =>
            err instanceof ConfigError && err.message.includes(`${name}=${JSON.stringify(value)}`),
        );
      });
    }

    it('names every bad variable at once', () => {
      assert.throws(
        () => mockSettings({ MOCK_OUTAGE: 'yes', MOCK_SEED: 'x' }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message.includes('MOCK_OUTAGE') &&
          err.message.includes('MOCK_SEED'),
      );
    });
  });

  describe('random', () => {
    it('mulberry32: same seed, same sequence; another seed, another', () => {
      const a = mulberry32(7);
      const b = mulberry32(7);
      const c = mulberry32(8);
      const seqA = Array.from({ length: 20 }, () => a());
      const seqB = Array.from({ length: 20 }, () => b());
      const seqC = Array.from({ length: 20 }, () => c());
      assert.deepEqual(seqA, seqB);
      assert.notDeepEqual(seqA, seqC);
      assert.ok(seqA.every((x) => x >= 0 && x < 1));
      assert.ok(new Set(seqA).size > 15);
    });

    it('intBetween covers both ends and nothing outside', () => {
      const random = mulberry32(3);
      const seen = new Set(Array.from({ length: 500 }, () => intBetween(random, 2, 5)));
      assert.deepEqual([...seen].sort(), [2, 3, 4, 5]);
    });
  });

  describe('rawMember', () => {
    it('returns the source text of a top-level member', () => {
      assert.equal(rawMember('{"id":"a","amount":150.50}', 'amount'), '150.50');
      assert.equal(rawMember(' { "amount" : 1.10 , "x": 2 } ', 'amount'), '1.10');
      assert.equal(rawMember('{"amount":"9.90"}', 'amount'), '"9.90"');
    });

    it('skips nested values and strings that look like members', () => {
      const json = '{"meta":{"amount":1.0,"s":"}\\",\\"amount\\":3"},"list":[{"amount":2}],"amount":5.00}';
      assert.equal(rawMember(json, 'amount'), '5.00');
      assert.equal(rawMember('{"meta":{"amount":1.0}}', 'amount'), undefined);
    });

    it('takes the last of repeated members, as JSON.parse does', () => {
      assert.equal(rawMember('{"amount":1.50,"amount":2.50}', 'amount'), '2.50');
    });

    it('answers undefined for non-objects', () => {
      assert.equal(rawMember('[1.50]', 'amount'), undefined);
      assert.equal(rawMember('"amount"', 'amount'), undefined);
    });
  });

  describe('API', () => {
    it('POST /transactions stores and answers 201 with the record', async () => {
      const { app, store } = setup();
      const body = tx('t-1', { metadata: { order: 7 } });
      const res = await request(app).post('/transactions').send(body).expect(201);
      const { createdAt, ...rest } = res.body as Record<string, unknown>;
      assert.deepEqual(rest, body);
      assert.ok(typeof createdAt === 'string' && !Number.isNaN(Date.parse(createdAt)));
      assert.equal(store.copies('t-1'), 1);
    });

    it('keeps the exact digits of an amount sent as a JSON number', async () => {
      const { app } = setup();
      const res = await request(app)
        .post('/transactions')
        .set('content-type', 'application/json')
        .send(
          '{"amount":150.50,"id":"t-num","currency":"INR","description":"","timestamp":"2025-01-01T00:00:00Z"}',
        )
        .expect(201);
      assert.equal(res.body.amount, '150.50');
      const got = await request(app).get('/transactions/t-num').expect(200);
      assert.equal(got.body.amount, '150.50');
    });

    it('stores a number amount without raw text as String(amount), and a string amount as given', async () => {
      const { app, store } = setup();
      await request(app)
        .post('/transactions')
        .send(tx('n', { amount: 12.5 }))
        .expect(201);
      await request(app)
        .post('/transactions')
        .send(tx('s', { amount: '12.50' }))
        .expect(201);
      assert.equal(store.first('n')?.amount, '12.5');
      assert.equal(store.first('s')?.amount, '12.50');
    });

    const invalid: [string, unknown][] = [
      ['id', tx('', {})],
      ['id', { amount: '1.00', currency: 'USD' }],
      ['id', tx('x', { id: 42 })],
      ['amount', tx('x', { amount: undefined })],
      ['amount', tx('x', { amount: 'abc' })],
      ['amount', tx('x', { amount: '-5.00' })],
      ['amount', tx('x', { amount: 0 })],
      ['amount', tx('x', { amount: '1e3' })],
      ['amount', tx('x', { amount: true })],
      ['currency', tx('x', { currency: undefined })],
      ['currency', tx('x', { currency: 'usd' })],
      ['metadata', tx('x', { metadata: 'nope' })],
      ['body', [tx('x')]],
    ];
    for (const [field, body] of invalid) {
      it(`answers 400 naming ${field} for ${JSON.stringify(body).slice(0, 60)}`, async () => {
        const { app, store } = setup();
        const res = await request(app)
          .post('/transactions')
          .send(body as object)
          .expect(400);
        assert.equal(typeof res.body.error, 'string');
        assert.match(res.body.error, new RegExp(`^${field}|; ${field}`));
        assert.equal(store.all().length, 0);
        assert.equal(store.stats().rejected, 1);
      });
    }

    it('answers 400 JSON for malformed JSON and for a body that is not JSON', async () => {
      const { app, store } = setup();
      const bad = await request(app)
        .post('/transactions')
        .set('content-type', 'application/json')
        .send('{"id": "x",')
        .expect(400)
        .expect('content-type', /json/);
      assert.match(bad.body.error, /malformed JSON/);
      const text = await request(app).post('/transactions').set('content-type', 'text/plain').send('hi');
      assert.equal(text.status, 400);
      assert.match(text.body.error, /^body: /);
      assert.equal(store.all().length, 0);
    });

    it('answers 413 JSON for a body over the limit', async () => {
      const { app } = setup({}, '1kb');
      const res = await request(app)
        .post('/transactions')
        .send(tx('big', { description: 'x'.repeat(2_000) }))
        .expect(413);
      assert.equal(typeof res.body.error, 'string');
    });

    it('GET /transactions/:id answers the record or 404', async () => {
      const { app } = setup();
      await request(app).post('/transactions').send(tx('a/b c')).expect(201);
      const found = await request(app)
        .get(`/transactions/${encodeURIComponent('a/b c')}`)
        .expect(200);
      assert.equal(found.body.id, 'a/b c');
      assert.equal(found.body.amount, '150.50');
      const missing = await request(app).get('/transactions/nope').expect(404);
      assert.match(missing.body.error, /nope/);
    });

    it('a duplicate POST is stored as its own row and shows in the stats', async () => {
      const { app } = setup();
      await request(app)
        .post('/transactions')
        .send(tx('dup', { description: 'first' }))
        .expect(201);
      await request(app)
        .post('/transactions')
        .send(tx('dup', { description: 'second' }))
        .expect(201);
      await request(app)
        .post('/transactions')
        .send(tx('dup', { description: 'third' }))
        .expect(201);
      await request(app).post('/transactions').send(tx('single')).expect(201);
      const one = await request(app).get('/transactions/dup').expect(200);
      assert.equal(one.body.description, 'first');
      const all = await request(app).get('/transactions').expect(200);
      assert.deepEqual(
        all.body.data.map((r: { id: string; description: string }) => `${r.id}:${r.description}`),
        ['dup:first', 'dup:second', 'dup:third', 'single:Payment'],
      );
      const stats = await request(app).get('/admin/stats').expect(200);
      assert.equal(stats.body.posts, 4);
      assert.equal(stats.body.distinctIds, 2);
      assert.deepEqual(stats.body.duplicates, ['dup']);
      assert.deepEqual(stats.body.requests, { get: 2, post: 4, other: 0 });
    });

    it('POST /cleanup deletes every row, answers the count and resets the counters', async () => {
      const { app } = setup();
      await request(app).post('/transactions').send(tx('c1')).expect(201);
      await request(app).post('/transactions').send(tx('c1')).expect(201);
      await request(app).post('/transactions').send(tx('c2')).expect(201);
      const res = await request(app).post('/cleanup').expect(200);
      assert.deepEqual(res.body, { count: 3 });
      await request(app).get('/transactions/c1').expect(404);
      const all = await request(app).get('/transactions').expect(200);
      assert.deepEqual(all.body, { data: [] });
      const stats = await request(app).get('/admin/stats').expect(200);
      assert.equal(stats.body.posts, 0);
      assert.deepEqual(stats.body.duplicates, []);
      assert.deepEqual(stats.body.requests, { get: 2, post: 0, other: 0 });
    });

    it('GET /health answers healthy with timestamp and version', async () => {
      const { app } = setup();
      const res = await request(app).get('/health').expect(200);
      assert.equal(res.body.status, 'healthy');
      assert.ok(!Number.isNaN(Date.parse(res.body.timestamp)));
      assert.equal(typeof res.body.version, 'string');
    });

    it('answers 404 JSON for unknown routes, also under /admin', async () => {
      const { app } = setup();
      const a = await request(app).get('/nothing').expect(404);
      assert.equal(typeof a.body.error, 'string');
      const b = await request(app).get('/admin/nothing').expect(404);
      assert.equal(typeof b.body.error, 'string');
    });
  });

  describe('faults', () => {
    it('pre-write failure answers 5xx and stores nothing', async () => {
      const { app, store } = setup({ preWriteFailureRate: 1 });
      for (let i = 0; i < 5; i++) {
        const res = await request(app).post('/transactions').send(tx('pre'));
        assert.ok(INJECTED_5XX.includes(res.status), `status ${res.status}`);
        assert.equal(typeof res.body.error, 'string');
      }
      await request(app).get('/transactions/pre').expect(404);
      assert.equal(store.all().length, 0);
      const stats = await request(app).get('/admin/stats').expect(200);
      assert.equal(stats.body.posts, 0);
      assert.equal(stats.body.faults.preWrite, 5);
      assert.equal(stats.body.faults.postWrite, 0);
    });

    it('post-write failure stores the row, then answers 5xx', async () => {
      const { app } = setup({ postWriteFailureRate: 1, postWriteMode: 'error' });
      const res = await request(app).post('/transactions').send(tx('post'));
      assert.ok(INJECTED_5XX.includes(res.status), `status ${res.status}`);
      const got = await request(app).get('/transactions/post').expect(200);
      assert.equal(got.body.id, 'post');
      const stats = await request(app).get('/admin/stats').expect(200);
      assert.equal(stats.body.posts, 1);
      assert.equal(stats.body.faults.postWrite, 1);
      assert.equal(stats.body.faults.postWriteHang, 0);
    });

    it('post-write hang stores the row and holds the response, then answers 504', async () => {
      const { app, store } = setup({ postWriteFailureRate: 1, postWriteMode: 'hang', postWriteHangMs: 300 });
      const started = Date.now();
      let settled = false;
      const pending = request(app)
        .post('/transactions')
        .send(tx('hang'))
        .then((res) => {
          settled = true;
          return res;
        });
      while (store.copies('hang') === 0) {
        assert.ok(Date.now() - started < 250, 'the row should be stored before the hold ends');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const seen = await request(app).get('/transactions/hang').expect(200);
      assert.equal(seen.body.id, 'hang');
      assert.equal(settled, false, 'the POST must still be pending while the row is visible');
      const res = await pending;
      assert.equal(res.status, 504);
      assert.ok(Date.now() - started >= 290, `answered after ${Date.now() - started} ms`);
      assert.equal(store.stats().faults.postWriteHang, 1);
    });

    it('a held response lets go of its timer when the client goes away', async () => {
      const { app, store } = setup({
        postWriteFailureRate: 1,
        postWriteMode: 'hang',
        postWriteHangMs: 60_000,
      });
      const server = createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      try {
        const req = httpRequest({
          host: '127.0.0.1',
          port: (server.address() as AddressInfo).port,
          method: 'POST',
          path: '/transactions',
          headers: { 'content-type': 'application/json' },
        });
        req.on('error', () => undefined);
        req.end(JSON.stringify(tx('gone')));
        for (let i = 0; store.copies('gone') === 0; i++) {
          assert.ok(i < 200, 'the row should be stored');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        assert.equal(timers(), before + 1, 'the hold is one timer');
        req.destroy();
        for (let i = 0; timers() > before; i++) {
          assert.ok(i < 100, 'the hold timer should be cleared once the client is gone');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('mixed mode gives both held and 5xx post-write failures', () => {
      const faults = new Faults({ ...NO_FAULTS, postWriteFailureRate: 1, postWriteMode: 'mixed', seed: 5 });
      const outcomes = new Set(Array.from({ length: 50 }, () => faults.planPost().outcome));
      assert.deepEqual([...outcomes].sort(), ['postWriteError', 'postWriteHang']);
    });

    it('rates are honoured over many draws', () => {
      const faults = new Faults({ ...NO_FAULTS, preWriteFailureRate: 0.3, getFailureRate: 0.1, seed: 11 });
      const n = 4_000;
      const pre = Array.from({ length: n }, () => faults.planPost()).filter(
        (p) => p.outcome === 'preWriteFailure',
      ).length;
      const get = Array.from({ length: n }, () => faults.planGet()).filter(
        (p) => p.outcome === 'failure',
      ).length;
      assert.ok(Math.abs(pre / n - 0.3) < 0.03, `pre-write share ${pre / n}`);
      assert.ok(Math.abs(get / n - 0.1) < 0.02, `GET failure share ${get / n}`);
    });

    it('GET failure answers 5xx on both GET routes', async () => {
      const { app, store } = setup({ getFailureRate: 1 });
      await request(app).post('/transactions').send(tx('g')).expect(201);
      const one = await request(app).get('/transactions/g');
      assert.ok(INJECTED_5XX.includes(one.status), `status ${one.status}`);
      const all = await request(app).get('/transactions');
      assert.ok(INJECTED_5XX.includes(all.status), `status ${all.status}`);
      assert.equal(store.stats().faults.getFailure, 2);
    });

    it('outage answers 503 everywhere but /health and /admin, and can be lifted at run time', async () => {
      const { app, store } = setup({ outage: true });
      await request(app).post('/transactions').send(tx('o')).expect(503);
      await request(app).get('/transactions/o').expect(503);
      await request(app).get('/transactions').expect(503);
      await request(app).post('/cleanup').expect(503);
      await request(app).get('/health').expect(200);
      assert.equal(store.all().length, 0);
      const stats = await request(app).get('/admin/stats').expect(200);
      assert.equal(stats.body.faults.outage, 4);
      await request(app).put('/admin/faults').send({ outage: false }).expect(200);
      await request(app).post('/transactions').send(tx('o')).expect(201);
    });

    it('the same seed gives the same fault sequence over HTTP; another seed another', async () => {
      const knobs = { preWriteFailureRate: 0.4, postWriteFailureRate: 0.3, postWriteMode: 'error' as const };
      async function run(seed: number): Promise<number[]> {
        const { app } = setup({ ...knobs, seed });
        const statuses: number[] = [];
        for (let i = 0; i < 30; i++) {
          statuses.push(
            (
              await request(app)
                .post('/transactions')
                .send(tx(`s-${i}`))
            ).status,
          );
        }
        return statuses;
      }
      const first = await run(123);
      const again = await run(123);
      const other = await run(124);
      assert.deepEqual(first, again);
      assert.notDeepEqual(first, other);
      assert.ok(first.includes(201) && first.some((s) => s >= 500), `statuses ${first.join(',')}`);
    });

    it('GETs do not shift the POST sequence, and setting the seed restarts it', () => {
      const knobs = { ...NO_FAULTS, preWriteFailureRate: 0.5, postLatencyMs: { min: 0, max: 100 }, seed: 77 };
      const plain = new Faults(knobs);
      const withGets = new Faults(knobs);
      const a: PostPlan[] = [];
      const b: PostPlan[] = [];
      for (let i = 0; i < 50; i++) {
        a.push(plain.planPost());
        withGets.planGet();
        withGets.planGet();
        b.push(withGets.planPost());
      }
      assert.deepEqual(a, b);
      plain.update({ seed: 77 });
      assert.deepEqual(
        Array.from({ length: 50 }, () => plain.planPost()),
        a,
      );
    });

    it('PUT /admin/faults with a seed restarts the sequence over HTTP', async () => {
      const { app } = setup({ preWriteFailureRate: 0.5, seed: 9 });
      const run = async (prefix: string) => {
        const out: number[] = [];
        for (let i = 0; i < 20; i++)
          out.push(
            (
              await request(app)
                .post('/transactions')
                .send(tx(`${prefix}${i}`))
            ).status,
          );
        return out;
      };
      const first = await run('a');
      await request(app).put('/admin/faults').send({ seed: 9 }).expect(200);
      assert.deepEqual(await run('b'), first);
    });

    it('latency ranges are honoured (lower bound) for POST and GET', async () => {
      const { app } = setup({ postLatencyMs: { min: 80, max: 120 }, getLatencyMs: { min: 60, max: 60 } });
      for (let i = 0; i < 3; i++) {
        let started = Date.now();
        await request(app)
          .post('/transactions')
          .send(tx(`l-${i}`))
          .expect(201);
        const post = Date.now() - started;
        assert.ok(post >= 78, `POST took ${post} ms`);
        started = Date.now();
        await request(app).get(`/transactions/l-${i}`).expect(200);
        const get = Date.now() - started;
        assert.ok(get >= 58, `GET took ${get} ms`);
      }
      const started = Date.now();
      await request(app).get('/health').expect(200);
      assert.ok(Date.now() - started < 55, '/health has no injected latency');
    });

    it('latency draws stay within the range and vary', () => {
      const faults = new Faults({ ...NO_FAULTS, postLatencyMs: { min: 10, max: 20 }, seed: 4 });
      const latencies = Array.from({ length: 300 }, () => faults.planPost().latencyMs);
      assert.ok(latencies.every((ms) => ms >= 10 && ms <= 20));
      assert.ok(new Set(latencies).size >= 10);
    });
  });

  describe('admin faults', () => {
    it('GET /admin/faults shows the knobs; PUT applies a partial change and answers the whole', async () => {
      const { app } = setup({ seed: 3 });
      const before = await request(app).get('/admin/faults').expect(200);
      assert.deepEqual(before.body, { ...NO_FAULTS, seed: 3 });
      const res = await request(app)
        .put('/admin/faults')
        .send({ preWriteFailureRate: 1, getLatencyMs: { min: 1, max: 2 } })
        .expect(200);
      assert.deepEqual(res.body, {
        ...NO_FAULTS,
        seed: 3,
        preWriteFailureRate: 1,
        getLatencyMs: { min: 1, max: 2 },
      });
      const after = await request(app).get('/admin/faults').expect(200);
      assert.deepEqual(after.body, res.body);
      const post = await request(app).post('/transactions').send(tx('p'));
      assert.ok(INJECTED_5XX.includes(post.status), 'the new rate applies at once');
    });

    const invalid: [string, unknown][] = [
      ['preWriteFailureRate', { preWriteFailureRate: 1.5 }],
      ['postWriteFailureRate', { postWriteFailureRate: '0.5' }],
      ['getFailureRate', { getFailureRate: -1 }],
      ['postWriteMode', { postWriteMode: 'explode' }],
      ['postWriteHangMs', { postWriteHangMs: 1.5 }],
      ['getLatencyMs', { getLatencyMs: { min: 100, max: 10 } }],
      ['postLatencyMs', { postLatencyMs: { min: 10 } }],
      ['outage', { outage: 'yes' }],
      ['lateWriteRate', { lateWriteRate: 1.01 }],
      ['lateWriteMs', { lateWriteMs: 600_001 }],
      ['idempotency', { idempotency: 'honor' }],
      ['seed', { seed: -1 }],
      ['body', { unknownKnob: 1 }],
      ['body', [1]],
    ];
    for (const [field, body] of invalid) {
      it(`PUT answers 400 naming ${field} for ${JSON.stringify(body)} and changes nothing`, async () => {
        const { app, faults } = setup();
        const res = await request(app)
          .put('/admin/faults')
          .send(body as object)
          .expect(400);
        assert.match(res.body.error, new RegExp(`^${field}`));
        assert.deepEqual(faults.settings(), NO_FAULTS);
      });
    }

    it('PUT answers 400 for malformed JSON', async () => {
      const { app, faults } = setup();
      const res = await request(app)
        .put('/admin/faults')
        .set('content-type', 'application/json')
        .send('{"outage":')
        .expect(400);
      assert.match(res.body.error, /malformed JSON/);
      assert.deepEqual(faults.settings(), NO_FAULTS);
    });
  });
});
