import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

// Webhook URLs must not reach inside the server's network (SSRF): a host that resolves to a private,
// loopback, link-local (cloud metadata: 169.254.169.254, fd00:ec2::254), shared, multicast or other
// special-purpose address is refused, at registration and again at every delivery, since DNS can
// change in between. At delivery the check runs inside the connection's own lookup, so the address
// checked is the address connected to. WEBHOOK_ALLOW_PRIVATE=on lifts it (receivers on the same
// network, tests on loopback).

const SPECIAL_PURPOSE: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  // The unspecified address, loopback and the deprecated IPv4-compatible form (::127.0.0.1); then
  // IPv4-translated addresses (::ffff:0:a.b.c.d), which name an IPv4 host as mapped ones do.
  ['::', 96, 'ipv6'],
  ['::ffff:0:0:0', 96, 'ipv6'],
  // NAT64, discard-only, IETF protocol assignments (Teredo among them), documentation, 6to4: each can
  // carry or reach an IPv4 address of any kind.
  ['64:ff9b::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001::', 23, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

const blocked = new BlockList();
for (const [network, prefix, family] of SPECIAL_PURPOSE) blocked.addSubnet(network, prefix, family);

/** Whether `address` (an IP literal) is an ordinary public unicast address. IPv4-mapped IPv6 counts as its IPv4. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class RefusedAddressError extends Error {
  override name = 'RefusedAddressError';
  readonly code = 'EWEBHOOKADDRESS';
}

export type Resolve = (host: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

/** A URL's host without IPv6 brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Why `raw` cannot be a webhook URL, or null when it can: http(s) only, and with `allowPrivate` off,
 * every address its host resolves to must be public.
 */
export async function webhookUrlProblem(raw: string, options: { allowPrivate: boolean; resolve?: Resolve }): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  if (options.allowPrivate) return null;
  const host = hostOf(url);
  let addresses: LookupAddress[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await (options.resolve ?? systemResolve)(host);
  } catch {
    return `its host ${host} does not resolve`;
  }
  if (addresses.length === 0) return `its host ${host} does not resolve`;
  const refused = addresses.find((entry) => !isPublicAddress(entry.address));
  return refused ? `its host resolves to ${refused.address}, a private, loopback, link-local or reserved address` : null;
}

/**
 * The lookup of a delivery's connection: node:http resolves the host through it and connects to the
 * address it answers, so an address is checked exactly when it is used.
 */
export function guardedLookup(options: { allowPrivate: boolean; resolve?: Resolve }): LookupFunction {
  const resolve = options.resolve ?? systemResolve;
  return (hostname, lookupOptions, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const usable = addresses.filter((entry) => options.allowPrivate || isPublicAddress(entry.address));
        const family = typeof lookupOptions === 'object' ? lookupOptions.family : undefined;
        const matching = family === 4 || family === 6 ? usable.filter((entry) => entry.family === family) : usable;
        if (matching.length === 0) {
          const error = new RefusedAddressError(`webhook host ${hostname} resolves to no public address (${addresses.map((entry) => entry.address).join(', ') || 'none'})`);
          callback(error as NodeJS.ErrnoException, '', 0);
          return;
        }
        if (typeof lookupOptions === 'object' && lookupOptions.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, matching);
        else callback(null, matching[0]!.address, matching[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
