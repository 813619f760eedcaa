import { BlockList, isIP } from 'node:net';

// Addresses a callback must not reach unless its host is allowed: loopback, private, link-local (cloud metadata
// at 169.254.169.254), carrier-grade NAT, "this network", multicast and their IPv6 counterparts, and IPv6 forms that
// embed an IPv4 address.
const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  // Not globally reachable (IANA special-purpose): protocol assignments, and benchmarking, which proxying DNS
  // resolvers use as "fake IPs" for any host behind them.
  ['192.0.0.0', 24],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  // IPv4-compatible (deprecated), IPv4-translated (SIIT) and NAT64 forms carry an IPv4 address a host may route to: never a target.
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  // 6to4 (2002:AABB:CCDD::/48 routes to the IPv4 host AA.BB.CC.DD) and Teredo (its server's IPv4 inside).
  ['2002::', 16],
  ['2001::', 32],
  ['fc00::', 7],
  ['fec0::', 10], // site-local (deprecated)
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address (v4, v6 or v4-mapped v6) is internal; anything not an IP address is not. */
export function isInternalAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const version = isIP(bare);
  if (version === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped?.[1]) return INTERNAL.check(mapped[1], 'ipv4');
  return INTERNAL.check(bare, version === 4 ? 'ipv4' : 'ipv6');
}
