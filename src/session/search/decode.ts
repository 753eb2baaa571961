/**
 * Decoding what SEARCH compares (RFC 9051 §6.4.4: "[MIME-IMB] content transfer encodings and [MIME-HDRS] strings
 * in [RFC5322]/[MIME-IMB] headers MUST be decoded before comparing text"): RFC 2047 encoded words, RFC 2045 §6.7
 * quoted-printable and §6.8 base64, and charsets through the web-standard TextDecoder (unknown ones fall back to
 * UTF-8 with U+FFFD). Lenient: never throws.
 */
import { decodeBase64, decodeQuotedPrintable as decodeQp } from '../../backend/mime/decode.ts';

/** Decodes octets in a charset (RFC 2046 §4.1.2 label); unknown labels are read as UTF-8. */
export function decodeCharset(bytes: Uint8Array, charset: string | undefined): string {
  const label = (charset ?? 'utf-8').trim().toLowerCase() || 'utf-8';
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** 8-bit header octets (RFC 6532 UTF-8, or a legacy charset in the wild): UTF-8 when valid, else windows-1252. */
export function decodeHeaderOctets(bytes: Uint8Array): string {
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** RFC 2045 §6.8 base64, lenient (the one implementation lives in backend/mime/decode.ts). */
export const decodeBase64Lenient = decodeBase64;

/** RFC 2045 §6.7 quoted-printable; with `underscore`, RFC 2047 §4.2 Q encoding (`_` is a space, `=5F` stays `_`). */
export function decodeQuotedPrintable(input: Uint8Array, underscore = false): Uint8Array {
  return decodeQp(underscore ? input.map((c) => (c === 0x5f ? 0x20 : c)) : input);
}

/** Body octets after the Content-Transfer-Encoding is undone (RFC 2045 §6); unknown encodings as is. */
export function decodeTransfer(body: Uint8Array, encoding: string): Uint8Array {
  if (encoding === 'base64') return decodeBase64Lenient(body);
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

const ascii = new TextEncoder();
const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

/**
 * RFC 2047 §6 decoding of a header value. White space between adjacent encoded words is dropped (§6.2); adjacent
 * words in one charset are decoded together so a character split across words survives. RFC 2231 §5 language
 * suffixes (`utf-8*en`) are ignored.
 */
export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value;
  let out = '';
  let last = 0;
  let pending: { charset: string; bytes: number[] } | null = null;
  const flush = () => {
    if (pending) out += decodeCharset(Uint8Array.from(pending.bytes), pending.charset);
    pending = null;
  };
  for (const m of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, m.index);
    if (pending === null || !/^[ \t\r\n]*$/.test(between)) {
      flush();
      out += between;
    }
    const charset = m[1]!.split('*')[0]!.toLowerCase();
    const text = ascii.encode(m[3]!);
    const bytes = m[2]!.toUpperCase() === 'B' ? decodeBase64Lenient(text) : decodeQuotedPrintable(text, true);
    if (pending !== null && (pending as { charset: string }).charset !== charset) flush();
    pending ??= { charset, bytes: [] };
    for (const b of bytes) pending.bytes.push(b);
    last = m.index + m[0].length;
  }
  flush();
  return out + value.slice(last);
}

/** RFC 5322 §2.2.3 unfolding, then RFC 2047 decoding, outer white space trimmed. */
export function headerText(rawValue: string): string {
  return decodeEncodedWords(rawValue.replace(/\r?\n(?=[ \t])/g, '').replace(/\r?\n$/, '')).trim();
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Text of an HTML part for matching: scripts/styles dropped, tags removed, common entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<\/?(?:b|i|u|em|strong|span|a|font|small|big|sub|sup|code)\b[^>]*>/gi, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
      if (e[0] === '#') {
        const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : all;
      }
      return ENTITIES[e.toLowerCase()] ?? all;
    });
}
