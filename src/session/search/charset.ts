/**
 * SEARCH / SORT / THREAD charsets (RFC 9051 §6.4.4, RFC 5256 §3): US-ASCII and UTF-8 must be implemented; any
 * other is refused with `NO [BADCHARSET (US-ASCII UTF-8)]` (RFC 9051 §7.1 BADCHARSET lists what is supported).
 * The parser has already decoded the strings as UTF-8, so both supported charsets need no further work.
 */
import { ImapError } from '../../protocol/errors.ts';

export const SEARCH_CHARSETS = ['US-ASCII', 'UTF-8'] as const;

export function checkCharset(charset: string | undefined): void {
  if (charset === undefined || (SEARCH_CHARSETS as readonly string[]).includes(charset.toUpperCase())) return;
  throw ImapError.no(`${charset} is not supported; use UTF-8`, 'BADCHARSET', `(${SEARCH_CHARSETS.join(' ')})`);
}
