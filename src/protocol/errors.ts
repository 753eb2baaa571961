/**
 * The one error type of the gateway: an IMAP status response.
 *
 * Anything that goes wrong while serving a command is thrown as an `ImapError` and becomes the command's tagged
 * completion (`NO`/`BAD`) or an untagged `BYE` that ends the connection (RFC 9051 §7.1). Never put credentials,
 * tokens or message content in `text`: it is sent to the client and logged.
 */

/** Response codes of RFC 9051 §7.1 plus RFC 5530 and extensions we emit. Atoms only; codes with data use `data`. */
export type ResponseCodeName =
  | 'ALERT' | 'ALREADYEXISTS' | 'APPENDUID' | 'AUTHENTICATIONFAILED' | 'AUTHORIZATIONFAILED' | 'BADCHARSET'
  | 'CANNOT' | 'CAPABILITY' | 'CLIENTBUG' | 'CLOSED' | 'CONTACTADMIN' | 'COPYUID' | 'CORRUPTION' | 'EXPIRED'
  | 'EXPUNGEISSUED' | 'HASCHILDREN' | 'INUSE' | 'LIMIT' | 'NONEXISTENT' | 'NOPERM' | 'OVERQUOTA' | 'PARSE'
  | 'PERMANENTFLAGS' | 'PRIVACYVIOLATION' | 'READ-ONLY' | 'READ-WRITE' | 'SERVERBUG' | 'TRYCREATE' | 'UIDNEXT'
  | 'UIDNOTSTICKY' | 'UIDVALIDITY' | 'UNAVAILABLE' | 'UNKNOWN-CTE' | 'TOOBIG' | 'HIGHESTMODSEQ' | 'NOMODSEQ'
  | 'MODIFIED' | 'NOTSAVED' | 'BADCOMPARATOR' | 'BADURL' | 'COMPRESSIONACTIVE' | 'METADATA' | 'NOTIFICATIONOVERFLOW'
  | 'OBJECTID' | 'MAILBOXID' | 'UNKNOWN-CTE';

export type StatusKind = 'NO' | 'BAD' | 'BYE';

export interface ResponseCodeValue {
  name: ResponseCodeName | string;
  /** Raw, already-encoded text after the code name inside the brackets (e.g. `"38505 3955 3960"` for COPYUID). */
  data?: string;
}

export class ImapError extends Error {
  constructor(
    readonly kind: StatusKind,
    text: string,
    readonly code?: ResponseCodeValue,
  ) {
    super(text);
    this.name = 'ImapError';
  }

  static no(text: string, code?: ResponseCodeName, data?: string): ImapError {
    return new ImapError('NO', text, code ? { name: code, ...(data !== undefined ? { data } : {}) } : undefined);
  }

  static bad(text: string, code?: ResponseCodeName, data?: string): ImapError {
    return new ImapError('BAD', text, code ? { name: code, ...(data !== undefined ? { data } : {}) } : undefined);
  }

  static bye(text: string, code?: ResponseCodeName): ImapError {
    return new ImapError('BYE', text, code ? { name: code } : undefined);
  }
}
