/**
 * The typed ASTs of the IMAP protocol layer: commands the parser produces (client -> server) and responses the
 * encoder consumes (server -> client). Grammar references are to RFC 9051 §9 (IMAP4rev2 formal syntax) unless
 * noted; RFC 3501 (IMAP4rev1) forms are accepted too.
 *
 * Conventions:
 * - Optional fields are absent (never `undefined`) when the client did not send the corresponding syntax.
 * - Strings (mailbox names, search strings, user names) are decoded as UTF-8 and returned as sent: mailbox names
 *   are NOT decoded from modified UTF-7 here (see mutf7.ts); the only normalization is `INBOX` (case-insensitive,
 *   RFC 9051 §5.1) which is returned as `INBOX`.
 * - Keywords of the grammar (command names, fetch item names, status items, ...) are returned upper-case.
 * - System flags (`\Seen` ...) are returned with their canonical spelling; keywords (`$Forwarded`) as sent.
 * - Mod-sequences (RFC 7162 §3.1.1 `mod-sequence-value`, up to 2^63-1) are JS numbers, clamped to
 *   `Number.MAX_SAFE_INTEGER`: the gateway's own counters never come near it, so the meaning is kept.
 */

import type { Limits } from './limits.ts';

// ---------------------------------------------------------------------------------------------------------------
// Sequence sets
// ---------------------------------------------------------------------------------------------------------------

/** One end of a range: a number (message sequence number or UID, >= 1) or `*` (the largest in use). */
export type SeqNumber = number | '*';

/** RFC 9051 §9 `seq-range` (`from:to`, either order) or a single `seq-number` (then `from === to`). */
export interface SeqRange {
  from: SeqNumber;
  to: SeqNumber;
}

/**
 * RFC 9051 §9 `sequence-set`: a list of ranges, or `'$'`: the saved search result (RFC 5182 SEARCHRES, RFC 9051
 * §6.4.4.1 `seq-last-command`).
 */
export type SequenceSet = SeqRange[] | '$';

// ---------------------------------------------------------------------------------------------------------------
// Shared argument types
// ---------------------------------------------------------------------------------------------------------------

/**
 * STATUS data items (RFC 9051 §6.3.11, RFC 7162 HIGHESTMODSEQ, RFC 7889 APPENDLIMIT, RFC 8474 MAILBOXID,
 * RFC 9208 §4.2.1 DELETED-STORAGE).
 */
export type StatusItem =
  | 'MESSAGES' | 'UIDNEXT' | 'UIDVALIDITY' | 'UNSEEN' | 'DELETED' | 'SIZE' | 'RECENT' | 'HIGHESTMODSEQ'
  | 'APPENDLIMIT' | 'MAILBOXID' | 'DELETED-STORAGE';

/** A body section spec (RFC 9051 §6.4.5 `section`), e.g. `1.2.HEADER.FIELDS (DATE FROM)`. */
export interface Section {
  /** Part numbers, `[]` for the whole message (`BODY[]`, `BODY[HEADER]`), `[1, 2, 3]` for `1.2.3`. */
  part: number[];
  /** Section text after the part numbers; absent for a bare part (`BODY[1.2]`, `BODY[]`). */
  kind?: 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
  /** Header field names of `HEADER.FIELDS (...)` / `HEADER.FIELDS.NOT (...)`, as sent. */
  fields?: string[];
}

/** A partial fetch `<offset.length>` (RFC 9051 §6.4.5 `partial`); the response carries `<offset>` as origin. */
export interface PartialSpec {
  offset: number;
  length: number;
}

// ---------------------------------------------------------------------------------------------------------------
// FETCH items (RFC 9051 §6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ, RFC 8474 OBJECTID, RFC 8970 PREVIEW)
// ---------------------------------------------------------------------------------------------------------------

