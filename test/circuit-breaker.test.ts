// The circuit breaker alone (no server): opens at the failure ratio over its window, probes once per interval
// while open, closes on a probe that succeeds; and the client wrapper sorts real HTTP outcomes from the mock.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CircuitBreaker, type BreakerOptions } from '../src/posting/circuit-breaker';
import { PostingError } from '../src/posting/posting-error';
import { isDownstreamFailure, withBreaker } from '../src/posting/breaker-client';
import { createPostingClient } from '../src/posting/posting-client';
import { breakerSettings } from '../src/config/breaker';
import { ConfigError } from '../src/config/env';
import { startMock, type RunningMock } from './support/mock-server';
import { newTransaction } from './support/harness';

const OPTIONS: BreakerOptions = {
  failureRatio: 0.5,
  windowMs: 1_000,
  minCalls: 4,
  probeIntervalMs: 50,
  maxPauseMs: 1_000,
};

describe('circuit breaker', function () {
  it('stays closed below the minimum of calls and below the ratio, opens at the ratio', function () {
    let now = 0;
    const breaker = new CircuitBreaker(
      OPTIONS,
      () => new Promise(() => {}),
      {},
      () => now,
    );
    breaker.record(false);
    breaker.record(false);
    breaker.record(false);
    assert.equal(breaker.state, 'closed', 'three failures are fewer than the 4 calls needed');
    // Outcomes older than the window no longer count.
    now = 2_000;
    breaker.record(true);
    breaker.record(true);
    breaker.record(false);
    breaker.record(true);
    assert.equal(breaker.state, 'closed', '1 of 4 failed: under the ratio');
    breaker.record(false);
    assert.equal(breaker.state, 'closed', '2 of 5 failed');
    breaker.record(false);
    assert.equal(breaker.state, 'open', '3 of 6 failed: at the ratio');
    assert.equal(breaker.allow(), false);
    assert.equal(breaker.retryAfterMs(), 50);
    breaker.close();
  });

  it('probes once per interval while open, never two at once; a failed probe keeps it open, a good one closes it', async function () {
    let probes = 0;
    let healthy = false;
    const changes: string[] = [];
    const breaker = new CircuitBreaker(
      OPTIONS,
      async () => {
        probes += 1;
        await sleep(20);
        return healthy;
      },
      { onChange: (state) => changes.push(state) },
    );
    for (let i = 0; i < 4; i += 1) breaker.record(false);
    assert.equal(breaker.state, 'open');
    // Calls meanwhile are refused and do not count.
    breaker.record(true);
    await sleep(60);
    assert.equal(breaker.state, 'half_open', 'the probe is in flight');
    assert.equal(breaker.allow(), false, 'half-open lets no call through but the probe');
    await sleep(300);
    assert.notEqual(breaker.state as string, 'closed');
    // 360 ms at one probe per 50 ms plus 20 ms each: about 5, never one per call.
    assert.ok(probes >= 3 && probes <= 6, `${probes} probes`);
    healthy = true;
    await sleep(150);
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.allow(), true);
    assert.deepEqual(changes, ['open', 'closed']);
    // Closed again with an empty window: one failure does not reopen it.
    breaker.record(false);
    assert.equal(breaker.state, 'closed');
    breaker.close();
  });

  it('opened by failed POSTs, a good probe (a GET) half-opens it: reads go, one trial POST per interval decides', async function () {
    let healthy = true;
    const changes: string[] = [];
    const breaker = new CircuitBreaker(OPTIONS, async () => healthy, {
      onChange: (state) => changes.push(state),
    });
    for (let i = 0; i < 4; i += 1) breaker.record(false, undefined, 'post');
    assert.equal(breaker.state, 'open');
    await sleep(80);
    assert.equal(breaker.state, 'half_open', 'the GET probe succeeded, but POSTs were failing');
    assert.equal(breaker.allow('find'), true, 'reads go through');
    assert.equal(breaker.allow('post'), true, 'one trial POST');
    assert.equal(breaker.allow('post'), false, 'only one per probe interval');
    breaker.record(false, undefined, 'post');
    assert.equal(breaker.state, 'open', 'the trial POST failed');
    assert.equal(breaker.allow('find'), false);
    await sleep(80);
    assert.equal(breaker.allow('post'), true, 'the next trial, a probe interval later');
    breaker.record(true, undefined, 'find');
    assert.equal(breaker.state, 'half_open', 'a good GET decides nothing about POSTs');
    breaker.record(false, undefined, 'find');
    assert.equal(breaker.state, 'half_open', 'nor a failed one: the probe showed reads work, POSTs decide');
    breaker.record(true, undefined, 'post');
    assert.equal(breaker.state, 'closed', 'the trial POST succeeded');
    assert.deepEqual(changes, ['open', 'half_open', 'open', 'half_open', 'closed']);
    healthy = false;
    breaker.close();
  });

  it('counts what says the downstream is not working, not answers from a working one', function () {
    assert.equal(isDownstreamFailure(new PostingError('not_written', '503', 503)), true);
    assert.equal(isDownstreamFailure(new PostingError('unavailable', 'GET 500', 500)), true);
    assert.equal(isDownstreamFailure(new PostingError('timeout', 'no answer')), true);
    assert.equal(isDownstreamFailure(new PostingError('unknown', 'reset')), true);
    assert.equal(isDownstreamFailure(new PostingError('unknown', 'in progress', 409)), false);
    assert.equal(isDownstreamFailure(new PostingError('rejected', '422', 422)), false);
    assert.equal(isDownstreamFailure(new PostingError('conflict', 'other amount')), false);
  });

  describe('in front of the mock over HTTP', function () {
    let mock: RunningMock;
    before(async function () {
      mock = await startMock();
    });
    after(async function () {
      await mock?.stop();
    });

    it('an outage opens it; the probe is a real GET; the end of the outage closes it', async function () {
      const client = createPostingClient({ baseUrl: mock.url, timeoutMs: 1_000, amountFormat: 'string' });
      const { posting, breaker } = withBreaker(client, OPTIONS);
      try {
        await posting.post(newTransaction());
        mock.faults.update({ outage: true });
        for (let i = 0; i < 4; i += 1) await posting.find('tx-x').catch(() => undefined);
        assert.equal(breaker.state, 'open');
        const before = mock.store.stats().requests;
        await sleep(300);
        const probes = mock.store.stats().requests.get - before.get;
        assert.ok(probes >= 2 && probes <= 7, `${probes} probe GETs in 300 ms at one per 50 ms`);
        assert.notEqual(breaker.state as string, 'closed', 'the outage goes on');
        mock.faults.update({ outage: false });
        await sleep(200);
        assert.equal(breaker.state, 'closed');
      } finally {
        mock.faults.update({ outage: false });
        await posting.close();
      }
    });

    it("passes a GET's own time limit on to the client (a local call's, decision 0027)", async function () {
      // Slower than the limit, faster than the client's own timeout: only the limit can fail it.
      mock.faults.update({ getLatencyMs: { min: 600, max: 600 } });
      const client = createPostingClient({ baseUrl: mock.url, timeoutMs: 2_000, amountFormat: 'string' });
      const { posting } = withBreaker(client, OPTIONS);
      try {
        const err = await posting.find('tx-slow', undefined, 200).then(
          () => assert.fail('the GET outlived its limit'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof PostingError && err.kind === 'timeout', String(err));
      } finally {
        mock.faults.update({ getLatencyMs: { min: 0, max: 0 } });
        await posting.close();
      }
    });
  });

  it('settings: defaults, off, and a bad value named', function () {
    assert.deepEqual(breakerSettings({}), {
      failureRatio: 0.5,
      windowMs: 10_000,
      minCalls: 20,
      probeIntervalMs: 5_000,
      maxPauseMs: 300_000,
    });
    assert.equal(breakerSettings({ BREAKER_ENABLED: 'false' }), undefined);
    assert.throws(() => breakerSettings({ BREAKER_FAILURE_RATIO: '1.5' }), /BREAKER_FAILURE_RATIO="1.5"/);
    assert.throws(
      () => breakerSettings({ BREAKER_PROBE_INTERVAL_MS: '10000', BREAKER_MAX_PAUSE_MS: '5000' }),
      (err: unknown) => err instanceof ConfigError && /BREAKER_MAX_PAUSE_MS/.test(err.message),
    );
  });
});
