import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { testClient } from './support/harness';
import { testApp } from './support/api';
import { uniqueTaskQueue } from './support/temporal';
import { FAST_CALLBACKS } from './support/callback-stack';
import { fastPolicy } from './support/harness';

const ALLOWED = ['127.0.0.1:4567', 'hooks.internal'];

describe('callback_url at submission (no worker: nothing here needs one)', function () {
  let app: Express;
  let off: Express;

  before(async function () {
    const client = await testClient();
    const taskQueue = uniqueTaskQueue('callbacks-api');
    app = testApp(
      client,
      taskQueue,
      fastPolicy(),
      { callbacks: { enabled: true, allowedHosts: ALLOWED } },
      {},
      { callbacks: { subscribers: [], policy: FAST_CALLBACKS } },
    );
    off = testApp(client, taskQueue);
  });

  const api = (callbackUrl: unknown, id = `cb-${randomUUID()}`) => ({
    id,
    amount: '1.00',
    currency: 'EUR',
    callback_url: callbackUrl,
  });
  const webhook = (callbackUrl: unknown) => ({
    transaction_id: `cb-${randomUUID()}`,
    source_account: 'a',
    destination_account: 'b',
    amount: '1.00',
    currency: 'EUR',
    callback_url: callbackUrl,
  });

  const refused: [unknown, RegExp][] = [
    ['http://example.com/hook', /must be https/],
    ['ftp://example.com/hook', /must be an https URL/],
    ['not a url', /absolute https URL/],
    ['https://user:pw@example.com/hook', /credentials/],
    ['https://10.0.0.7/hook', /internal address/],
    ['https://169.254.169.254/latest/meta-data', /internal address/],
    ['https://[::1]/hook', /internal address/],
    ['https://localhost/hook', /internal address/],
    ['http://127.0.0.1:4568/hook', /must be https/],
    [`https://example.com/${'a'.repeat(2100)}`, /at most 2048/],
    [42, /must be a string/],
  ];
  for (const [url, message] of refused) {
    it(`refuses ${String(url).slice(0, 50)} with a 400 naming callback_url, in both dialects, starting nothing`, async function () {
      const body = api(url);
      const res = await request(app).post('/api/transactions').send(body);
      assert.equal(res.status, 400);
      assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
      assert.equal(res.body.errors[0].field, 'body.callback_url');
      assert.match(res.body.errors[0].message, message);
      assert.equal((await request(app).get(`/api/transactions/${body.id}`)).status, 404, 'nothing started');
      const v1 = await request(app).post('/v1/webhooks/transactions').send(webhook(url));
      assert.equal(v1.status, 400);
      assert.equal(v1.body.errors[0].field, 'body.callback_url');
    });
  }

  it('accepts https anywhere public, and http to an allowed host[:port]', async function () {
    for (const url of [
      'https://example.com/hook?token=x',
      'http://127.0.0.1:4567/hook',
      'http://hooks.internal:8080/x',
    ]) {
      const res = await request(app).post('/api/transactions').send(api(url));
      assert.equal(res.status, 202, `${url}: ${JSON.stringify(res.body)}`);
    }
  });

  it('a resend with the same callback_url is a duplicate; with another one, or none, a conflict', async function () {
    const first = api('https://example.com/a');
    assert.equal((await request(app).post('/api/transactions').send(first)).status, 202);
    assert.equal((await request(app).post('/api/transactions').send(first)).status, 200);
    const other = await request(app)
      .post('/api/transactions')
      .send({ ...first, callback_url: 'https://example.com/b' });
    assert.equal(other.status, 409);
    const { callback_url: _, ...without } = first;
    assert.equal((await request(app).post('/api/transactions').send(without)).status, 409);
  });

  it('without CALLBACK_SIGNING_SECRET a callback_url is a 400: callbacks are not configured', async function () {
    const res = await request(off).post('/api/transactions').send(api('https://example.com/hook'));
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, 'body.callback_url');
    assert.match(res.body.errors[0].message, /not configured/);
  });

  it('the OpenAPI document has callback_url in both submissions and the events routes', async function () {
    const doc = (await request(app).get('/openapi.json')).body;
    for (const name of ['ApiSubmission', 'WebhookSubmission']) {
      assert.equal(doc.components.schemas[name].properties.callback_url.type, 'string', name);
    }
    assert.ok(doc.paths['/api/transactions/{id}/events']?.get);
    const redeliver = doc.paths['/api/transactions/{id}/events/{eventId}/redeliver']?.post;
    assert.deepEqual(
      Object.keys(redeliver?.responses ?? {})
        .filter((c) => /^[24]/.test(c))
        .sort(),
      ['202', '400', '401', '404', '409', '429'],
    );
  });

  it('events of an unknown transaction: 404; a malformed event ID: 400 naming it', async function () {
    assert.equal((await request(app).get(`/api/transactions/nope-${randomUUID()}/events`)).status, 404);
    const bad = await request(app).post('/api/transactions/x/events/bad%20id/redeliver');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].field, 'path.eventId');
  });
});
