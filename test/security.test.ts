import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../src/api/http/app';
import type { HealthService } from '../src/api/health/health-service';
import type { TransactionsService } from '../src/api/transactions/transactions-service';
import { apiSettings } from '../src/config/api';
import { ConfigError } from '../src/config/env';
import { createLogger } from '../src/config/logger';
import { testApp } from './support/api';
import { fastPolicy, testClient } from './support/harness';
import { uniqueTaskQueue } from './support/temporal';

const KEY_1 = 'k1-0123456789abcdef-first';
const KEY_2 = 'k2-fedcba9876543210-second';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,*/*;q=0.8';

const body = () => ({ id: `sec-${randomUUID()}`, amount: '10.00', currency: 'EUR' });
const webhook = () => ({
  transaction_id: `sec-wh-${randomUUID()}`,
  source_account: 'acc_a',
  destination_account: 'acc_b',
  amount: '10.00',
  currency: 'EUR',
});

function assertProblem(res: request.Response, status: number) {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  assert.ok(res.body.title);
  assert.ok(res.body.request_id);
}

/** Log lines written by a logger built as the processes build theirs (createLogger), kept in memory. */
function capturedLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('api-test', stream), text: () => lines.join('\n') };
}

describe('security: API keys, rate limit, headers, errors and logs', function () {
  let client: Client;
  let taskQueue: string;

  before(async function () {
    client = await testClient();
    taskQueue = uniqueTaskQueue('security');
  });

  const workflowCount = async (id: string) => (await client.workflow.count(`WorkflowId = "${id}"`)).count;

  describe('authentication', function () {
    it('is off by default: writes and reads need no key', async function () {
      const app = testApp(client, taskQueue);
      const b = body();
      assert.equal((await request(app).post('/api/transactions').send(b)).status, 202);
      assert.equal((await request(app).get(`/api/transactions/${b.id}`)).status, 200);
      assert.equal(apiSettings({}).apiKeys.length, 0);
    });

    describe('with API_KEYS set', function () {
      let app: Express;
      let logs: ReturnType<typeof capturedLogger>;

      before(function () {
        logs = capturedLogger();
        app = testApp(client, taskQueue, fastPolicy(), { apiKeys: [KEY_1, KEY_2], logger: logs.logger });
      });

      it('401 with WWW-Authenticate: Bearer without a key, in both dialects and for reads; nothing started', async function () {
        const b = body();
        const post = await request(app).post('/api/transactions').send(b);
        assertProblem(post, 401);
        assert.match(post.headers['www-authenticate'] ?? '', /^Bearer realm="txflow"$/);
        assertProblem(await request(app).post('/v1/webhooks/transactions').send(webhook()), 401);
        assertProblem(await request(app).get(`/api/transactions/${b.id}`), 401);
        assertProblem(await request(app).get(`/v1/transactions/${b.id}`), 401);
        assertProblem(await request(app).get('/no/such/route'), 401);
        assert.equal(await workflowCount(b.id), 0);
      });

      it('401 for a wrong key in either header, a prefix of a key, a key plus more, or another scheme', async function () {
        for (const [name, value] of [
          ['Authorization', 'Bearer not-the-right-key-at-all'],
          ['Authorization', `Bearer ${KEY_1.slice(0, -1)}`],
          ['Authorization', `Bearer ${KEY_1}x`],
          ['Authorization', `Basic ${Buffer.from(`user:${KEY_1}`).toString('base64')}`],
          ['Authorization', KEY_1],
          ['X-API-Key', 'not-the-right-key-at-all'],
          ['X-API-Key', `${KEY_2} `.repeat(3)],
          ['X-API-Key', ''],
        ] as const) {
          const res = await request(app).post('/api/transactions').set(name, value).send(body());
          assertProblem(res, 401);
          assert.match(res.headers['www-authenticate'] ?? '', /^Bearer/, `${name}: ${value}`);
        }
        const wrong = await request(app).get('/api/transactions/x').set('X-API-Key', 'wrong-key-0123456789');
        assert.match(wrong.headers['www-authenticate'] ?? '', /error="invalid_token"/);
      });

      it('2xx with either key, as Authorization: Bearer or as X-API-Key', async function () {
        const b = body();
        const created = await request(app)
          .post('/api/transactions')
          .set('Authorization', `Bearer ${KEY_1}`)
          .send(b);
        assert.equal(created.status, 202, created.text);
        const read = await request(app).get(`/api/transactions/${b.id}`).set('X-API-Key', KEY_2);
        assert.equal(read.status, 200, read.text);
        const lower = await request(app)
          .get(`/api/transactions/${b.id}`)
          .set('authorization', `bearer ${KEY_2}`);
        assert.equal(lower.status, 200);
        const w = webhook();
        assert.equal(
          (await request(app).post('/v1/webhooks/transactions').set('X-API-Key', KEY_1).send(w)).status,
          202,
        );
        assert.equal(
          (
            await request(app)
              .get(`/v1/transactions/${w.transaction_id}`)
              .set('Authorization', `Bearer ${KEY_2}`)
          ).status,
          200,
        );
      });

      it('leaves health and the test page (GET /) open', async function () {
        assert.equal((await request(app).get('/api/health')).status, 200);
        const root = await request(app).get('/').set('Accept', 'application/json');
        assert.equal(root.status, 200);
        assert.equal(root.body.status, 'healthy');
        const page = await request(app).get('/').set('Accept', BROWSER_ACCEPT);
        assert.equal(page.status, 200);
        assert.match(page.headers['content-type'] ?? '', /^text\/html/);
      });

      it('never logs a key, right or wrong; the request line names the key by its position', async function () {
        const wrongKey = `wrong-${randomUUID()}`;
        await request(app).get('/api/transactions/nope').set('Authorization', `Bearer ${wrongKey}`);
        await request(app).get('/api/transactions/nope').set('X-API-Key', KEY_2);
        const text = logs.text();
        assert.ok(text.includes('"client":"key-2"'), text.slice(-500));
        for (const secret of [KEY_1, KEY_2, wrongKey]) assert.equal(text.includes(secret), false, secret);
      });
    });

    it('API_KEYS is validated at start-up: 16+ visible characters each, never shown in the message', function () {
      assert.deepEqual(apiSettings({ API_KEYS: ` ${KEY_1} , ${KEY_2},` }).apiKeys, [KEY_1, KEY_2]);
      const tooShort = 'short-secret-15';
      assert.throws(
        () => apiSettings({ API_KEYS: `${KEY_1},${tooShort}` }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, /API_KEYS=\(hidden\): key 2 of 2 .*16-256/);
          assert.equal(err.message.includes(tooShort), false);
          assert.equal(err.message.includes(KEY_1), false);
          return true;
        },
      );
      assert.throws(() => apiSettings({ API_KEYS: 'has a space in the key' }), ConfigError);
    });
  });

  describe('rate limit', function () {
    it('RATE_LIMIT_PER_MINUTE: 60000 by default, 0 turns it off', function () {
      assert.equal(apiSettings({}).rateLimitPerMinute, 60_000);
      assert.equal(apiSettings({ RATE_LIMIT_PER_MINUTE: '0' }).rateLimitPerMinute, 0);
      assert.throws(() => apiSettings({ RATE_LIMIT_PER_MINUTE: '-1' }), /RATE_LIMIT_PER_MINUTE/);
    });

    it('429 problem+json with Retry-After once a client is over the limit; health stays exempt', async function () {
      const app = testApp(client, taskQueue, fastPolicy(), { rateLimitPerMinute: 3 });
      for (let i = 0; i < 3; i++) {
        const res = await request(app).get(`/api/transactions/unknown-${i}`);
        assert.equal(res.status, 404);
        assert.match(res.headers['ratelimit-policy'] ?? '', /q=3; w=60/);
      }
      const limited = await request(app).post('/api/transactions').send(body());
      assertProblem(limited, 429);
      const retryAfter = Number(limited.headers['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${limited.headers['retry-after']}`);
      assert.match(limited.headers.ratelimit ?? '', /r=0/);
      assertProblem(await request(app).get('/v1/transactions/x'), 429);
      for (let i = 0; i < 5; i++) {
        assert.equal((await request(app).get('/api/health')).status, 200);
        assert.equal((await request(app).get('/').set('Accept', 'application/json')).status, 200);
      }
    });

    it('counts per API key when auth is on, and per IP for requests without a valid key', async function () {
      const app = testApp(client, taskQueue, fastPolicy(), {
        apiKeys: [KEY_1, KEY_2],
        rateLimitPerMinute: 2,
      });
      const get = (headers: Record<string, string>) =>
        request(app).get('/api/transactions/unknown').set(headers);
      assert.equal((await get({ 'X-API-Key': KEY_1 })).status, 404);
      assert.equal((await get({ 'X-API-Key': KEY_1 })).status, 404);
      assertProblem(await get({ 'X-API-Key': KEY_1 }), 429);
      assert.equal(
        (await get({ Authorization: `Bearer ${KEY_2}` })).status,
        404,
        'another key has its own quota',
      );
      // Guessing keys is limited too: wrong keys count against the client's IP address.
      assertProblem(await get({ 'X-API-Key': 'guess-0000000000000001' }), 401);
      assertProblem(await get({ 'X-API-Key': 'guess-0000000000000002' }), 401);
      assertProblem(await get({ 'X-API-Key': 'guess-0000000000000003' }), 429);
    });
  });

  describe('headers', function () {
    it("sets helmet's security headers on API answers, errors included", async function () {
      const app = testApp(client, taskQueue);
      for (const res of [
        await request(app).get('/api/health'),
        await request(app).post('/api/transactions').send({}),
        await request(app).get('/nowhere'),
      ]) {
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
        assert.equal(res.headers['x-frame-options'], 'DENY');
        assert.match(res.headers['strict-transport-security'] ?? '', /max-age=\d+/);
        assert.equal(res.headers['referrer-policy'], 'no-referrer');
        assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
        assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin');
        assert.equal(res.headers['x-powered-by'], undefined);
        assert.ok(res.headers['x-request-id']);
      }
    });

    it('answers OPTIONS on a known path with its methods in Allow, and 404 on an unknown one', async function () {
      const app = testApp(client, taskQueue);
      const list = await request(app).options('/api/transactions');
      assert.equal(list.status, 200);
      assert.deepEqual(list.headers.allow?.split(/,\s*/).sort(), ['GET', 'HEAD', 'POST']);
      const retry = await request(app).options('/api/transactions/tx-1/retry');
      assert.equal(retry.status, 200);
      assert.equal(retry.headers.allow, 'POST');
      assert.equal((await request(app).options('/nowhere')).status, 404);
    });

    it("keeps the test page's own CSP (helmet's does not replace it)", async function () {
      const app = testApp(client, taskQueue);
      const page = await request(app).get('/').set('Accept', BROWSER_ACCEPT);
      const csp = page.headers['content-security-policy'] ?? '';
      assert.match(csp, /^default-src 'none'; script-src 'sha256-/);
      assert.equal(csp.includes("'self' https:"), false);
      assert.equal(page.headers['x-frame-options'], 'DENY');
    });
  });

  describe('internal errors', function () {
    it('answer a generic 500 problem: no message, stack or path; the log keeps the detail', async function () {
      const logs = capturedLogger();
      const failing = {
        submit: () => Promise.reject(new Error('/secret/path boom')),
        get: () => Promise.reject(new TypeError('Cannot read properties of undefined (/secret/path)')),
      } as unknown as TransactionsService;
      const app = createApp({
        transactions: failing,
        health: { report: () => Promise.reject(new Error('unused')) } as unknown as HealthService,
        logger: logs.logger,
        bodyLimitBytes: 16 * 1024,
        metadataLimitBytes: 2 * 1024,
        version: 'test',
      });
      for (const res of [
        await request(app).post('/api/transactions').send(body()),
        await request(app).post('/v1/webhooks/transactions').send(webhook()),
        await request(app).get('/api/transactions/some-id'),
      ]) {
        assertProblem(res, 500);
        assert.equal(res.body.title, 'Internal error');
        for (const leak of ['secret', 'boom', 'Error', 'Cannot read', '    at ', '.js', '.ts']) {
          assert.equal(res.text.includes(leak), false, `${leak} in ${res.text}`);
        }
        assert.deepEqual(Object.keys(res.body).sort(), [
          'detail',
          'instance',
          'request_id',
          'status',
          'title',
          'type',
        ]);
      }
      assert.match(logs.text(), /\/secret\/path boom/, 'the operator still sees what went wrong');
    });
  });

  describe('logs', function () {
    it('redact Authorization and X-API-Key wherever request headers are logged', function () {
      const logs = capturedLogger();
      const headers = { authorization: `Bearer ${KEY_1}`, 'x-api-key': KEY_2, accept: 'application/json' };
      logs.logger.info({ req: { method: 'GET', headers } }, 'request');
      logs.logger.info({ request: { headers } }, 'nested');
      logs.logger.info({ headers }, 'top level');
      const text = logs.text();
      assert.equal(text.includes(KEY_1), false, text);
      assert.equal(text.includes(KEY_2), false, text);
      assert.equal(text.match(/\[redacted\]/g)?.length, 6, text);
      assert.ok(text.includes('application/json'), 'other headers stay');
      // Redaction copies: the request's own headers are untouched.
      assert.equal(headers.authorization, `Bearer ${KEY_1}`);
    });
  });
});
