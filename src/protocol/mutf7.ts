/**
 * Modified UTF-7 for mailbox names (RFC 3501 §5.1.3, RFC 9051 §5.1.3 for IMAP4rev1 clients).
 *
 * Printable US-ASCII (0x20-0x7E) stands for itself except `&`, which is `&-`; every other run of characters is
 * `&` + modified BASE64 (`,` instead of `/`, no padding) of its UTF-16BE code units + `-`.
 *
 * Written by hand rather than with `emailjs-utf7`: that package's `imapDecode` accepts invalid input (an unclosed
 * `&`, encoded printable ASCII, non-zero padding bits, lone surrogates) without telling the caller, while the session
 * must answer BAD for those; it also depends on a second package for base64.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));

const isDirect = (code: number) => code >= 0x20 && code <= 0x7e;

/** Unicode -> modified UTF-7. Lone surrogates are encoded as they are (they cannot round-trip anyway). */
export function encodeMutf7(name: string): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const code = name.charCodeAt(i);
    if (code === 0x26) {
      out += '&-';
      i++;
    } else if (isDirect(code)) {
      out += name[i];
      i++;
    } else {
      const start = i;
      while (i < name.length && !isDirect(name.charCodeAt(i))) i++;
      out += `&${base64Utf16(name.slice(start, i))}-`;
    }
  }
  return out;
}

function base64Utf16(s: string): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (let i = 0; i < s.length; i++) {
    acc = (acc << 16) | s.charCodeAt(i);
    bits += 16;
    while (bits >= 6) {
      bits -= 6;
      out += ALPHABET[(acc >> bits) & 0x3f];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (6 - bits)) & 0x3f];
  return out;
}

/**
 * Modified UTF-7 -> Unicode, or null when the input is not valid, canonical modified UTF-7: a character outside
 * 0x20-0x7E, a bare `&` not closed by `-`, a base64 run that encodes printable ASCII or follows another run
 * directly, non-zero padding bits, an incomplete UTF-16 unit or a lone surrogate.
 */
export function decodeMutf7(wire: string): string | null {
  let out = '';
  let i = 0;
  let lastWasRun = false;
  while (i < wire.length) {
    const code = wire.charCodeAt(i);
    if (!isDirect(code)) return null;
    if (code !== 0x26) {
      out += wire[i];
      i++;
      lastWasRun = false;
      continue;
    }
    const end = wire.indexOf('-', i + 1);
    if (end < 0) return null;
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      lastWasRun = false;
      continue;
    }
    if (lastWasRun) return null; // Two adjacent runs: the canonical form is one run.
    const text = decodeRun(wire.slice(i + 1, end));
    if (text === null) return null;
    out += text;
    i = end + 1;
    lastWasRun = true;
  }
  return out;
}

function decodeRun(run: string): string | null {
  let acc = 0;
  let bits = 0;
  const units: number[] = [];
  for (const c of run) {
    const v = VALUE.get(c);
    if (v === undefined) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 16) {
      bits -= 16;
      units.push((acc >> bits) & 0xffff);
    }
  }
  // Leftover bits must be fewer than 6 (no extra base64 character) and all zero.
  if (bits >= 6 || (acc & ((1 << bits) - 1)) !== 0) return null;
  let text = '';
  for (let k = 0; k < units.length; k++) {
    const u = units[k]!;
    if (isDirect(u)) return null; // Printable ASCII must be sent directly.
    if (u >= 0xd800 && u <= 0xdbff) {
      const low = units[k + 1];
      if (low === undefined || low < 0xdc00 || low > 0xdfff) return null;
      text += String.fromCharCode(u, low);
      k++;
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      return null;
    } else {
      text += String.fromCharCode(u);
    }
  }
  return units.length === 0 ? null : text;
}
