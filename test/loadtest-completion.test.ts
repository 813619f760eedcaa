import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { CompletionTracker } from '../tools/loadtest/completion';

describe('loadtest: completion poller', function () {
  let server: Server;
  let base: string;
  let gets = 0;
  const agent = new Agent({ connections: 8 });

  before(async function () {
    // Every transaction is "processing" for its first two polls, then completed 300 ms after submission.
    const polls = new Map<string, number>();
    server = createServer((req, res) => {
      gets++;
      const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      if (id.startsWith('unknown')) {
        res.writeHead(404).end();
        return;
      }
      const n = (polls.get(id) ?? 0) + 1;
      polls.set(id, n);
      const status = n >= 3 ? 'completed' : 'processing';
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          status,
          attempts: 2,
          outcome: status === 'completed' ? 'posted' : null,
          lastError: null,
          submittedAt: '2026-01-01T00:00:00.000Z',
          completedAt: status === 'completed' ? '2026-01-01T00:00:00.300Z' : null,
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    await agent.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('polls at a bounded rate until every transaction finished, and reports the server times', async function () {
    this.timeout(20_000);
    const tracker = new CompletionTracker({
      api: base,
      dispatcher: agent,
      rate: 40,
      timeoutMs: 5_000,
      firstDelayMs: 20,
      maxIntervalMs: 100,
      wallOf: () => Date.parse('2026-01-01T00:00:00.000Z') - 50, // planned 50 ms before submittedAt
    });
    const now = performance.now();
    for (let i = 0; i < 20; i++) tracker.track(`tx-${i}`, now, true);
    tracker.track('unknown-1', now, false); // its submission failed and the API does not know it
    tracker.start();
    const t0 = performance.now();
    await tracker.waitAll(performance.now() + 15_000);
    const seconds = (performance.now() - t0) / 1000;
    await tracker.stop();
    const r = tracker.result();
    assert.equal(tracker.pending, 0);
    assert.equal(r.tracked, 20);
    assert.equal(r.completed, 20);
    assert.equal(r.absentUnacknowledged, 1);
    assert.equal(r.notTerminal, 0);
    assert.equal(r.polls, 61); // 3 per transaction, 1 for the unknown one
    assert.equal(gets, 61);
    // 61 polls at 40/s (burst of 4) take at least about 1.4 s.
    assert.ok(seconds >= 1.3, `took ${seconds} s: rate not bounded`);
    assert.equal(r.processingMs.p50, 300);
    assert.equal(r.endToEndMs.p50, 350);
    assert.deepEqual(r.outcomes, { posted: 20 });
    assert.deepEqual(r.attempts, { '2': 20 });
    assert.equal(tracker.statuses().get('unknown-1'), 'absent');
  });
});
