/**
 * Strict base64 (RFC 4648 §4: padding required, no white space, no other alphabet), runtime-neutral (no Buffer):
 * SASL exchanges (RFC 9051 §6.2.2), RFC 9404 `Blob/get` `data:asBase64`, HTTP Basic (RFC 7617), the Durable Object
 * cache API. MIME's lenient Content-Transfer-Encoding base64 is src/backend/mime/decode.ts.
 */

const TABLE = new Int16Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => { TABLE[c.charCodeAt(0)] = i; });

/** Strict RFC 4648 §4 base64 (padding required, no white space) to octets; null when malformed. */
export function decodeBase64(s: string): Uint8Array | null {
  if (s.length % 4 !== 0) return null;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const a = TABLE[s.charCodeAt(i)] ?? -1, b = TABLE[s.charCodeAt(i + 1)] ?? -1;
    const c = last && pad === 2 ? 0 : TABLE[s.charCodeAt(i + 2)] ?? -1;
    const d = last && pad >= 1 ? 0 : TABLE[s.charCodeAt(i + 3)] ?? -1;
    if ((a | b | c | d) < 0) return null;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}

export function encodeBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
