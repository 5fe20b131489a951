/**
 * Where the server may send outbound requests (alert webhooks now; MLLP and other senders
 * later). A target is refused when any address it resolves to is loopback, link-local (cloud
 * metadata 169.254.169.254 included), private, shared (CGNAT), unspecified, multicast, broadcast
 * or reserved, unless the operator allows its host name or a CIDR containing the address
 * (an allow-list file such as config/security/webhooks.json).
 *
 * Check twice: when the target is registered (`checkTarget`), and when connecting, through
 * `guardedLookup` given to http.request as its `lookup`, so the socket goes to exactly the
 * address that was checked (a DNS answer that changes in between — rebinding — is caught).
 */
import dns from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** Ranges refused by default, with the reason named in the refusal. */
const FORBIDDEN: readonly (readonly [string, string])[] = [
  ['0.0.0.0/8', 'unspecified ("this network")'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared address space (carrier-grade NAT)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local (cloud metadata)'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b::/96', 'NAT64 (an IPv4 address in IPv6)'],
  ['fc00::/7', 'private (unique local)'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local (deprecated)'],
  ['ff00::/8', 'multicast'],
];

/** An address as 4 (IPv4) or 16 (IPv6) bytes; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4. Undefined if not an address. */
export function addressBytes(address: string): Uint8Array | undefined {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const kind = net.isIP(ip);
  if (kind === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (kind !== 6) return undefined;
  let text = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, -v4[1]!.length)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string | undefined) => (s ? s.split(':').map((h) => parseInt(h, 16)) : []);
  const left = part(halves[0]);
  const right = part(halves[1]);
  const zeros = halves.length === 2 ? 8 - left.length - right.length : 0;
  if (zeros < 0) return undefined;
  const groups = [...left, ...Array<number>(zeros).fill(0), ...right];
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 255;
  });
  // ::ffff:a.b.c.d is the IPv4 address a.b.c.d
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return bytes.slice(12);
  return bytes;
}

/** Whether an address lies in a CIDR range ("10.0.0.0/8", "fe80::/10"; a bare address is /32 or /128). */
export function inCidr(address: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const a = addressBytes(address);
  const b = addressBytes(base ?? '');
  if (!a || !b || a.length !== b.length) return false;
  const bits = bitsText === undefined ? b.length * 8 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > b.length * 8) return false;
  for (let i = 0; i < bits; i++) {
    const mask = 0x80 >> (i % 8);
    if ((a[i >> 3]! & mask) !== (b[i >> 3]! & mask)) return false;
  }
  return true;
}

/** Why an address may not be a target by default ("loopback", "private", …), or undefined when it is public. */
export function forbiddenReason(address: string): string | undefined {
  if (!addressBytes(address)) return 'not an IP address';
  return FORBIDDEN.find(([cidr]) => inCidr(address, cidr))?.[1];
}

export function isCidrOrAddress(entry: string): boolean {
  const [base, bits] = entry.split('/');
  const bytes = addressBytes(base ?? '');
  return !!bytes && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= bytes.length * 8));
}

/** What the operator allows beyond public addresses: host names (exact, case-insensitive) and CIDRs. */
export interface OutboundPolicy {
  allow: readonly string[];
}

export const NO_EXCEPTIONS: OutboundPolicy = { allow: [] };

/** Reads an allow-list file ({"allow": ["127.0.0.1/32", "hooks.internal"]}); a missing file allows nothing extra. */
export function loadOutboundPolicy(file: string | URL): OutboundPolicy {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return NO_EXCEPTIONS;
  }
  const parsed = JSON.parse(text) as { allow?: unknown };
  if (!Array.isArray(parsed.allow) || !parsed.allow.every((e) => typeof e === 'string'))
    throw new Error(`${String(file)}: "allow" must be a list of host names and CIDRs`);
  return { allow: parsed.allow };
}

/** The shipped allow-list file of outbound targets (alert webhooks, FHIR Subscription endpoints). */
export const DEFAULT_OUTBOUND_POLICY_FILE = fileURLToPath(new URL('../../config/security/webhooks.json', import.meta.url));

/** The outbound allow-list in force: WEBHOOKS_CONFIG if set (see config.ts), else the shipped file (read at each call). */
export function configuredOutboundPolicy(env: NodeJS.ProcessEnv = process.env): OutboundPolicy {
  return loadOutboundPolicy(env.WEBHOOKS_CONFIG || DEFAULT_OUTBOUND_POLICY_FILE);
}

const hostAllowed = (host: string, policy: OutboundPolicy) =>
  policy.allow.some((e) => !isCidrOrAddress(e) && e.toLowerCase() === host.toLowerCase());

/** Why a resolved address of `host` is refused under the policy, or undefined when it may be used. */
export function refusal(host: string, address: string, policy: OutboundPolicy): string | undefined {
  if (hostAllowed(host, policy)) return undefined;
  const reason = forbiddenReason(address);
  if (!reason) return undefined;
  if (policy.allow.some((e) => isCidrOrAddress(e) && inCidr(address, e))) return undefined;
  return `${host} resolves to ${address}, a ${reason} address; outbound requests there are refused unless allowed in the configuration`;
}

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: Resolver = (host) => dns.promises.lookup(host, { all: true, verbatim: true });

/**
 * Resolves a URL's host and checks every address; answers the addresses, or throws an Error
 * whose message says which address and why (or that the name does not resolve).
 */
export async function checkTarget(
  url: URL,
  policy: OutboundPolicy,
  resolve: Resolver = systemResolver,
): Promise<{ address: string; family: number }[]> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string; family: number }[];
  if (net.isIP(host)) addresses = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      throw new Error(`${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
    }
    if (!addresses.length) throw new Error(`${host} does not resolve`);
  }
  for (const a of addresses) {
    const why = refusal(host, a.address, policy);
    if (why) throw new Error(why);
  }
  return addresses;
}

/**
 * A `lookup` for http.request / net.connect that resolves, checks every address and hands over
 * only checked ones, so the connection cannot go elsewhere than what was checked.
 */
export function guardedLookup(policy: OutboundPolicy, resolve: Resolver = systemResolver): net.LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    checkTarget(new URL(`http://${net.isIP(hostname) === 6 ? `[${hostname}]` : hostname}/`), policy, resolve).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        if (!wanted.length) return callback(Object.assign(new Error(`${hostname}: no address of the family asked`), { code: 'ENOTFOUND' }));
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: Error) => callback(Object.assign(err, { code: 'EREFUSED_TARGET' })),
    );
  }) as net.LookupFunction;
}

/**
 * One HTTP(S) request whose connection goes only where the policy allows: an address written in
 * the URL is checked here, a name in the lookup (so a DNS answer that changes in between is
 * caught). Resolves to the answer's status (its body is drained); rejects with what went wrong.
 */
export async function requestGuarded(
  url: URL,
  req: { method: string; headers: Record<string, string>; body: string; timeoutMs: number },
  policy: OutboundPolicy,
  resolve?: Resolver,
): Promise<number> {
  await checkTarget(url, policy, resolve);
  return new Promise((done, fail) => {
    const r = (url.protocol === 'https:' ? https : http).request(
      url,
      {
        method: req.method,
        headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
        lookup: guardedLookup(policy, resolve),
        signal: AbortSignal.timeout(req.timeoutMs),
      },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
        res.on('error', fail);
      },
    );
    r.on('error', fail);
    r.end(req.body);
  });
}
