import assert from 'node:assert/strict';
import { isInternalAddress } from '../src/callbacks/addresses';
import { callbackUrlProblem } from '../src/callbacks/callback-url';

// Review of issue 14: addresses.ts refuses "IPv6 forms that embed an IPv4 address" (v4-compatible, v4-mapped,
// SIIT, NAT64), but not the two other transition forms that carry one: 6to4 (2002:AABB:CCDD::/48 is routed to
// the IPv4 host AA.BB.CC.DD) and Teredo (2001:0::/32, its server's IPv4 in bits 32-63). 2002:7f00:1:: and
// 2002:a9fe:a9fe:: are 127.0.0.1 and the cloud metadata address in 6to4 spelling; neither is a receiver.
describe('review14: callback URLs in 6to4 and Teredo spelling', function () {
  it('treats 6to4 and Teredo addresses as internal', function () {
    for (const a of ['2002:7f00:1::', '2002:a9fe:a9fe::1', '2002:a00:1::', '2001:0:7f00:1::', '2001::1']) {
      assert.equal(isInternalAddress(a), true, a);
    }
  });

  it('refuses them at submission, and still takes a public IPv6 host', function () {
    for (const url of [
      'https://[2002:7f00:1::]/hook',
      'https://[2002:a9fe:a9fe::]/',
      'https://[2001::a9fe:a9fe]/',
    ]) {
      assert.match(callbackUrlProblem(url, []) ?? 'ALLOWED', /internal address/, url);
    }
    assert.equal(callbackUrlProblem('https://[2001:db8:1::1]/hook', []), undefined);
    assert.equal(callbackUrlProblem('https://[2a00:1450:4001::1]/hook', []), undefined);
  });

  // IANA special-purpose ranges that are not globally reachable, so never a receiver: 192.0.0.0/24 (protocol
  // assignments), 198.18.0.0/15 (benchmarking, also the "fake IP" range of proxying DNS resolvers, which would
  // map a name to any host behind the proxy) and the deprecated IPv6 site-local fec0::/10.
  it('treats 192.0.0.0/24, 198.18.0.0/15 and fec0::/10 as internal', function () {
    for (const a of ['192.0.0.170', '198.18.0.1', '198.19.255.254', 'fec0::1', '::ffff:198.18.0.1']) {
      assert.equal(isInternalAddress(a), true, a);
    }
    assert.equal(isInternalAddress('198.20.0.1'), false);
    assert.equal(isInternalAddress('192.0.1.1'), false);
  });
});
