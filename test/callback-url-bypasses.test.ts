import assert from 'node:assert/strict';
import { isInternalAddress } from '../src/callbacks/addresses';
import { callbackUrlProblem } from '../src/callbacks/callback-url';

// Review findings: address forms that reach internal IPv4 hosts, and host spellings that name an internal host,
// must be refused at submission like their plain forms.
describe('callback URLs: internal addresses in other spellings are refused', function () {
  it('treats IPv6 forms that embed an IPv4 address (v4-compatible, NAT64) as that address', function () {
    for (const a of [
      '::127.0.0.1',
      '::7f00:1',
      '::a9fe:a9fe',
      '64:ff9b::7f00:1',
      '64:ff9b::a9fe:a9fe',
      '64:ff9b:1::a00:1',
    ]) {
      assert.equal(isInternalAddress(a), true, a);
    }
    assert.equal(
      isInternalAddress('64:ff9b::808:808'),
      true,
      'NAT64 is a translator: never a callback target',
    );
  });

  it('treats the IPv4-translated form (::ffff:0:a.b.c.d) as that address', function () {
    assert.equal(isInternalAddress('::ffff:0:7f00:1'), true);
  });

  it('refuses such URLs at submission', function () {
    for (const url of ['https://[::127.0.0.1]/x', 'https://[64:ff9b::a9fe:a9fe]/latest/meta-data']) {
      assert.match(callbackUrlProblem(url, []) ?? '', /internal address/, url);
    }
  });

  it('refuses a fully qualified localhost (trailing dot) at submission', function () {
    for (const url of ['https://localhost./x', 'https://LOCALHOST./x', 'https://api.localhost./x']) {
      assert.match(callbackUrlProblem(url, []) ?? '', /internal address/, url);
    }
  });

  it('still allows public hosts written with a trailing dot', function () {
    assert.equal(callbackUrlProblem('https://example.com./x', []), undefined);
  });
});
