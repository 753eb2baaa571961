/**
 * Which protocol behaviour a session gets, from what it ENABLEd (RFC 5161). The server advertises both IMAP4rev1
 * and IMAP4rev2 (RFC 9051 Appendix A): a client is served rev1 until it sends `ENABLE IMAP4rev2`; docs/rev2.md
 * lists every difference and where it is made.
 */

/** What a session has enabled (Session.enabled), in the spelling of commands/any-state.ts ENABLEABLE. */
interface Enabled {
  readonly enabled: ReadonlySet<string>;
}

/** RFC 9051 Appendix A: IMAP4rev2 behaviour (ESEARCH answers, no RECENT, LIST and [CLOSED] in SELECT...). */
export function isRev2(s: Enabled): boolean {
  return s.enabled.has('IMAP4rev2');
}

/** RFC 6855 §3 UTF8=ACCEPT was enabled (APPEND `UTF8 (...)`, no SEARCH CHARSET). */
export function isUtf8Accept(s: Enabled): boolean {
  return s.enabled.has('UTF8=ACCEPT');
}

/**
 * Mailbox names in UTF-8 instead of modified UTF-7 and UTF-8 in quoted strings: after ENABLE UTF8=ACCEPT (RFC 6855
 * §3) or ENABLE IMAP4rev2 (RFC 9051 §5.1 names are Net-Unicode; Appendix A: UTF-8 quoted strings only after it).
 */
export function isUtf8(s: Enabled): boolean {
  return isUtf8Accept(s) || isRev2(s);
}
