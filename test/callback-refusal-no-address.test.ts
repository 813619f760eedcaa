import assert from 'node:assert/strict';
import { CallbackSendError, createCallbackSender } from '../src/callbacks/sender';

// Review finding: a refused delivery's error (shown to the client as `last_error` by the events API) named the
// internal address the host resolved to, so a client could map internal DNS names to addresses through it.
describe('callback sender: a refusal does not disclose the internal address', function () {
  it('names the host and the rule, not the address it resolved to', async function () {
    const sender = createCallbackSender([]);
    await assert.rejects(
      sender.send('http://localhost:9/', '{}', {}, 2_000, new AbortController().signal),
      (err: unknown) => {
        assert.ok(err instanceof CallbackSendError && err.kind === 'refused', String(err));
        assert.match(err.message, /localhost resolves to an internal address/);
        assert.doesNotMatch(err.message, /127\.0\.0\.1|::1/);
        return true;
      },
    );
    await sender.close();
  });
});
