/**
 * PROXY protocol version 2 header (HAProxy's "PROXY protocol" specification, §2.2), sans-I/O: a load balancer
 * prepends it to each TCP connection so the gateway sees the real client address (limits, throttling, logs).
 * Only the binary v2 form is accepted; TLVs are skipped. A LOCAL command (health checks) carries no address.
 */

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
/** Bound on the header: 16 fixed octets + at most a few KiB of TLVs in practice. */
const MAX_HEADER = 16 + 4096;

export type ProxyHeader =
  | { status: 'incomplete' }
  | { status: 'invalid'; text: string }
  /** `consumed` octets belong to the header; `source` is absent for LOCAL or an unspecified family. */
  | { status: 'ok'; consumed: number; source?: { address: string; port: number } };

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
  if (family === 0x1 && body.length >= 12) {
    return { status: 'ok', consumed, source: { address: [...body.subarray(0, 4)].join('.'), port: (body[8]! << 8) | body[9]! } };
  }
  if (family === 0x2 && body.length >= 36) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((body[i]! << 8) | body[i + 1]!).toString(16));
    return { status: 'ok', consumed, source: { address: compressIpv6(groups), port: (body[32]! << 8) | body[33]! } };
  }
  return { status: 'ok', consumed }; // UNSPEC or UNIX: no usable address
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
