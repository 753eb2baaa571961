/**
 * Content-Transfer-Encoding decoding (RFC 2045 §6) for IMAP BINARY (RFC 3516, RFC 9051 §6.4.5): base64
 * (§6.8: characters outside the alphabet are ignored), quoted-printable (§6.7: soft line breaks removed, `=XX`
 * decoded, a malformed `=` kept as is, trailing white space before a line end dropped), and the identity
 * encodings 7bit / 8bit / binary. Anything else is unknown: the caller answers `NO [UNKNOWN-CTE]`.
 */

/** The encodings this module decodes, lower-cased as MimePart.encoding holds them. */
export const KNOWN_ENCODINGS: ReadonlySet<string> = new Set(['7bit', '8bit', 'binary', 'base64', 'quoted-printable']);

/** Decoded octets, or null when `encoding` (lower-cased) is not one this module knows. */
export function decodeTransfer(body: Uint8Array, encoding: string): Uint8Array | null {
  switch (encoding) {
    case '7bit':
    case '8bit':
    case 'binary':
      return body;
    case 'base64':
      return decodeBase64(body);
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return null;
  }
}

const B64 = new Int16Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => { B64[c.charCodeAt(0)] = i; });

/** RFC 2045 §6.8: decodes until `=` padding or the end; non-alphabet octets (line ends, spaces) are skipped. */
export function decodeBase64(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((body.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (const c of body) {
    if (c === 61) break; // '='
    const v = B64[c]!;
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

const hex = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);

/** RFC 2045 §6.7 quoted-printable; line ends are kept as stored (CRLF or LF). */
export function decodeQuotedPrintable(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length);
  let n = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === 61) {
      // Soft line break: `=` then optional white space then a line end.
      let j = i + 1;
      while (j < body.length && (body[j] === 32 || body[j] === 9)) j++;
      if (j < body.length && (body[j] === 10 || (body[j] === 13 && body[j + 1] === 10))) {
        i = body[j] === 13 ? j + 1 : j;
        continue;
      }
      if (j >= body.length) { i = j; continue; } // `=` at the very end: a soft break without its line end
      const h = hex(body[i + 1] ?? 0);
      const l = hex(body[i + 2] ?? 0);
      if (h >= 0 && l >= 0) {
        out[n++] = (h << 4) | l;
        i += 2;
        continue;
      }
      out[n++] = c;
      continue;
    }
    if (c === 32 || c === 9) {
      // Transport padding: white space at the end of a line is removed (§6.7 rule 3).
      let j = i;
      while (j < body.length && (body[j] === 32 || body[j] === 9)) j++;
      if (j >= body.length || body[j] === 10 || (body[j] === 13 && body[j + 1] === 10)) { i = j - 1; continue; }
    }
    out[n++] = c;
  }
  return out.subarray(0, n);
}

/** RFC 9051 §6.4.5 BINARY: textual sections go out with CRLF line ends whatever the stored form. */
export function toCrlf(data: Uint8Array): Uint8Array {
  let bare = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === 10 && (i === 0 || data[i - 1] !== 13)) bare++;
  if (bare === 0) return data;
  const out = new Uint8Array(data.length + bare);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 10 && (i === 0 || data[i - 1] !== 13)) out[n++] = 13;
    out[n++] = data[i]!;
  }
  return out;
}
