import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { testApp } from './support/api';
import { testClient } from './support/harness';
import { uniqueTaskQueue } from './support/temporal';

const RATE = '/api/admin/posting-rate';

/**
 * Review of issue 15: PUT /api/admin/posting-rate promises "a number above 0". Temporal keeps the rate as a float32,
 * and a rate of 0 pauses the task queue (every check, post, look and callback: transactions then fail by their
 * deadline). A positive value that float32 rounds to 0 must be refused like 0, naming the field.
 */
describe('review15: a posting rate that Temporal would store as 0 is refused (real Temporal)', function () {
  this.timeout(30_000);
  let client: Client;
  let app: Express;

  before(async function () {
    client = await testClient();
    app = testApp(client, uniqueTaskQueue('review15-rate'));
  });

  it('refuses 1e-46 with a 400 naming body.max_per_second, and leaves the queue uncapped', async function () {
    const res = await request(app).put(RATE).send({ max_per_second: 1e-46 });
    const now = await request(app).get(RATE);
    assert.equal(res.status, 400, `answered ${res.status}; the rate in force: ${JSON.stringify(now.body)}`);
    assert.deepEqual(
      res.body.errors.map((e: { field: string }) => e.field),
      ['body.max_per_second'],
    );
    assert.deepEqual([now.body.max_per_second, now.body.source], [null, 'none']);
  });
});
