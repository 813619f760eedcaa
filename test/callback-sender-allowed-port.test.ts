import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallbackSendError, createCallbackSender } from '../src/callbacks/sender';

// Review finding: CALLBACK_ALLOWED_HOSTS entries are host[:port], but the sender's connect-time check looked at
// the host only, so allowing `name:4567` let a callback reach that name's internal address on any port.
describe('callback sender: an allowed host:port allows that port only', function () {
  let server: Server;
  let port: number;
  let hits = 0;
  before(async function () {
    server = createServer((_req, res) => {
      hits += 1;
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(function () {
    server.close();
  });

  it('refuses the internal address of an allowed host on another port, without connecting', async function () {
    const otherPort = port === 1 ? 2 : 1;
    const sender = createCallbackSender([`localhost:${otherPort}`]);
    hits = 0;
    await assert.rejects(
      sender.send(`http://localhost:${port}/`, '{}', {}, 2_000, new AbortController().signal),
      (err: unknown) =>
        err instanceof CallbackSendError && err.kind === 'refused' && /internal address/.test(err.message),
    );
    assert.equal(hits, 0, 'the receiver on the port not allowed was never requested');
    await sender.close();
  });

  it('still reaches the allowed port, and a host allowed without a port on any port', async function () {
    for (const entry of [`localhost:${port}`, 'localhost']) {
      const sender = createCallbackSender([entry]);
      const url = `http://localhost:${port}/`;
      assert.equal(await sender.send(url, '{}', {}, 2_000, new AbortController().signal), 204, entry);
      await sender.close();
    }
  });
});
