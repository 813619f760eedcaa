import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ConfigError } from '../src/config/env';
import { apiSettings } from '../src/config/api';
import { processingPolicy } from '../src/config/policy';
import { postingSettings } from '../src/config/posting';
import { temporalSettings } from '../src/config/temporal';
import { txflowCommand } from '../tools/shared/txflow-process';

describe('configuration from env vars', function () {
  it('has working defaults', function () {
    assert.deepEqual(temporalSettings({}), {
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'txflow',
    });
    assert.equal(apiSettings({}).port, 3000);
    assert.equal(apiSettings({}).maxWaitSeconds, 30);
    assert.equal(postingSettings({}).baseUrl, 'http://127.0.0.1:8080');
    const policy = processingPolicy({});
    assert.equal(policy.deadlineMs, 24 * 3_600_000);
    assert.equal(policy.post.retry.maximumAttempts, undefined, 'no limit but the deadline');
  });

  it('reads values and trims a trailing slash from URLs', function () {
    const posting = postingSettings({
      POSTING_SERVICE_URL: 'http://downstream:8080/',
      POSTING_TIMEOUT_MS: '2500',
    });
    assert.equal(posting.baseUrl, 'http://downstream:8080');
    assert.equal(posting.timeoutMs, 2500);
    const policy = processingPolicy({ POST_RETRY_BACKOFF: '1.5', PROCESSING_DEADLINE_MS: '60000' });
    assert.equal(policy.post.retry.backoffCoefficient, 1.5);
    assert.equal(policy.deadlineMs, 60_000);
  });

  it('names every bad variable and its rule', function () {
    assert.throws(
      () => apiSettings({ PORT: 'abc', QUERY_DEADLINE_MS: '1', API_MAX_WAIT_SECONDS: '-1' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /PORT="abc": must be a whole number/.test(err.message) &&
        /API_MAX_WAIT_SECONDS="-1": must be/.test(err.message) &&
        /QUERY_DEADLINE_MS="1": must be at least 5/.test(err.message),
    );
    assert.throws(
      () => temporalSettings({ TEMPORAL_ADDRESS: 'no-port' }),
      /TEMPORAL_ADDRESS="no-port": must be host:port/,
    );
    assert.throws(
      () => postingSettings({ POSTING_SERVICE_URL: 'ftp://x' }),
      /POSTING_SERVICE_URL="ftp:\/\/x"/,
    );
    assert.throws(
      () => processingPolicy({ CHECK_RETRY_BACKOFF: '0.5' }),
      /CHECK_RETRY_BACKOFF="0.5": must be at least 1/,
    );
  });

  it('the posting settings: the key header, the not-processed statuses and a settle window no shorter than the POST timeout', function () {
    const defaults = postingSettings({});
    assert.equal(defaults.idempotencyHeader, 'Idempotency-Key');
    assert.deepEqual(defaults.notProcessedStatuses, [429, 503]);
    assert.equal(postingSettings({ POSTING_IDEMPOTENCY_HEADER: 'none' }).idempotencyHeader, null);
    assert.deepEqual(postingSettings({ POSTING_NOT_PROCESSED_STATUSES: 'none' }).notProcessedStatuses, []);
    assert.throws(
      () => postingSettings({ POSTING_NOT_PROCESSED_STATUSES: '503,200' }),
      /POSTING_NOT_PROCESSED_STATUSES="503,200": must be HTTP statuses 400-599/,
    );
    assert.throws(() => postingSettings({ POSTING_IDEMPOTENCY_HEADER: 'a b' }), /POSTING_IDEMPOTENCY_HEADER/);
    assert.equal(processingPolicy({}).writeSettleMs, 30_000);
    for (const settings of [postingSettings, processingPolicy]) {
      assert.throws(
        () => settings({ POSTING_TIMEOUT_MS: '40000' }),
        /POSTING_WRITE_SETTLE_MS="": must be at least POSTING_TIMEOUT_MS \(40000\)/,
      );
    }
  });

  it('refuses a maximum retry interval below the initial one (Temporal would refuse the policy for ever)', function () {
    assert.throws(
      () => processingPolicy({ POST_RETRY_INITIAL_INTERVAL_MS: '120000' }),
      /POST_RETRY_MAX_INTERVAL_MS="": must be at least POST_RETRY_INITIAL_INTERVAL_MS \(120000\)/,
    );
  });

  it("the API reads POSTING_AMOUNT_FORMAT by the worker's rule: number by default, string, nothing else", function () {
    assert.equal(apiSettings({}).postingAmountFormat, 'number');
    assert.equal(apiSettings({ POSTING_AMOUNT_FORMAT: 'string' }).postingAmountFormat, 'string');
    for (const bad of ['float', 'String']) {
      assert.throws(
        () => apiSettings({ POSTING_AMOUNT_FORMAT: bad }),
        new RegExp(`POSTING_AMOUNT_FORMAT="${bad}": must be number or string`),
      );
      assert.throws(() => postingSettings({ POSTING_AMOUNT_FORMAT: bad }), /POSTING_AMOUNT_FORMAT/);
    }
  });

  it('API_BATCH_MAX_ITEMS: 1000 by default, a whole number from 1 to 10000', function () {
    assert.equal(apiSettings({}).batchMaxItems, 1_000);
    assert.equal(apiSettings({ API_BATCH_MAX_ITEMS: '250' }).batchMaxItems, 250);
    for (const [bad, rule] of [
      ['0', 'must be at least 1'],
      ['10001', 'must be at most 10000'],
      ['lots', 'must be a whole number'],
    ]) {
      assert.throws(
        () => apiSettings({ API_BATCH_MAX_ITEMS: bad }),
        new RegExp(`API_BATCH_MAX_ITEMS="${bad}": ${rule}`),
      );
    }
  });

  it('refuses limits that together let one batch body pass 64 MiB, naming API_BATCH_MAX_ITEMS', function () {
    assert.equal(apiSettings({ API_BATCH_MAX_ITEMS: '4000' }).batchMaxItems, 4_000); // 4,000 x 16 KiB = 62.5 MiB
    assert.throws(
      () => apiSettings({ API_BATCH_MAX_ITEMS: '10000' }),
      /API_BATCH_MAX_ITEMS="10000": with METADATA_LIMIT_BYTES=8192 and BODY_LIMIT_BYTES=65536 one batch body could take 156 MiB, over 64 MiB/,
    );
  });

  const badValues = [
    ['api', 'PORT', '99999', 'must be at most 65535'],
    ['api', 'API_BATCH_MAX_ITEMS', '0', 'must be at least 1'],
    ['api', 'POSTING_AMOUNT_FORMAT', 'float', 'must be number or string'],
    ['api', 'API_MAX_WAIT_SECONDS', '601', 'must be at most 600'],
    ['worker', 'POSTING_TIMEOUT_MS', 'soon', 'must be a whole number'],
    ['mock', 'MOCK_PRE_WRITE_FAILURE_RATE', '2', 'must be at most 1'],
  ] as const;
  for (const [entry, name, value, rule] of badValues) {
    it(`npm run ${entry} stops at once with exit code 2 and a message naming ${name}`, function () {
      const txflow = txflowCommand(entry, [], {
        PATH: process.env.PATH,
        [name]: value,
        TEMPORAL_ADDRESS: '127.0.0.1:1',
      });
      const result = spawnSync(txflow.command, txflow.args, {
        env: txflow.env,
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(result.status, 2, result.stderr);
      assert.ok(
        result.stderr.includes(`Invalid configuration:\n  ${name}="${value}": ${rule}`),
        result.stderr,
      );
    });
  }
});
