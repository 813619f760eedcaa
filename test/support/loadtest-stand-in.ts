import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { parseAmount } from '../../src/domain/money';
import { loadTestOptions, type LoadTestOptions } from '../../tools/loadtest/options';
import { createMockApp } from '../../tools/mock/app';
import { mockSettings } from '../../tools/mock/config';
import { Faults } from '../../tools/mock/faults';
import { TransactionStore } from '../../tools/mock/store';
import { listingPage } from './listing-page';

// A stand-in for txflow (both dialects, status reads, health) in this process, posting over HTTP to the
// real mock app: runLoadTest runs end to end in a second or two without Temporal. Bugs can be switched on to
// show that the checks catch them. Used by test/loadtest-run.test.ts.

export type Bug = 'none' | 'post-twice' | 'ack-without-post' | 'never-finish' | 'conflict-on-repeat';

interface FakeTx {
  id: string;
  fingerprint: string;
  status: 'processing' | 'completed';
  submittedAt: string;
  completedAt: string | null;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `serviceMs`: submissions are served one at a time, each taking that long (a capacity of 1000/serviceMs per
 * s). `listing: false`: no GET /api/transactions (404), as a target with only per-ID reads.
 */
export async function startFakeTxflow(
  mockUrl: string,
  bug: Bug,
  serviceMs = 0,
  listing = true,
): Promise<{ url: string; stop(): Promise<void> }> {
  const txs = new Map<string, FakeTx>();
  let queue: Promise<void> = Promise.resolve();
  const serve = () => {
    const turn = queue.then(() => new Promise<void>((resolve) => setTimeout(resolve, serviceMs)));
    queue = turn;
    return turn;
  };
  const agent = new Agent({ connections: 16 });
  let n = 0;
  const post = async (id: string, amount: string, currency: string) => {
    const res = await request(`${mockUrl}/transactions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, amount, currency }),
    });
    await res.body.dump();
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = req.url ?? '';
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method === 'GET' && url === '/api/health') return json(200, { status: 'ok' });
      if (req.method === 'GET' && listing && url.startsWith('/api/transactions?')) {
        return json(200, listingPage(txs.values(), new URL(url, 'http://x').searchParams));
      }
      if (req.method === 'GET' && url.startsWith('/api/transactions/')) {
        const tx = txs.get(decodeURIComponent(url.slice('/api/transactions/'.length)));
        if (tx === undefined) return json(404, { title: 'not found' });
        return json(200, {
          ...tx,
          attempts: 2,
          outcome: tx.status === 'completed' ? 'posted' : null,
          lastError: null,
        });
      }
      if (req.method === 'POST' && (url === '/api/transactions' || url === '/v1/webhooks/transactions')) {
        const text = await readBody(req);
        if (serviceMs > 0) await serve();
        const body = JSON.parse(text) as Record<string, unknown>;
        const id = String(url === '/api/transactions' ? body.id : body.transaction_id);
        const currency = String(body.currency);
        const parsed = parseAmount(body.amount, currency);
        if (!parsed.ok) return json(400, { title: parsed.reason });
        const fingerprint = `${parsed.amount} ${currency} ${String(body.source_account)} ${String(body.description)}`;
        const known = txs.get(id);
        if (known !== undefined) {
          if (known.fingerprint !== fingerprint || bug === 'conflict-on-repeat')
            return json(409, { title: 'conflict' });
          return json(url === '/api/transactions' ? 200 : 202, {});
        }
        const tx: FakeTx = {
          id,
          fingerprint,
          status: 'processing',
          submittedAt: new Date().toISOString(),
          completedAt: null,
        };
        txs.set(id, tx);
        const k = n++;
        setTimeout(
          () => {
            void (async () => {
              if (bug === 'never-finish' && k % 10 === 0) return;
              if (!(bug === 'ack-without-post' && k % 10 === 0)) await post(id, parsed.amount, currency);
              if (bug === 'post-twice' && k % 10 === 0) await post(id, parsed.amount, currency);
              tx.status = 'completed';
              tx.completedAt = new Date().toISOString();
            })();
          },
          20 + (k % 7) * 10,
        );
        return json(202, {});
      }
      return json(404, {});
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await agent.close();
    },
  };
}

export async function startMockServer(): Promise<{
  url: string;
  store: TransactionStore;
  faults: Faults;
  stop(): Promise<void>;
}> {
  const store = new TransactionStore();
  const faults = new Faults(mockSettings({}, () => 3).faults);
  const app = createMockApp({ store, faults });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    store,
    faults,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A run of about 2 s: 0.5 s warm-up, 1 s performance, stress 20 → 60 in 0.5 s steps. */
export function tinyOptions(
  api: string,
  mock: string | null,
  over: Partial<LoadTestOptions> = {},
): LoadTestOptions {
  return loadTestOptions({
    api,
    mock,
    warmupSeconds: 0.5,
    warmupRate: 20,
    rate: 40,
    durationSeconds: 1,
    stressStart: 20,
    stressStep: 20,
    stressMax: 60,
    stressStepSeconds: 0.5,
    kneeP99Ms: 500,
    deadlineSeconds: 10,
    pollRate: 100,
    drainPollRate: 200,
    sweepSeconds: 0.5,
    drainSweepSeconds: 0.2,
    duplicates: 0.2,
    webhookShare: 0.3,
    seed: 77,
    quiet: true,
    ...over,
  });
}
