/**
 * CAPABILITY (RFC 9051 §6.1.1, §7.2.2): only what fully works is advertised (test/capabilities.test.ts maps each
 * one to the tests that prove it). IMAP4rev2 is advertised beside IMAP4rev1 (RFC 9051 Appendix A): a client gets
 * rev2 behaviour only after `ENABLE IMAP4rev2` (session/versions.ts; docs/rev2.md goes through Appendix E).
 */
import type { Session } from './session.ts';
import { offeredMechanisms } from '../auth/sasl.ts';

/** Advertised in every state. */
export const BASE_CAPABILITIES = [
  'IMAP4rev1', // RFC 3501
  'IMAP4rev2', // RFC 9051, after ENABLE IMAP4rev2 (Appendix A); docs/rev2.md
  'LITERAL+', // RFC 7888: non-synchronizing literals up to the literal limit
  'SASL-IR', // RFC 4959
  'ID', // RFC 2971
  'ENABLE', // RFC 5161
  'UNSELECT', // RFC 3691
  'NAMESPACE', // RFC 2342: one personal namespace (commands/namespace.ts)
  'CHILDREN', // RFC 3348: \HasChildren / \HasNoChildren in every LIST
  'LIST-EXTENDED', // RFC 5258: selection and return options, several patterns, CHILDINFO
  'LIST-STATUS', // RFC 5819: LIST ... RETURN (STATUS (...))
  'SPECIAL-USE', // RFC 6154: JMAP roles as special-use attributes
  'CREATE-SPECIAL-USE', // RFC 6154 §3: CREATE ... (USE (\X)) sets the JMAP role
  'IDLE', // RFC 2177: JMAP push (RFC 8620 §7.3) or polling, see session/watch.ts
  'UIDPLUS', // RFC 4315: UID EXPUNGE, APPENDUID, COPYUID
  'MOVE', // RFC 6851
  'MULTIAPPEND', // RFC 3502: all or none
  'ESEARCH', // RFC 4731: SEARCH RETURN (MIN MAX ALL COUNT), session/commands/search.ts
  'SEARCHRES', // RFC 5182: RETURN (SAVE) and `$` wherever a sequence set goes (MailboxView.resolve)
  'SORT', // RFC 5256 §3, session/search/sort-keys.ts
  'SORT=DISPLAY', // RFC 5957: DISPLAYFROM / DISPLAYTO
  'THREAD=ORDEREDSUBJECT', // RFC 5256 §3, session/search/threading.ts
  'THREAD=REFERENCES', // RFC 5256 §3
  'STATUS=SIZE', // RFC 8438: STATUS SIZE (and LIST-STATUS) = the sum of RFC822.SIZE, commands/status.ts
  'BINARY', // RFC 3516: FETCH BINARY / BINARY.SIZE (commands/fetch.ts, mime/decode.ts), APPEND literal8
  'PREVIEW', // RFC 8970: FETCH PREVIEW [(LAZY)] from JMAP Email `preview` (RFC 8621 §4.1.4)
  'UTF8=ACCEPT', // RFC 6855: after ENABLE, UTF-8 names and quoted strings, APPEND UTF8 (...), no SEARCH CHARSET
  'CONDSTORE', // RFC 7162 §3.1: the gateway's own mod-sequences (uidmap/store.ts, session/condstore.ts)
  'QRESYNC', // RFC 7162 §3.2: after ENABLE QRESYNC, session/qresync.ts; expunge history is never trimmed
] as const;

/**
 * Advertised once logged in, because they depend on the account's JMAP server (RFC 9051 §7.2.2 lets the list
 * change after login; clients re-read it from the LOGIN OK [CAPABILITY ...]):
 * - `APPENDLIMIT=n` (RFC 7889 §2): the smaller of the literal limit and the backend's maxSizeUpload.
 * - `QUOTA`, `QUOTA=RES-STORAGE`, `QUOTA=RES-MESSAGE` (RFC 9208 §1, §5) when the backend offers JMAP Quotas (RFC
 *   9425). Both resource types are advertised: the gateway reports octets quotas as STORAGE and count quotas as
 *   MESSAGE, serves DELETED-STORAGE and DELETED (§4.1.4), and a quota root need not limit every type (§4.1.1).
 *   No `QUOTASET`: JMAP gives users no way to set quotas.
 * - `JMAPACCESS` (RFC 9698): GETJMAPACCESS names the backend's JMAP session URL.
 * - `OBJECTID` (RFC 8474): MAILBOXID / EMAILID / THREADID are the JMAP ids, except that COPY's re-imported copies
 *   show the ids of their sources, kept by the UID store (§5.1; session/objectid.ts).
 */
function accountCapabilities(session: Session): string[] {
  const info = session.account!.backend.serverInfo();
  return [
    `APPENDLIMIT=${appendLimit(session)}`,
    ...(info.quota ? ['QUOTA', 'QUOTA=RES-STORAGE', 'QUOTA=RES-MESSAGE'] : []),
    'JMAPACCESS',
    'OBJECTID',
  ];
}

/** RFC 7889: the largest message APPEND accepts, in octets (literal limit, and the backend's upload limit). */
export function appendLimit(session: Session): number {
  return Math.min(session.config.limits.maxLiteralSize, session.account!.backend.serverInfo().maxSizeUpload);
}

export function capabilities(session: Session): string[] {
  const caps: string[] = [...BASE_CAPABILITIES];
  if (session.state !== 'not-authenticated') return session.account ? [...caps, ...accountCapabilities(session)] : caps;
  if (session.connection.starttls && !session.connection.tls) caps.push('STARTTLS'); // RFC 9051 §6.2.1
  if (session.credentialsAllowed) caps.push(...offeredMechanisms(session.config.authenticator, session.connection).map((m) => `AUTH=${m}`));
  else caps.push('LOGINDISABLED'); // RFC 9051 §6.2.3
  return caps;
}
