/**
 * IMAP flags <-> JMAP keywords: the one mapping table (DESIGN.md rule 6, RFC 8621 §4.1.1).
 *
 * - The four system flags that JMAP has keywords for map both ways.
 * - `\Deleted` and `\Recent` have no JMAP keyword: the gateway keeps `\Deleted` per (mailbox, UID) in the UID
 *   store; `\Recent` is not kept (RFC 9051 dropped it; rev1 sessions never see it set).
 * - Every other keyword passes through. JMAP servers return keywords lower-cased (RFC 8621 §4.1.1 makes them
 *   case-insensitive), so well-known client keywords get back the spelling clients test for.
 */

/** IMAP system flag (RFC 9051 §2.3.2) -> JMAP keyword. */
export const SYSTEM_FLAG_TO_KEYWORD: Readonly<Record<string, string>> = {
  '\\seen': '$seen',
  '\\flagged': '$flagged',
  '\\answered': '$answered',
  '\\draft': '$draft',
};

/** JMAP keyword (lower case) -> the IMAP flag or keyword spelling clients expect. */
export const KEYWORD_TO_FLAG: Readonly<Record<string, string>> = {
  $seen: '\\Seen',
  $flagged: '\\Flagged',
  $answered: '\\Answered',
  $draft: '\\Draft',
  $forwarded: '$Forwarded',
  $mdnsent: '$MDNSent',
  $junk: '$Junk',
  $notjunk: '$NotJunk',
  $phishing: '$Phishing',
  $important: '$Important',
  $submitpending: '$SubmitPending',
  $submitted: '$Submitted',
  junk: 'Junk',
  nonjunk: 'NonJunk',
  notjunk: 'NotJunk',
  $label1: '$Label1',
  $label2: '$Label2',
  $label3: '$Label3',
  $label4: '$Label4',
  $label5: '$Label5',
};

/** Flags that the gateway itself keeps, outside JMAP. */
export const GATEWAY_FLAGS = ['\\Deleted'] as const;

/** The FLAGS list announced on SELECT (RFC 9051 §7.3.5). */
export const MAILBOX_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'] as const;

/** PERMANENTFLAGS (RFC 9051 §7.1): all of them plus `\*`, new keywords may be created. */
export const PERMANENT_FLAGS = [...MAILBOX_FLAGS, '\\*'] as const;

/** A JMAP keyword as the IMAP flag a client sees. */
export function keywordToFlag(keyword: string): string {
  return KEYWORD_TO_FLAG[keyword.toLowerCase()] ?? keyword;
}

/**
 * An IMAP flag as a JMAP keyword, or null for flags JMAP cannot hold (`\Deleted`, `\Recent`).
 * Unknown system flags (a backslash flag not defined by RFC 9051) are refused by the caller, not here.
 */
export function flagToKeyword(flag: string): string | null {
  if (flag.startsWith('\\')) return SYSTEM_FLAG_TO_KEYWORD[flag.toLowerCase()] ?? null;
  return flag.toLowerCase();
}

/** True for `\Deleted` (any case). */
export function isDeletedFlag(flag: string): boolean {
  return flag.toLowerCase() === '\\deleted';
}