export type FetchItem =
  | { type: 'FLAGS' }
  | { type: 'UID' }
  | { type: 'INTERNALDATE' }
  | { type: 'RFC822.SIZE' }
  | { type: 'ENVELOPE' }
  /** `BODYSTRUCTURE` (extended: true) or bare `BODY` (extended: false, non-extensible form). RFC 9051 §6.4.5. */
  | { type: 'BODYSTRUCTURE'; extended: boolean }
  /** `BODY[section]<partial>` / `BODY.PEEK[...]` (peek: does not set `\Seen`). RFC 9051 §6.4.5. */
  | { type: 'BODY'; peek: boolean; section: Section; partial?: PartialSpec }
  /** RFC 3501 `RFC822` (= BODY[]), `RFC822.HEADER` (= BODY.PEEK[HEADER]), `RFC822.TEXT` (= BODY[TEXT]). */
  | { type: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' }
  /** `BINARY[part]<partial>` / `BINARY.PEEK[...]` (RFC 3516 §4.1, RFC 9051 §6.4.5): decoded content. */
  | { type: 'BINARY'; peek: boolean; part: number[]; partial?: PartialSpec }
  /** `BINARY.SIZE[part]` (RFC 3516 §4.1). */
  | { type: 'BINARY.SIZE'; part: number[] }
  /** RFC 7162 §3.1.4.1 */
  | { type: 'MODSEQ' }
  /** RFC 8474 §5 */
  | { type: 'EMAILID' }
  | { type: 'THREADID' }
  /** RFC 8970 §3: `PREVIEW` or `PREVIEW (LAZY)`. */
  | { type: 'PREVIEW'; lazy: boolean }
  /** RFC 8514 §4.2 */
  | { type: 'SAVEDATE' };

export type FetchItemType = FetchItem['type'];

// ---------------------------------------------------------------------------------------------------------------
// SEARCH keys (RFC 9051 §6.4.4, RFC 3501 §6.4.4, RFC 7162 §3.1.5, RFC 8474 §6, RFC 8514 §4.3, RFC 5032)
// ---------------------------------------------------------------------------------------------------------------

/** A calendar date without time or zone (RFC 9051 §9 `date`), as `YYYY-MM-DD`. */
export type SearchDate = string;

/**
 * A search key tree. The grammar's shortcuts are normalized, so a handler sees few node kinds:
 * - ANSWERED DELETED DRAFT FLAGGED SEEN RECENT and KEYWORD k -> FLAG; UN* / UNKEYWORD / OLD -> NOT FLAG;
 *   NEW -> AND(FLAG \Recent, NOT FLAG \Seen) (RFC 3501 §6.4.4).
 * - BCC CC FROM SUBJECT TO -> HEADER with field `Bcc` `Cc` `From` `Subject` `To`.
 * - BEFORE ON SINCE / SENTBEFORE SENTON SENTSINCE / SAVEDBEFORE SAVEDON SAVEDSINCE -> DATE.
 * - A parenthesized list -> AND; the top-level list of a command is an implicit AND too.
 */
export type SearchKey =
  | { type: 'ALL' }
  /** Has this flag or keyword (system flags spelled canonically, keywords as sent). */
  | { type: 'FLAG'; flag: string }
  | { type: 'NOT'; key: SearchKey }
  | { type: 'OR'; left: SearchKey; right: SearchKey }
  | { type: 'AND'; keys: SearchKey[] }
  /** Message sequence numbers (a bare `sequence-set`, or `$`). */
  | { type: 'SEQUENCE'; set: SequenceSet }
  /** `UID sequence-set` */
  | { type: 'UID'; set: SequenceSet }
  /** Header field contains the substring (empty value: the field exists). */
  | { type: 'HEADER'; field: string; value: string }
  | { type: 'BODY'; value: string }
  | { type: 'TEXT'; value: string }
  /** INTERNAL = internal date (BEFORE/ON/SINCE), SENT = Date: header (SENT*), SAVED = save date (RFC 8514 SAVED*). */
  | { type: 'DATE'; field: 'INTERNAL' | 'SENT' | 'SAVED'; op: 'BEFORE' | 'ON' | 'SINCE'; date: SearchDate }
  /** RFC 8514 §4.3 */
  | { type: 'SAVEDATESUPPORTED' }
  /** LARGER n / SMALLER n (RFC822.SIZE). */
  | { type: 'SIZE'; op: 'LARGER' | 'SMALLER'; size: number }
  /** RFC 5032 WITHIN: OLDER / YOUNGER interval in seconds. */
  | { type: 'OLDER' | 'YOUNGER'; seconds: number }
  /** RFC 7162 §3.1.5 `MODSEQ [entry-name entry-type-req] mod-sequence-value` */
  | { type: 'MODSEQ'; modseq: number; entry?: { name: string; entryType: 'priv' | 'shared' | 'all' } }
  /** RFC 8474 §6 */
  | { type: 'EMAILID'; id: string }
  | { type: 'THREADID'; id: string };

export type SearchKeyType = SearchKey['type'];

/** ESEARCH result options (RFC 4731 §3.1, RFC 5182 SAVE, RFC 9051 §6.4.4). */
export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE';

/** RFC 5256 §3 sort criteria (+ RFC 5957 DISPLAYFROM / DISPLAYTO). */
export interface SortCriterion {
  key: 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';
  reverse: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Other command arguments
// ---------------------------------------------------------------------------------------------------------------

/** RFC 7162 §3.2.5 SELECT/EXAMINE `QRESYNC (uidvalidity modseq [known-uids [(seq-match uid-match)]])`. */
export interface QresyncParams {
  uidValidity: number;
  modseq: number;
  /** Known UIDs (must not contain `*` per RFC 7162 §3.2.5; the parser accepts any sequence set). */
  knownUids?: SequenceSet;
  /** Message sequence match data: parallel lists of sequence numbers and their UIDs. */
  seqMatch?: { seqs: SequenceSet; uids: SequenceSet };
}

/** LIST selection options (RFC 5258 §3.1, RFC 6154 §5.1 SPECIAL-USE). */
export type ListSelectOption = 'SUBSCRIBED' | 'REMOTE' | 'RECURSIVEMATCH' | 'SPECIAL-USE';

/** LIST return options (RFC 5258 §3.2, RFC 5819 STATUS, RFC 6154 SPECIAL-USE). */
export interface ListReturnOptions {
  subscribed: boolean;
  children: boolean;
  specialUse: boolean;
  /** `STATUS (items)` (RFC 5819 §2); absent when not requested. */
  status?: StatusItem[];
}

/** One message of APPEND (RFC 9051 §6.3.12; several with MULTIAPPEND, RFC 3502). */
export interface AppendMessage {
  /** Flags as sent (system flags canonically spelled); `[]` when no flag list. */
  flags: string[];
  /** The `date-time` argument (RFC 9051 §9) as an instant; absent when not sent. */
  date?: Date;
  /** The raw message octets. */
  message: Uint8Array;
  /** Sent as literal8 `~{n}` (RFC 3516 §4.4: may contain NUL / binary content). */
  binary: boolean;
  /** Sent as `UTF8 (literal8)` (RFC 6855 §4: message with UTF-8 headers). */
  utf8: boolean;
}

/** RFC 9208 §4.1.3 SETQUOTA resource limit. */
export interface QuotaLimit {
  resource: string;
  limit: number;
}

/** RFC 2971 ID parameters: field/value pairs in order, or `null` for `ID NIL`. */
export type IdParams = Array<[string, string | null]> | null;

// ---------------------------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------------------------

interface Tagged {
  /** RFC 9051 §9 `tag`: 1*<any ASTRING-CHAR except "+">. */
  tag: string;
}

/** Commands without arguments. */
export type SimpleCommandType =
  | 'CAPABILITY' // RFC 9051 §6.1.1
  | 'NOOP' // §6.1.2
  | 'LOGOUT' // §6.1.3
  | 'STARTTLS' // §6.2.1
  | 'NAMESPACE' // §6.3.10, RFC 2342
  | 'IDLE' // §6.3.13, RFC 2177
  | 'CHECK' // RFC 3501 §6.4.1
  | 'CLOSE' // §6.4.1
  | 'UNSELECT' // §6.4.2, RFC 3691
  | 'GETJMAPACCESS'; // RFC 9698

export type Command = Tagged & (
  | { type: SimpleCommandType }
  /** RFC 2971 §3.1 */
  | { type: 'ID'; params: IdParams }
  /** RFC 9051 §6.3.1, RFC 5161: capability names upper-cased. */
  | { type: 'ENABLE'; capabilities: string[] }
  /** RFC 9051 §6.2.3 */
  | { type: 'LOGIN'; username: string; password: string }
  /**
   * RFC 9051 §6.2.2; `initialResponse` (RFC 4959 SASL-IR) is the base64 text as sent, `''` for `=` (empty
   * response), absent when none was sent. Mechanism upper-cased.
   */
  | { type: 'AUTHENTICATE'; mechanism: string; initialResponse?: string }
  /** RFC 9051 §6.3.2/§6.3.3, RFC 7162 §3.1.8 CONDSTORE and §3.2.5 QRESYNC select parameters. */
  | { type: 'SELECT' | 'EXAMINE'; mailbox: string; condstore: boolean; qresync?: QresyncParams }
  /** RFC 9051 §6.3.4; `specialUse` from `(USE (\Sent ...))` (RFC 6154 §3). */
  | { type: 'CREATE'; mailbox: string; specialUse?: string[] }
  /** RFC 9051 §6.3.5, §6.3.7, §6.3.8 */
  | { type: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE'; mailbox: string }
  /** RFC 9051 §6.3.6 */
  | { type: 'RENAME'; mailbox: string; newName: string }
  /**
   * RFC 9051 §6.3.9 with RFC 5258 LIST-EXTENDED. `extended` is true when any extended syntax was used
   * (selection options, a pattern list, or RETURN): RFC 5258 §3 changes some answers for those.
   */
  | {
    type: 'LIST';
    reference: string;
    patterns: string[];
    selectOptions: ListSelectOption[];
    returnOptions: ListReturnOptions;
    extended: boolean;
  }
  /** RFC 3501 §6.3.9 */
  | { type: 'LSUB'; reference: string; pattern: string }
  /** RFC 9051 §6.3.11 */
  | { type: 'STATUS'; mailbox: string; items: StatusItem[] }
  /** RFC 9051 §6.3.12, RFC 3502 MULTIAPPEND (several messages), RFC 6855 §4 UTF8, RFC 3516 literal8. */
  | { type: 'APPEND'; mailbox: string; messages: AppendMessage[] }
  /** RFC 9051 §6.4.3; UID EXPUNGE (RFC 4315 §2.1) has the UID set. */
  | { type: 'EXPUNGE'; uid: false }
  | { type: 'EXPUNGE'; uid: true; sequence: SequenceSet }
  /**
   * RFC 9051 §6.4.4 SEARCH / UID SEARCH. `returnOptions` absent: classic `* SEARCH` answer (rev1); present:
   * ESEARCH answer (RFC 4731), `[]` for `RETURN ()` which means ALL. `charset` upper-cased when given.
   */
  | {
    type: 'SEARCH';
    uid: boolean;
    charset?: string;
    returnOptions?: SearchReturnOption[];
    criteria: SearchKey[];
  }
  /** RFC 5256 §3 SORT / UID SORT */
  | { type: 'SORT'; uid: boolean; sortCriteria: SortCriterion[]; charset: string; criteria: SearchKey[] }
  /** RFC 5256 §3 THREAD / UID THREAD; algorithm upper-cased (`ORDEREDSUBJECT`, `REFERENCES`). */
  | { type: 'THREAD'; uid: boolean; algorithm: string; charset: string; criteria: SearchKey[] }
  /**
   * RFC 9051 §6.4.5 FETCH / UID FETCH. Macros ALL/FAST/FULL are expanded into their items (RFC 9051 §6.4.5).
   * RFC 7162 §3.1.4.1 `CHANGEDSINCE`, RFC 7162 §3.2.6 `VANISHED` (UID FETCH only).
   */
  | {
    type: 'FETCH';
    uid: boolean;
    sequence: SequenceSet;
    items: FetchItem[];
    changedSince?: number;
    vanished: boolean;
  }
  /**
   * RFC 9051 §6.4.6 STORE / UID STORE: `FLAGS` (replace), `+FLAGS` (add), `-FLAGS` (remove), `.SILENT`.
   * RFC 7162 §3.1.3 `UNCHANGEDSINCE`.
   */
  | {
    type: 'STORE';
    uid: boolean;
    sequence: SequenceSet;
    action: 'replace' | 'add' | 'remove';
    silent: boolean;
    flags: string[];
    unchangedSince?: number;
  }
  /** RFC 9051 §6.4.7 COPY, §6.4.8 MOVE (RFC 6851), and their UID forms. */
  | { type: 'COPY' | 'MOVE'; uid: boolean; sequence: SequenceSet; mailbox: string }
  /** RFC 9208 §4.1.1 */
  | { type: 'GETQUOTA'; root: string }
  /** RFC 9208 §4.1.2 */
  | { type: 'GETQUOTAROOT'; mailbox: string }
  /** RFC 9208 §4.1.3; resource names upper-cased. */
  | { type: 'SETQUOTA'; root: string; limits: QuotaLimit[] }
  /** RFC 4978 §3; mechanism upper-cased. */
  | { type: 'COMPRESS'; mechanism: string }
);

export type CommandType = Command['type'];
/**
 * The command variant(s) with this `type`. (Not `Extract`: the argument-less commands share one variant whose
 * `type` is a union, which `Extract<Command, { type: 'IDLE' }>` would drop.)
 */
export type CommandOf<T extends CommandType> = VariantOf<Command, T>;
type VariantOf<C, T> = C extends { type: infer U } ? (T extends U ? C & { type: T } : never) : never;

/** Result of parsing one frame: never throws; a failure is a BAD answer with a reason a user can read. */
export type ParseResult =
  | { ok: true; command: Command }
  | {
    ok: false;
    /** The tag, when one could be read (answer `tag BAD text`), else null (answer `* BAD text`). */
    tag: string | null;
    text: string;
    /** True when the command name itself is unknown (counted by `Limits.maxUnknownBeforeAuth`). */
    unknownCommand?: boolean;
  };

export interface ParseOptions {
  /**
   * UTF8=ACCEPT is enabled (RFC 6855 §3). Without it, 8-bit octets are still accepted in quoted strings when they
   * are valid UTF-8 (RFC 9051 §9 `QUOTED-CHAR` allows UTF8-2/3/4), but the APPEND `UTF8 (...)` form is refused
   * (RFC 6855 §4: only after ENABLE UTF8=ACCEPT).
   */
  utf8?: boolean;
  /** Parser limits (nesting, sequence ranges, search keys, MULTIAPPEND messages); DEFAULT_LIMITS otherwise. */
  limits?: Partial<Pick<Limits, 'maxNestingDepth' | 'maxSequenceRanges' | 'maxSearchKeys' | 'maxAppendMessages'>>;
}

// ---------------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------------

/** A response code inside `[...]` (RFC 9051 §7.1); `data` is already-encoded text (see encode.ts `codes`). */
export type { ResponseCodeValue as ResponseCode } from './errors.ts';
import type { ResponseCodeValue } from './errors.ts';

/**
 * A generic value for the escape hatch and for nested structures (BODYSTRUCTURE):
 * `null` -> NIL, number -> number, string -> quoted string or literal, Uint8Array -> literal,
 * `{ atom }` -> atom as is, `{ literal8 }` -> `~{n}` literal8, array -> parenthesized list.
 */
/**
 * A response value. `{ juxtaposed }` writes its items one after another with no separator, for the grammar's
 * repetitions without SP: RFC 9051 §9 `body-type-mpart = 1*body SP media-subtype` and `env-from = "(" 1*address ")"`.
 */
export type Value = null | number | string | Uint8Array | { atom: string } | { literal8: Uint8Array } | { juxtaposed: Value[] } | Value[];

/** `nstring` that may be raw octets (header values are not always valid UTF-8). */
export type NString = string | Uint8Array | null;

/** RFC 9051 §7.5.2 ENVELOPE address: `(name adl mailbox host)`; groups use `mailbox`/`host` NIL per RFC 9051 §9. */
export interface Address {
  name: NString;
  adl: NString;
  mailbox: NString;
  host: NString;
}

/** RFC 9051 §7.5.2 ENVELOPE structure. */
export interface Envelope {
  date: NString;
  subject: NString;
  from: Address[] | null;
  sender: Address[] | null;
  replyTo: Address[] | null;
  to: Address[] | null;
  cc: Address[] | null;
  bcc: Address[] | null;
  inReplyTo: NString;
  messageId: NString;
}

/** FETCH response data items (RFC 9051 §7.5.2). */
export type FetchResponseItem =
  | { type: 'FLAGS'; flags: string[] }
  | { type: 'UID'; uid: number }
  /** Formatted as `"17-Jul-1996 02:44:25 -0700"`; a Date (or ISO string) goes out in UTC (`+0000`). */
  | { type: 'INTERNALDATE'; date: Date | string }
  | { type: 'RFC822.SIZE'; size: number }
  | { type: 'ENVELOPE'; envelope: Envelope }
  /** `BODYSTRUCTURE (...)` (extended) or `BODY (...)` (non-extensible); the structure as a Value tree. */
  | { type: 'BODYSTRUCTURE'; extended: boolean; structure: Value }
  /** `BODY[section]<origin> data` (RFC 9051 §7.5.2); origin only for a partial fetch; NIL when data is null. */
  | { type: 'BODY'; section: Section; origin?: number; data: Uint8Array | null }
  | { type: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT'; data: Uint8Array | null }
  /** `BINARY[part]<origin>`: literal8 `~{n}` when the data contains NUL (RFC 3516 §4.3). */
  | { type: 'BINARY'; part: number[]; origin?: number; data: Uint8Array | null }
  | { type: 'BINARY.SIZE'; part: number[]; size: number }
  /** RFC 7162 §3.1.4.1 `MODSEQ (n)` */
  | { type: 'MODSEQ'; modseq: number }
  /** RFC 8474 §5 `EMAILID (id)` */
  | { type: 'EMAILID'; id: string }
  /** RFC 8474 §5 `THREADID (id)` or `THREADID NIL` */
  | { type: 'THREADID'; id: string | null }
  /** RFC 8970 §3 */
  | { type: 'PREVIEW'; text: string | null }
  /** RFC 8514 §4.2 */
  | { type: 'SAVEDATE'; date: Date | string | null };

/** An extended LIST data item (RFC 5258 §3.5), e.g. `("CHILDINFO" ("SUBSCRIBED"))`, `("OLDNAME" ("old"))`. */
export interface ListExtendedItem {
  tag: string;
  value: Value;
}

/** RFC 9051 §7.2.2 NAMESPACE: one namespace descriptor. */
export interface Namespace {
  prefix: string;
  delimiter: string | null;
}

/** RFC 9051 §7.2.4 STATUS attribute and value. */
export type StatusAttribute =
  | { item: Exclude<StatusItem, 'MAILBOXID'>; value: number }
  | { item: 'MAILBOXID'; value: string };

/** RFC 5256 §4 THREAD: a node; `id` null for a missing parent (a thread of siblings with no common root). */
export interface ThreadNode {
  id: number | null;
  children: ThreadNode[];
}

/** RFC 9208 §5.1 QUOTA resource. */
export interface QuotaResource {
  name: string;
  usage: number;
  limit: number;
}

export type Response =
  /** RFC 9051 §7.5 command continuation request: `+ text` (text may be base64 for SASL). */
  | { type: 'continue'; text: string }
  /** RFC 9051 §7.1 tagged status */
  | { type: 'tagged'; tag: string; status: 'OK' | 'NO' | 'BAD'; code?: ResponseCodeValue; text: string }
  /** RFC 9051 §7.1 untagged status */
  | { type: 'status'; status: 'OK' | 'NO' | 'BAD' | 'PREAUTH' | 'BYE'; code?: ResponseCodeValue; text: string }
  /** RFC 9051 §7.2.2 */
  | { type: 'CAPABILITY'; capabilities: string[] }
  /** RFC 5161 §3.2 */
  | { type: 'ENABLED'; capabilities: string[] }
  /** RFC 2971 §3.2 */
  | { type: 'ID'; params: IdParams }
  /** RFC 9051 §7.2.5 (RFC 2342) */
  | { type: 'NAMESPACE'; personal: Namespace[] | null; other: Namespace[] | null; shared: Namespace[] | null }
  /** RFC 9051 §7.3.1 LIST, RFC 3501 §7.2.3 LSUB; RFC 5258 extended items. */
  | {
    type: 'LIST' | 'LSUB';
    attributes: string[];
    delimiter: string | null;
    mailbox: string;
    extended?: ListExtendedItem[];
  }
  /** RFC 9051 §7.3.2 */
  | { type: 'STATUS'; mailbox: string; attributes: StatusAttribute[] }
  /** RFC 9051 §7.3.5 */
  | { type: 'FLAGS'; flags: string[] }
  /** RFC 9051 §7.4.1 */
  | { type: 'EXISTS'; count: number }
  /** RFC 3501 §7.3.2 */
  | { type: 'RECENT'; count: number }
  /** RFC 9051 §7.5.1 */
  | { type: 'EXPUNGE'; seq: number }
  /** RFC 7162 §3.2.10 `* VANISHED (EARLIER) uids` (UIDs compacted into a sequence set). */
  | { type: 'VANISHED'; earlier: boolean; uids: number[] }
  /** RFC 3501 §7.2.5 `* SEARCH ...` with RFC 7162 §3.1.6 `(MODSEQ n)`. */
  | { type: 'SEARCH'; numbers: number[]; modseq?: number }
  /** RFC 4731 §3.2 / RFC 9051 §7.3.4 ESEARCH; `all` compacted into a sequence set. */
  | {
    type: 'ESEARCH';
    tag?: string;
    uid: boolean;
    min?: number;
    max?: number;
    count?: number;
    all?: number[];
    modseq?: number;
  }
  /** RFC 5256 §4 */
  | { type: 'SORT'; numbers: number[]; modseq?: number }
  /** RFC 5256 §4 */
  | { type: 'THREAD'; threads: ThreadNode[] }
  /** RFC 9051 §7.5.2 */
  | { type: 'FETCH'; seq: number; items: FetchResponseItem[] }
  /** RFC 9208 §5.1 */
  | { type: 'QUOTA'; root: string; resources: QuotaResource[] }
  /** RFC 9208 §5.2 */
  | { type: 'QUOTAROOT'; mailbox: string; roots: string[] }
  /** Escape hatch: `* ` followed by the values separated by spaces (e.g. `* JMAPACCESS "https://..."`). */
  | { type: 'untagged'; data: Value[] };

export type ResponseType = Response['type'];
