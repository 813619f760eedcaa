import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { canonicalJson, fromApiBody } from '../src/api/transactions/submission';
import { apiSubmissionSchema } from '../src/api/transactions/submission-schemas';
import { TransactionsService } from '../src/api/transactions/transactions-service';
import { canonicalInstant } from '../src/domain/instant';
import { testApp } from './support/api';
import { fastPolicy, testClient } from './support/harness';
import { uniqueTaskQueue } from './support/temporal';

const schema = apiSubmissionSchema(8 * 1024);
const body = (timestamp: string) => ({
  id: 'tx-1',
  amount: '150.50',
  currency: 'INR',
  source_account: 'acc_a',
  destination_account: 'acc_b',
  timestamp,
});
const submission = (timestamp: string, id = 'tx-1') => {
  const parsed = schema.safeParse({ ...body(timestamp), id });
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  return fromApiBody(parsed.data, id, new Date(0));
};

/** The fingerprint as it was computed before timestamps were compared as instants: the text as sent. */
const textFingerprint = (timestamp: string) =>
  createHash('sha256')
    .update(
      canonicalJson({
        amount: '150.50',
        currency: 'INR',
        description: null,
        timestamp,
        metadata: null,
        sourceAccount: 'acc_a',
        destinationAccount: 'acc_b',
      }),
    )
    .digest('base64url');

describe('submission fingerprint: the timestamp as an instant', function () {
  it('spells an instant one way: UTC, Z, no trailing zeros in the fraction', function () {
    for (const [text, canonical] of [
      ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'],
      ['2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00Z'],
      ['2026-01-01T00:00:00-00:00', '2026-01-01T00:00:00Z'],
      ['2026-01-01T01:00:00+01:00', '2026-01-01T00:00:00Z'],
      ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00Z'],
      ['2025-12-31T19:30:00.120-04:30', '2026-01-01T00:00:00.12Z'],
      ['2026-03-01T05:29:59.123456789+05:30', '2026-02-28T23:59:59.123456789Z'],
      ['2024-03-01T00:00:00+01:00', '2024-02-29T23:00:00Z'],
      ['0050-01-01T00:30:00+01:00', '0049-12-31T23:30:00Z'],
      ['not a date', 'not a date'],
    ]) {
      assert.equal(canonicalInstant(text as string), canonical, text);
    }
  });

  it('agrees with Date on every instant and offset to the millisecond, and is its own fixed point', function () {
    const instant = fc.date({
      min: new Date('1000-01-01T00:00:00Z'),
      max: new Date('9000-01-01T00:00:00Z'),
      noInvalidDate: true,
    });
    const offset = fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 });
    fc.assert(
      fc.property(instant, offset, (date, minutes) => {
        const local = new Date(date.getTime() + minutes * 60_000).toISOString().slice(0, -1);
        const abs = Math.abs(minutes);
        const zone = `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        const canonical = canonicalInstant(local + zone);
        assert.equal(Date.parse(canonical), date.getTime(), local + zone);
        assert.equal(canonicalInstant(canonical), canonical);
        assert.equal(canonical, canonicalInstant(date.toISOString()));
      }),
      { numRuns: 1_000 },
    );
  });

  it('gives the same instant in any offset the same fingerprint, another instant another', function () {
    const first = submission('2026-01-01T00:00:00Z').fingerprint;
    for (const same of [
      '2026-01-01T00:00:00+00:00',
      '2026-01-01T01:00:00+01:00',
      '2026-01-01T00:00:00.000Z',
    ]) {
      assert.equal(submission(same).fingerprint, first, same);
    }
    for (const other of [
      '2026-01-01T00:00:01Z',
      '2026-01-01T00:00:00.0000001Z',
      '2026-01-01T00:00:00+01:00',
    ]) {
      assert.notEqual(submission(other).fingerprint, first, other);
    }
  });

  it('keeps the fingerprint of a canonical timestamp as it was; a text in another form brings its old one along', function () {
    const canonical = submission('2026-01-01T00:00:00Z');
    assert.equal(canonical.fingerprint, textFingerprint('2026-01-01T00:00:00Z'));
    assert.equal(canonical.legacyFingerprint, undefined);
    const offset = submission('2026-01-01T01:00:00+01:00');
    assert.equal(offset.fingerprint, canonical.fingerprint);
    assert.equal(offset.legacyFingerprint, textFingerprint('2026-01-01T01:00:00+01:00'));
    assert.equal(offset.transaction.timestamp, '2026-01-01T01:00:00+01:00', 'stored as the client sent it');
  });
});

describe('submission fingerprint against the API with a real Temporal client', function () {
  let client: Client;
  let app: Express;
  let taskQueue: string;

  before(async function () {
    client = await testClient();
    taskQueue = uniqueTaskQueue('fingerprint'); // no worker: each transaction stays pending
    app = testApp(client, taskQueue);
  });

  const post = (b: object) => request(app).post('/api/transactions').send(b);

  it('200, not 409, for a resend with the same instant in another offset; 409 for another instant', async function () {
    const id = `fp-${randomUUID()}`;
    assert.equal((await post({ ...body('2026-01-01T00:00:00Z'), id })).status, 202);
    for (const same of [
      '2026-01-01T00:00:00+00:00',
      '2026-01-01T01:00:00+01:00',
      '2026-01-01T00:00:00.000Z',
    ]) {
      const res = await post({ ...body(same), id });
      assert.equal(res.status, 200, `${same}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.timestamp, '2026-01-01T00:00:00Z', 'the first text stays');
    }
    assert.equal((await post({ ...body('2026-01-01T00:00:01Z'), id })).status, 409);
  });

  it('a transaction whose memo holds the fingerprint of its timestamp text (accepted before) takes its exact resend as the same', async function () {
    const id = `fp-${randomUUID()}`;
    const sent = '2026-01-01T01:00:00+01:00';
    // What an API from before this change started: the same transaction, the fingerprint of the text as sent.
    const earlier = new TransactionsService({
      client,
      taskQueue,
      policy: fastPolicy(),
      queryDeadlineMs: 60,
      rpcTimeoutMs: 2_000,
    });
    const started = await earlier.submit({ ...submission(sent, id), fingerprint: textFingerprint(sent) });
    assert.equal(started.kind, 'accepted');
    const resend = await post({ ...body(sent), id });
    assert.equal(resend.status, 200, JSON.stringify(resend.body));
    assert.equal((await post({ ...body(sent), id, amount: '150.51' })).status, 409);
  });
});
