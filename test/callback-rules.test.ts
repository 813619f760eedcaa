import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isInternalAddress } from '../src/callbacks/addresses';
import { callbackUrlProblem } from '../src/callbacks/callback-url';
import { CallbackSendError, createCallbackSender } from '../src/callbacks/sender';
import { signatureHeader, verifySignature } from '../src/callbacks/signature';
import { callbackSettings } from '../src/config/callbacks';
import { ConfigError } from '../src/config/env';
import { asSeenByClient, type DeliveryView } from '../src/api/events/delivery-log';

const SECRET = 'a-signing-secret-of-some-length';

describe('callback rules: URLs, addresses, signatures, the sender, configuration', function () {
  it('tells internal addresses from public ones, v4, v6 and v4-mapped', function () {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '[::1]',
    ]) {
      assert.equal(isInternalAddress(a), true, a);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8', 'example.com']) {
      assert.equal(isInternalAddress(a), false, a);
    }
  });

  it('allows https to public hosts, http and internal addresses only to allowed host[:port]', function () {
    assert.equal(callbackUrlProblem('https://example.com/x', []), undefined);
    assert.match(callbackUrlProblem('http://example.com/x', []) ?? '', /must be https/);
    assert.equal(callbackUrlProblem('http://example.com/x', ['example.com']), undefined);
    assert.equal(callbackUrlProblem('http://127.0.0.1:4567/x', ['127.0.0.1:4567']), undefined);
    assert.match(callbackUrlProblem('http://127.0.0.1:4568/x', ['127.0.0.1:4567']) ?? '', /must be https/);
    assert.match(callbackUrlProblem('https://127.0.0.1/x', []) ?? '', /internal/);
    assert.equal(callbackUrlProblem('https://127.0.0.1/x', ['127.0.0.1']), undefined);
    assert.match(callbackUrlProblem('https://sub.localhost/x', []) ?? '', /internal/);
    assert.match(callbackUrlProblem('https://u@example.com/', []) ?? '', /credentials/);
  });

  it('signs "<t>.<body>" and verifies only the same body, secret and a recent t', function () {
    const body = '{"id":"evt_1"}';
    const now = 1_800_000_000;
    const header = signatureHeader(SECRET, body, now);
    assert.match(header, /^t=1800000000,v1=[0-9a-f]{64}$/);
    assert.equal(verifySignature(SECRET, header, body, 300, now + 10), true);
    assert.equal(verifySignature(SECRET, header, '{"id":"evt_2"}', 300, now), false, 'tampered body');
    assert.equal(verifySignature('another-secret-0123456789', header, body, 300, now), false, 'other secret');
    assert.equal(verifySignature(SECRET, header, body, 300, now + 301), false, 'replayed too late');
    assert.equal(verifySignature(SECRET, undefined, body, 300, now), false);
    assert.equal(verifySignature(SECRET, 't=1800000000,v1=zz', body, 300, now), false);
  });

  describe('the sender', function () {
    let server: Server;
    let port: number;
    let hits = 0;
    before(async function () {
      server = createServer((req, res) => {
        hits += 1;
        if (req.url === '/redirect') res.writeHead(302, { location: '/target' }).end();
        else res.writeHead(204).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    after(function () {
      server.close();
    });

    it('does not follow a redirect: the 302 is the answer', async function () {
      const sender = createCallbackSender(['127.0.0.1']);
      hits = 0;
      const status = await sender.send(
        `http://127.0.0.1:${port}/redirect`,
        '{}',
        {},
        2_000,
        new AbortController().signal,
      );
      assert.equal(status, 302);
      assert.equal(hits, 1, 'the target was never requested');
      await sender.close();
    });

    it('refuses a host name that resolves to an internal address unless the host is allowed', async function () {
      const refused = createCallbackSender([]);
      await assert.rejects(
        refused.send(`http://localhost:${port}/`, '{}', {}, 2_000, new AbortController().signal),
        (err: unknown) =>
          err instanceof CallbackSendError && err.kind === 'refused' && /internal address/.test(err.message),
      );
      await refused.close();
      const allowed = createCallbackSender([`localhost:${port}`]);
      assert.equal(
        await allowed.send(`http://localhost:${port}/`, '{}', {}, 2_000, new AbortController().signal),
        204,
      );
      await allowed.close();
    });
  });

  describe('configuration (CALLBACK_*)', function () {
    it('defaults: off, no subscribers, a 24 h window and a 5 s timeout', function () {
      const s = callbackSettings({});
      assert.equal(s.signingSecret, undefined);
      assert.deepEqual(s.subscribers, []);
      assert.equal(s.policy.windowMs, 24 * 3_600_000);
      assert.equal(s.policy.timeoutMs, 5_000);
    });

    it('reads subscribers, allowed hosts and the window', function () {
      const s = callbackSettings({
        CALLBACK_SIGNING_SECRET: SECRET,
        CALLBACK_SUBSCRIBER_URLS: 'https://a.example/x, http://hooks:81/y',
        CALLBACK_ALLOWED_HOSTS: 'hooks:81',
        CALLBACK_RETRY_WINDOW_MS: '60000',
      });
      assert.deepEqual(s.subscribers, ['https://a.example/x', 'http://hooks:81/y']);
      assert.deepEqual(s.allowedHosts, ['hooks:81']);
      assert.equal(s.policy.windowMs, 60_000);
    });

    it('stops on a bad value, naming the variable and never showing the secret', function () {
      const bad = (env: Record<string, string>, pattern: RegExp) =>
        assert.throws(
          () => callbackSettings(env),
          (err: unknown) => err instanceof ConfigError && pattern.test(err.message),
        );
      bad({ CALLBACK_SIGNING_SECRET: 'short' }, /CALLBACK_SIGNING_SECRET=\(hidden\): must be 16-256/);
      bad({ CALLBACK_SUBSCRIBER_URLS: 'https://a.example/x' }, /CALLBACK_SIGNING_SECRET="": is required/);
      bad(
        { CALLBACK_SIGNING_SECRET: SECRET, CALLBACK_SUBSCRIBER_URLS: 'http://a.example/x' },
        /CALLBACK_SUBSCRIBER_URLS=.*URL 1 must be https/,
      );
      bad({ CALLBACK_ALLOWED_HOSTS: 'a b' }, /CALLBACK_ALLOWED_HOSTS="a b": must be a comma-separated list/);
      bad({ CALLBACK_RETRY_WINDOW_MS: '10' }, /CALLBACK_RETRY_WINDOW_MS="10": must be at least 1000/);
      bad({ CALLBACK_TIMEOUT_MS: 'x' }, /CALLBACK_TIMEOUT_MS="x": must be a whole number/);
    });
  });
});

describe('the delivery log as a client sees it', function () {
  const view = (endpoint: number, url: string, lastError: string | null): DeliveryView => ({
    endpoint,
    target: 'callback_url',
    url,
    state: 'delivering',
    attempts: 2,
    last_status: null,
    last_error: lastError,
    next_attempt_at: null,
  });

  it("shows the client's own callback_url in full, error included", function () {
    const own = view(0, 'https://client.example/hook', 'POST callback: connect ECONNREFUSED');
    assert.deepEqual(asSeenByClient(own, 'https://client.example/hook'), own);
  });

  it("hides a subscriber's address and error text, even one equal to the client's URL", function () {
    const internal = 'POST callback: connect ECONNREFUSED 10.0.0.7:8443';
    for (const [seen, clientUrl] of [
      [view(1, 'https://hooks.internal:8443/all', internal), 'https://client.example/hook'],
      [view(0, 'https://hooks.internal:8443/all', internal), undefined],
      [view(1, 'https://client.example/hook', internal), 'https://client.example/hook'],
    ] as const) {
      const shown = asSeenByClient(seen, clientUrl);
      assert.equal(shown.target, 'subscriber');
      assert.equal(shown.url, null);
      assert.ok(!shown.last_error?.includes('10.0.0.7'), String(shown.last_error));
      assert.equal(shown.attempts, 2);
    }
    assert.equal(asSeenByClient(view(1, 'https://h.example/x', null), undefined).last_error, null);
  });
});
