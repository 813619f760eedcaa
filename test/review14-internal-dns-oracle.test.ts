import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createCallbackActivities } from '../src/activities';
import { CallbackSendError, type CallbackSender } from '../src/callbacks/sender';
import type { DeliveryInput } from '../src/domain/callbacks';

// Review of issue 14, information leaks. A client's own delivery error is shown to it by
// GET /api/transactions/{id}/events, and a refusal used to end the delivery at once (gave_up) while a name that
// does not resolve was retried (delivering, "getaddrinfo ENOTFOUND"). So any API client could ask, one
// callback_url at a time, which names resolve inside the operator's network: an oracle over internal DNS.
// Now an internal name and a name that does not exist fail the delivery attempt alike.
describe('review14: callback errors as an internal DNS oracle', function () {
  it('a name resolving to an internal address fails like a name that does not resolve', async function () {
    // What the real sender throws for each (test/callback-rules.test.ts sends for real): a lookup that found
    // an internal address, and one that found nothing.
    const sender = (err: CallbackSendError): CallbackSender => ({
      send: () => Promise.reject(err),
      close: () => Promise.resolve(),
    });
    const activities = {
      internal: createCallbackActivities(
        { signingSecret: 'a-signing-secret-of-some-length', allowedHosts: [] },
        sender(
          new CallbackSendError('refused', 'db.corp.example resolves to an internal address: not allowed'),
        ),
      ),
      missing: createCallbackActivities(
        { signingSecret: 'a-signing-secret-of-some-length', allowedHosts: [] },
        sender(new CallbackSendError('unreachable', 'getaddrinfo ENOTFOUND nothing.corp.example')),
      ),
    };
    const failure = async (kind: keyof typeof activities, url: string) => {
      const input: DeliveryInput = {
        event: {
          id: 'evt_00000000',
          type: 'transaction.completed',
          created_at: '2026-01-01T00:00:00Z',
          data: {},
        },
        url,
        endpoint: 0,
        policy: { windowMs: 60_000, timeoutMs: 2_000, initialIntervalMs: 100, maxIntervalMs: 100 },
      };
      try {
        await new MockActivityEnvironment().run(activities[kind].deliverCallback, input);
      } catch (err) {
        assert.ok(err instanceof ApplicationFailure, String(err));
        const message = err.message.replace(/\S+\.corp\.example/g, '<host>');
        return { type: err.type, nonRetryable: err.nonRetryable, message };
      }
      return assert.fail(`${url} was delivered`);
    };
    const internal = await failure('internal', 'https://db.corp.example/hook');
    const missing = await failure('missing', 'https://nothing.corp.example/hook');
    assert.deepEqual(internal, missing);
    assert.equal(internal.nonRetryable, false, 'retried, like a name that may resolve later');
  });
});
