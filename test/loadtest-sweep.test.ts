import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { AdaptiveRate } from '../tools/loadtest/adaptive-rate';
import { CompletionTracker, type CompletionOptions } from '../tools/loadtest/completion';
import { ListingSweep, type ListedFinal } from '../tools/loadtest/listing-sweep';
import { listingPage, type ListedTx } from './support/listing-page';

// A stand-in API: the listing (GET /api/transactions?status=...) and per-ID reads, with what each served
// recorded. `visible: false` plays visibility's lag: the per-ID read knows it, the listing does not yet.

interface FakeTx extends ListedTx {
  visible: boolean;
  lastError?: string;
}

interface FakeApi {
  url: string;
  txs: Map<string, FakeTx>;
  /** 200 serves the listing; anything else answers it with that status. */
  listStatus: number;
  /** Statuses the listing refuses with 400 (an API that does not know them). */
  refused: Set<string>;
  order: 'newest' | 'oldest';
  /** The first this many per-ID reads answer 503. */
  failGets: number;
  lists: URLSearchParams[];
  gets: string[];
  stop(): Promise<void>;
}

async function startFakeApi(): Promise<FakeApi> {
  const api: Omit<FakeApi, 'url' | 'stop'> = {
    txs: new Map(),
    listStatus: 200,
    refused: new Set(),
    order: 'newest',
    failGets: 0,
    lists: [],
    gets: [],
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/api/transactions') {
      api.lists.push(url.searchParams);
      if (api.listStatus !== 200) return json(api.listStatus, { title: 'no' });
      if (api.refused.has(url.searchParams.get('status') ?? '')) return json(400, { title: 'bad status' });
      const visible = [...api.txs.values()].filter((t) => t.visible);
      return json(200, listingPage(visible, url.searchParams, api.order));
    }
    const id = decodeURIComponent(url.pathname.slice('/api/transactions/'.length));
    api.gets.push(id);
    if (api.gets.length <= api.failGets) return json(503, { title: 'busy' });
    const tx = api.txs.get(id);
    if (tx === undefined) return json(404, { title: 'not found' });
    const final = tx.status !== 'processing';
    return json(200, {
      transactionId: tx.id,
      status: tx.status,
      attempts: 1,
      outcome: tx.status === 'completed' ? 'posted' : null,
      lastError: tx.lastError ?? null,
      submittedAt: tx.submittedAt,
      completedAt: final ? tx.completedAt : null,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(api, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A transaction submitted at T0 + i s that took 300 ms. */
function addTx(api: FakeApi, id: string, i: number, over: Partial<FakeTx> = {}): void {
  const submitted = T0 + i * 1000;
  api.txs.set(id, {
    id,
    status: 'completed',
    submittedAt: iso(submitted),
    completedAt: iso(submitted + 300),
    visible: true,
    ...over,
  });
}

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('loadtest: completion by listing sweep', function () {
  this.timeout(20_000);
  let api: FakeApi;
  const agent = new Agent({ connections: 8 });
  const trackers: CompletionTracker[] = [];

  const tracker = (over: Partial<CompletionOptions> = {}) => {
    const t = new CompletionTracker({
      api: api.url,
      dispatcher: agent,
      rate: 200,
      timeoutMs: 5_000,
      sweepIntervalMs: 50,
      sweepPollRate: 0.5,
      // No per-ID poll is due for a while: what settles meanwhile was settled by a sweep.
      firstDelayMs: 2_000,
      listPageSize: 10,
      listFrom: new Date(T0 - 300_000),
      wallOf: (clockMs) => T0 - 100 + (clockMs - planned), // planned 100 ms before the first submittedAt
      ...over,
    });
    trackers.push(t);
    return t;
  };
  let planned = 0;

  beforeEach(async function () {
    api = await startFakeApi();
    planned = performance.now();
  });
  afterEach(async function () {
    await Promise.all(trackers.splice(0).map((t) => t.stop()));
    await api.stop();
  });
  after(async function () {
    await agent.close();
  });

  it('settles from the listing, following its pages, with no per-ID poll; ignores untracked IDs', async function () {
    for (let i = 0; i < 25; i++) addTx(api, `run-${i}`, i);
    for (let i = 0; i < 7; i++) addTx(api, `other-${i}`, i); // another run's, listed too
    const t = tracker();
    for (let i = 0; i < 25; i++) t.track(`run-${i}`, planned, true);
    t.start();
    await t.waitAll(performance.now() + 1_500);
    const r = t.result();
    assert.equal(t.pending, 0);
    assert.equal(r.completed, 25);
    assert.deepEqual(r.settledBy, { sweep: 25, poll: 0 });
    assert.equal(r.polls, 0);
    assert.deepEqual(api.gets, []);
    // 32 completed ones on pages of 10: the tracked 25 take at least three pages, through next_cursor.
    assert.ok(r.sweep.pages >= 3, `${r.sweep.pages} pages`);
    assert.ok(api.lists.some((q) => q.get('cursor') !== null));
    assert.equal(r.sweep.listing, 'used');
    for (const q of api.lists) {
      assert.equal(q.get('from'), iso(T0 - 300_000));
      assert.equal(q.get('limit'), '10');
    }
    assert.equal(r.tracked, 25);
    assert.ok(![...t.statuses().keys()].some((id) => id.startsWith('other-')));
    // Times from the listed submittedAt/completedAt, as a poll would have them.
    assert.equal(r.processingMs.p50, 300);
    assert.equal(r.endToEndMs.count, 25);
    assert.equal(r.endToEndMs.max, 24_400); // the last one: submitted 24 s after the first, took 300 ms
    assert.deepEqual(r.outcomes, {}, 'the listing carries no outcome');
  });

  it('reads the failures a sweep settled one by one at the end, for the lastError the listing lacks', async function () {
    addTx(api, 'ok-1', 0);
    addTx(api, 'bad-1', 1, { status: 'failed', lastError: 'PostingRejected: insufficient funds' });
    const t = tracker({ firstDelayMs: 60_000 });
    t.track('ok-1', planned, true);
    t.track('bad-1', planned, true);
    t.start();
    await t.waitAll(performance.now() + 1_500);
    assert.deepEqual(api.gets, [], 'no per-ID read while the sweep settles them');
    await t.stop();
    const r = t.result();
    assert.deepEqual(r.settledBy, { sweep: 2, poll: 0 });
    assert.deepEqual(r.failedTransactions, [
      { id: 'bad-1', lastError: 'PostingRejected: insufficient funds' },
    ]);
    assert.deepEqual(api.gets, ['bad-1']);
    assert.equal(r.polls, 0, 'not counted as a completion poll');
  });

  it('leaves what is not listed yet pending, and settles it on a later sweep', async function () {
    for (let i = 0; i < 10; i++) addTx(api, `tx-${i}`, i, { visible: i < 6 });
    const t = tracker({ firstDelayMs: 60_000 });
    for (let i = 0; i < 10; i++) t.track(`tx-${i}`, planned, true);
    t.start();
    await until(() => t.result().sweep.sweeps >= 3);
    assert.equal(t.pending, 4);
    assert.deepEqual(
      [...t.statuses()].filter(([, s]) => s === 'unseen').map(([id]) => id),
      ['tx-6', 'tx-7', 'tx-8', 'tx-9'],
    );
    for (const tx of api.txs.values()) tx.visible = true;
    await t.waitAll(performance.now() + 3_000);
    const r = t.result();
    assert.equal(r.completed, 10);
    assert.deepEqual(r.settledBy, { sweep: 10, poll: 0 });
    assert.equal(r.polls, 0);
  });

  /** Ten listed transactions while the listing answers `status`; the result once they settled (or 4 s). */
  async function withListingAnswering(status: number) {
    api.listStatus = status;
    for (let i = 0; i < 10; i++) addTx(api, `tx-${i}`, i);
    const t = tracker({ firstDelayMs: 20 });
    for (let i = 0; i < 10; i++) t.track(`tx-${i}`, planned, true);
    t.start();
    await t.waitAll(performance.now() + 4_000);
    return t.result();
  }

  it('falls back to per-ID polls at the full rate when the listing answers 404', async function () {
    // At the sweep's 0.5 polls/s, ten polls would take about 18 s.
    const r = await withListingAnswering(404);
    assert.equal(r.completed, 10, JSON.stringify(r.sweep));
    assert.deepEqual(r.settledBy, { sweep: 0, poll: 10 });
    assert.equal(r.sweep.listing, 'unsupported');
    assert.match(r.sweep.detail ?? '', /answered 404/);
    assert.equal(api.lists.length, 1, 'not asked again');
    assert.deepEqual(r.outcomes, { posted: 10 });
  });

  it('falls back to per-ID polls when the listing keeps failing (5xx)', async function () {
    const r = await withListingAnswering(503);
    assert.equal(r.completed, 10);
    assert.equal(r.settledBy.poll, 10);
    assert.equal(r.sweep.listing, 'failing');
    assert.ok(r.sweep.failedSweeps >= 3);
    assert.deepEqual(Object.keys(r.sweep.answers), ['503']);
  });

  it('still looks up unacknowledged submissions one by one: a 404 proves nothing was started', async function () {
    for (let i = 0; i < 3; i++) addTx(api, `acked-${i}`, i);
    addTx(api, 'found-1', 5, { visible: false }); // started, but not listed yet
    const t = tracker({ sweepPollRate: 50 });
    for (let i = 0; i < 3; i++) t.track(`acked-${i}`, planned, true);
    // Unacknowledged ones are tracked after the load, long after their planned send: due at once.
    t.track('found-1', planned - 10_000, false);
    t.track('absent-1', planned - 10_000, false);
    t.start();
    await t.waitAll(performance.now() + 1_500);
    const r = t.result();
    assert.equal(t.pending, 0);
    assert.deepEqual([...api.gets].sort(), ['absent-1', 'found-1']);
    assert.equal(r.absentUnacknowledged, 1);
    assert.equal(r.foundUnacknowledged, 1);
    assert.equal(r.completed, 4);
    assert.deepEqual(r.settledBy, { sweep: 3, poll: 1 });
    assert.equal(t.statuses().get('absent-1'), 'absent');
    assert.deepEqual(r.outcomes, { posted: 1 }, 'detail from the one polled');
  });

  it('looks up unacknowledged submissions at the full rate, not the capped one the listing allows', async function () {
    // At the cap (0.5/s) 40 lookups would take over a minute; at the full rate (200/s) well under the deadline.
    const t = tracker({ sweepPollRate: 0.5 });
    for (let i = 0; i < 40; i++) t.track(`absent-${i}`, planned - 10_000, false);
    t.start();
    await t.waitAll(performance.now() + 5_000);
    assert.equal(t.pending, 0);
    assert.equal(t.result().absentUnacknowledged, 40);
    assert.equal(api.gets.length, 40);
  });

  it('halves the per-ID poll rate when polls fail, and still finishes', async function () {
    api.failGets = 3;
    for (let i = 0; i < 5; i++) addTx(api, `tx-${i}`, i);
    const t = tracker({ rate: 100, sweepIntervalMs: 0, firstDelayMs: 10, adaptive: { cutGapMs: 60_000 } });
    for (let i = 0; i < 5; i++) t.track(`tx-${i}`, planned, true);
    t.start();
    await t.waitAll(performance.now() + 4_000);
    const r = t.result();
    assert.equal(r.completed, 5);
    assert.equal(r.pollAnswers['503'], 3);
    assert.deepEqual(r.adaptivePolling, { cuts: 1, lowestRate: 50 });
    assert.equal(r.sweep.listing, 'off');
    assert.deepEqual(api.lists, []);
  });
});

describe('loadtest: listing sweep pages', function () {
  let api: FakeApi;
  const agent = new Agent({ connections: 2 });
  const seen: ListedFinal[] = [];
  const sweep = (full = false) =>
    listing.sweep(
      (item) => seen.push(item),
      full,
      () => true,
    );
  let listing: ListingSweep;

  beforeEach(async function () {
    api = await startFakeApi();
    // 50 completed ones, closed a minute apart.
    for (let i = 0; i < 50; i++) addTx(api, `tx-${i}`, i * 60);
    listing = new ListingSweep({
      api: api.url,
      dispatcher: agent,
      timeoutMs: 5_000,
      from: new Date(T0 - 1_000),
      pageSize: 10,
    });
    seen.length = 0;
  });
  afterEach(async function () {
    await api.stop();
  });
  after(async function () {
    await agent.close();
  });

  const completedPages = () => api.lists.filter((q) => q.get('status') === 'completed').length;

  it('reads only the newest pages after the first sweep, everything when full', async function () {
    assert.deepEqual(await sweep(), { kind: 'done' });
    assert.equal(completedPages(), 5);
    assert.equal(seen.length, 50);
    addTx(api, 'tx-new', 50 * 60);
    seen.length = 0;
    await sweep();
    assert.equal(completedPages(), 6, 'one page: the rest was read before');
    assert.ok(seen.some((s) => s.id === 'tx-new'));
    await sweep(true);
    assert.equal(completedPages(), 12, 'a full sweep reads all six pages');
    assert.deepEqual([...new Set(api.lists.map((q) => q.get('status')))].sort(), [
      'cancelled',
      'completed',
      'failed',
    ]);
  });

  it('reads everything every time when the listing is not newest first', async function () {
    api.order = 'oldest';
    await sweep();
    await sweep();
    assert.equal(completedPages(), 10);
  });

  it('skips a status the API refuses (400), and reports a missing listing as unsupported', async function () {
    api.refused.add('cancelled');
    await sweep();
    await sweep();
    assert.equal(api.lists.filter((q) => q.get('status') === 'cancelled').length, 1);
    api.listStatus = 405;
    const outcome = await sweep();
    assert.equal(outcome.kind, 'unsupported');
  });
});

describe('loadtest: adaptive poll rate', function () {
  it('halves on trouble at most once per gap, down to a floor, and grows back slowly', function () {
    const a = new AdaptiveRate(0, {
      slowMs: 1_000,
      cutGapMs: 1_000,
      growEveryMs: 5_000,
      growth: 2,
      minShare: 1 / 8,
    });
    a.onAnswer(false, 10, 100);
    assert.equal(a.share(100), 1);
    a.onAnswer(true, 10, 200);
    assert.equal(a.share(200), 0.5);
    a.onAnswer(true, 10, 300); // the same burst
    assert.equal(a.share(300), 0.5);
    a.onAnswer(false, 5_000, 1_300); // slow
    assert.equal(a.share(1_300), 0.25);
    a.onAnswer(true, 10, 2_400);
    a.onAnswer(true, 10, 3_500);
    assert.equal(a.share(3_500), 1 / 8, 'not below the floor');
    assert.equal(a.cuts, 4);
    assert.equal(a.share(8_499), 1 / 8);
    assert.equal(a.share(8_500), 1 / 4);
    assert.equal(a.share(13_500), 1 / 2);
    assert.equal(a.share(60_000), 1);
  });
});
