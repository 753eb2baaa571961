/**
 * PROXY protocol version 2 header (HAProxy's "PROXY protocol" specification, §2.2), sans-I/O: a load balancer
 * prepends it to each TCP connection so the gateway sees the real client address (limits, throttling, logs).
 * Only the binary v2 form is accepted. A LOCAL command (health checks) carries no address.
 *
 * TLVs (§2.2.x): PP2_TYPE_SSL (0x20) with the PP2_CLIENT_SSL bit says a TLS terminator in front of the balancer
 * decrypted the client's TLS (its PP2_SUBTYPE_SSL_VERSION sub-TLV names the version); PP2_TYPE_AUTHORITY (0x02) is
 * the host name the client asked for (its SNI). Other TLVs are skipped. These are only believed because the
 * listener was configured to expect PROXY headers (only the balancer can reach it).
 */

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
/** Bound on the header: 16 fixed octets + at most a few KiB of TLVs in practice. */
const MAX_HEADER = 16 + 4096;

export type ProxyHeader =
  | { status: 'incomplete' }
  | { status: 'invalid'; text: string }
  /** `consumed` octets belong to the header; `source` is absent for LOCAL or an unspecified family. */
  | { status: 'ok'; consumed: number; source?: { address: string; port: number }; tls?: ProxyTls; authority?: string };

/** What PP2_TYPE_SSL says of the client's connection to the terminator. */
export interface ProxyTls {
  /** PP2_SUBTYPE_SSL_VERSION, e.g. `TLSv1.3`, when sent. */
  version?: string;
}

const PP2_TYPE_AUTHORITY = 0x02;
const PP2_TYPE_SSL = 0x20;
const PP2_CLIENT_SSL = 0x01;
const PP2_SUBTYPE_SSL_VERSION = 0x21;
/** Address block length per family (§2.2): TCP/UDP over IPv4, IPv6, UNIX. */
const ADDRESS_LENGTH: Record<number, number> = { 0x1: 12, 0x2: 36, 0x3: 216 };

export function parseProxyV2(bytes: Uint8Array): ProxyHeader {
  for (let i = 0; i < Math.min(bytes.length, SIGNATURE.length); i++) {
    if (bytes[i] !== SIGNATURE[i]) return { status: 'invalid', text: 'not a PROXY protocol v2 header' };
  }
  if (bytes.length < 16) return { status: 'incomplete' };
  const verCmd = bytes[12]!;
  if (verCmd >> 4 !== 2) return { status: 'invalid', text: 'unsupported PROXY protocol version' };
  const length = (bytes[14]! << 8) | bytes[15]!;
  if (16 + length > MAX_HEADER) return { status: 'invalid', text: 'PROXY header too long' };
  if (bytes.length < 16 + length) return { status: 'incomplete' };
  const consumed = 16 + length;
  const command = verCmd & 0x0f;
  if (command === 0x0) return { status: 'ok', consumed }; // LOCAL: the proxy's own connection
  if (command !== 0x1) return { status: 'invalid', text: 'unknown PROXY command' };
  const family = bytes[13]! >> 4;
  const body = bytes.subarray(16, consumed);
  const addressLength = ADDRESS_LENGTH[family];
  if (addressLength === undefined || body.length < addressLength) return { status: 'ok', consumed }; // UNSPEC: nothing usable
  const tlvs = parseTlvs(body.subarray(addressLength));
  if (tlvs === null) return { status: 'invalid', text: 'malformed PROXY TLV' };
  const ok = { status: 'ok' as const, consumed, ...tlvs };
  if (family === 0x1) return { ...ok, source: { address: [...body.subarray(0, 4)].join('.'), port: (body[8]! << 8) | body[9]! } };
  if (family === 0x2) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((body[i]! << 8) | body[i + 1]!).toString(16));
    return { ...ok, source: { address: compressIpv6(groups), port: (body[32]! << 8) | body[33]! } };
  }
  return ok; // UNIX: no usable address
}

/** The TLVs we use; null when one overruns the header (§2.2: a TLV is type, 16-bit length, value). */
function parseTlvs(area: Uint8Array): { tls?: ProxyTls; authority?: string } | null {
  const out: { tls?: ProxyTls; authority?: string } = {};
  const entries = tlvList(area);
  if (entries === null) return null;
  for (const [type, value] of entries) {
    if (type === PP2_TYPE_AUTHORITY && value.length > 0 && value.length <= 255) out.authority = ascii(value);
    if (type === PP2_TYPE_SSL) {
      if (value.length < 5) return null;
      if ((value[0]! & PP2_CLIENT_SSL) === 0) continue;
      const subs = tlvList(value.subarray(5));
      if (subs === null) return null;
      const version = subs.find(([t]) => t === PP2_SUBTYPE_SSL_VERSION)?.[1];
      out.tls = version ? { version: ascii(version) } : {};
    }
  }
  return out;
}

function tlvList(area: Uint8Array): Array<[number, Uint8Array]> | null {
  const out: Array<[number, Uint8Array]> = [];
  for (let i = 0; i < area.length;) {
    if (i + 3 > area.length) return null;
    const len = (area[i + 1]! << 8) | area[i + 2]!;
    if (i + 3 + len > area.length) return null;
    out.push([area[i]!, area.subarray(i + 3, i + 3 + len)]);
    i += 3 + len;
  }
  return out;
}

/** TLV strings are US-ASCII (version) or a host name: printable ASCII kept, anything else replaced. */
function ascii(v: Uint8Array): string {
  return String.fromCharCode(...v).replace(/[^\x21-\x7e]/g, '?');
}

/** `0:0:0:0:0:0:0:1` -> `::1` (RFC 5952 §4.2: the longest run of zero groups becomes `::`). */
function compressIpv6(groups: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
