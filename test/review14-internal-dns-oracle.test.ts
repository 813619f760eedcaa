import assert from 'node:assert/strict';
import { CallbackSendError, createCallbackSender } from '../src/callbacks/sender';

// Review of issue 14, information leaks. A client's own delivery error is shown to it verbatim by
// GET /api/transactions/{id}/events, and a refusal ends the delivery at once (gave_up) while a name that does
// not resolve is retried (delivering, "getaddrinfo ENOTFOUND"). So any API client can ask, one callback_url at
// a time, which names resolve inside the operator's network (db.internal, vault.corp, ...): an oracle over
// internal DNS. Expected: an internal name and a name that does not exist look the same from outside.
describe('review14: callback errors as an internal DNS oracle', function () {
  it('a name resolving to an internal address fails like a name that does not resolve', async function () {
    const sender = createCallbackSender([]);
    const failure = async (url: string) => {
      try {
        await sender.send(url, '{}', {}, 2_000, new AbortController().signal);
      } catch (err) {
        assert.ok(err instanceof CallbackSendError, String(err));
        return { kind: err.kind, message: err.message.replace(/\S+\.(invalid|localhost)\b/g, '<host>') };
      }
      return assert.fail(`${url} was delivered`);
    };
    try {
      // `localhost` stands for any internal name (it resolves to loopback); `.invalid` never resolves.
      const internal = await failure('https://localhost:9/hook');
      const missing = await failure('https://no-such-host.invalid:9/hook');
      assert.equal(internal.kind, missing.kind, `${JSON.stringify(internal)} vs ${JSON.stringify(missing)}`);
    } finally {
      await sender.close();
    }
  });
});
