/**
 * The one table that turns JMAP errors into IMAP status responses (DESIGN.md "one table mapping JMAP errors to IMAP
 * response codes"). Keys are method-level error types (RFC 8620 §3.6.2, RFC 8621 per-method errors), SetError
 * types (RFC 8620 §5.3, RFC 8621 §2.3, §4.6, §4.8) and request-level problem types (RFC 8620 §3.6.1, full URN).
 * Response codes: RFC 9051 §7.1 and RFC 5530. Errors that are the gateway's own fault (it sent something the
 * server could not accept) map to `[SERVERBUG]`: the user did nothing wrong.
 */
import { BackendError } from '../backend.ts';
import type { ResponseCodeName } from '../../protocol/errors.ts';

export interface ImapMapping {
  kind: 'NO' | 'BAD';
  code?: ResponseCodeName;
  /** Short human text for the tagged response (no server-provided text is echoed). */
  text?: string;
}

const REQ = 'urn:ietf:params:jmap:error:';

export const JMAP_ERROR_TO_IMAP: Record<string, ImapMapping> = {
  // RFC 8620 §3.6.1 request-level errors
  [`${REQ}unknownCapability`]: { kind: 'NO', code: 'UNAVAILABLE', text: 'Mail store lacks a required capability' },
  [`${REQ}notJSON`]: { kind: 'NO', code: 'SERVERBUG', text: 'Mail store rejected the request' },
  [`${REQ}notRequest`]: { kind: 'NO', code: 'SERVERBUG', text: 'Mail store rejected the request' },
  [`${REQ}limit`]: { kind: 'NO', code: 'LIMIT', text: 'Mail store request limit exceeded' },
  // RFC 8620 §3.6.2 method-level errors
  serverUnavailable: { kind: 'NO', code: 'UNAVAILABLE', text: 'Mail store temporarily unavailable' },
  serverFail: { kind: 'NO', code: 'SERVERBUG', text: 'Mail store failed' },
  serverPartialFail: { kind: 'NO', code: 'SERVERBUG', text: 'Mail store partially failed' },
  unknownMethod: { kind: 'NO', code: 'SERVERBUG', text: 'Mail store does not support this operation' },
  invalidArguments: { kind: 'NO', code: 'SERVERBUG', text: 'Mail store rejected the arguments' },
  invalidResultReference: { kind: 'NO', code: 'SERVERBUG', text: 'Mail store rejected a result reference' },
  forbidden: { kind: 'NO', code: 'NOPERM', text: 'Permission denied' },
  accountNotFound: { kind: 'NO', code: 'NOPERM', text: 'Mail account not found' },
  accountNotSupportedByMethod: { kind: 'NO', code: 'NOPERM', text: 'Mail account does not support this' },
  accountReadOnly: { kind: 'NO', code: 'NOPERM', text: 'Mail account is read-only' },
  // RFC 8620 §5 standard-method errors
  requestTooLarge: { kind: 'NO', code: 'LIMIT', text: 'Too many objects in one request' },
  stateMismatch: { kind: 'NO', code: 'INUSE', text: 'Mailbox changed concurrently, try again' },
  cannotCalculateChanges: { kind: 'NO', code: 'UNAVAILABLE', text: 'Mail store cannot calculate changes' },
  tooManyChanges: { kind: 'NO', code: 'LIMIT', text: 'Too many changes' },
  anchorNotFound: { kind: 'NO', code: 'SERVERBUG', text: 'Query anchor not found' },
  unsupportedSort: { kind: 'NO', code: 'CANNOT', text: 'Sort not supported by the mail store' },
  unsupportedFilter: { kind: 'NO', code: 'CANNOT', text: 'Search not supported by the mail store' },
  fromAccountNotFound: { kind: 'NO', code: 'NOPERM', text: 'Source account not found' },
  fromAccountNotSupportedByMethod: { kind: 'NO', code: 'NOPERM', text: 'Source account does not support this' },
  // RFC 8620 §5.3 SetErrors
  overQuota: { kind: 'NO', code: 'OVERQUOTA', text: 'Quota exceeded' },
  tooLarge: { kind: 'NO', code: 'TOOBIG', text: 'Too large' },
  rateLimit: { kind: 'NO', code: 'LIMIT', text: 'Rate limit reached, try later' },
  notFound: { kind: 'NO', code: 'NONEXISTENT', text: 'No such message or mailbox' },
  invalidPatch: { kind: 'NO', code: 'SERVERBUG', text: 'Mail store rejected the update' },
  willDestroy: { kind: 'NO', code: 'NONEXISTENT', text: 'Object is being deleted' },
  invalidProperties: { kind: 'NO', code: 'SERVERBUG', text: 'Mail store rejected the properties' },
  singleton: { kind: 'NO', code: 'CANNOT', text: 'Cannot create or delete this object' },
  alreadyExists: { kind: 'NO', code: 'ALREADYEXISTS', text: 'Already exists' },
  // RFC 8621 SetErrors
  mailboxHasChild: { kind: 'NO', code: 'HASCHILDREN', text: 'Mailbox has children' },
  mailboxHasEmail: { kind: 'NO', code: 'CANNOT', text: 'Mailbox is not empty' },
  blobNotFound: { kind: 'NO', code: 'NONEXISTENT', text: 'Message data not found' },
  tooManyKeywords: { kind: 'NO', code: 'LIMIT', text: 'Too many keywords' },
  tooManyMailboxes: { kind: 'NO', code: 'LIMIT', text: 'Message is in too many mailboxes' },
  invalidEmail: { kind: 'NO', code: 'CANNOT', text: 'Message rejected by the mail store' },
};

/**
 * The BackendError for a JMAP error type. `jmapType` keeps the method/SetError type, or the URN suffix for
 * request-level errors (`limit` for `urn:ietf:params:jmap:error:limit`), as backend.ts documents.
 * Unknown types give a plain `NO` (no code).
 */
export function jmapError(type: string, fallbackText = 'Mail store error'): BackendError {
  const m = JMAP_ERROR_TO_IMAP[type];
  const jmapType = type.startsWith(REQ) ? type.slice(REQ.length) : type;
  return new BackendError(m?.kind ?? 'NO', m?.text ?? `${fallbackText} (${safeType(jmapType)})`, m?.code, jmapType);
}

/** A transport-level failure (network, timeout, 5xx, garbage body): `NO [UNAVAILABLE]`. */
export function unavailable(text: string): BackendError {
  return new BackendError('NO', text, 'UNAVAILABLE', 'unavailable');
}

/** Keep an unknown server-chosen type printable and short before it reaches a status line. */
function safeType(s: string): string {
  return s.replace(/[^\x21-\x7e]/g, '?').slice(0, 60);
}
