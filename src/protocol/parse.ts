/**
 * The command parser: one frame from the Framer -> a typed `Command` (types.ts), or a BAD reason.
 * Grammar: RFC 9051 §9 and RFC 3501 §9, plus the extensions listed in types.ts. Never throws.
 * Also the two continuation-line helpers the session needs: SASL responses (RFC 9051 §6.2.2) and IDLE's DONE
 * (RFC 2177 §3).
 */
import { DEFAULT_LIMITS } from './limits.ts';
import { fetchItems } from './parse-fetch.ts';
import { canonicalFlag, SearchParser, searchReturnOptions, sortCriteria } from './parse-search.ts';
import { Reader, SyntaxFailure } from './reader.ts';
import type {
  AppendMessage, Command, CommandOf, IdParams, ListReturnOptions, ListSelectOption, ParseOptions, ParseResult,
  QresyncParams, QuotaLimit, SearchKey, SimpleCommandType, StatusItem,
} from './types.ts';

const SP = 0x20;

const SIMPLE: ReadonlySet<string> = new Set<SimpleCommandType>([
  'CAPABILITY', 'NOOP', 'LOGOUT', 'STARTTLS', 'NAMESPACE', 'IDLE', 'CHECK', 'CLOSE', 'UNSELECT', 'GETJMAPACCESS',
]);

const STATUS_ITEMS: ReadonlySet<string> = new Set<StatusItem>([
  'MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'RECENT', 'HIGHESTMODSEQ', 'APPENDLIMIT',
  'MAILBOXID', 'DELETED-STORAGE',
]);

/** Commands that may follow `UID` (RFC 9051 §6.4.9, RFC 4315, RFC 6851, RFC 5256). */
const UID_COMMANDS = new Set(['COPY', 'MOVE', 'FETCH', 'SEARCH', 'STORE', 'EXPUNGE', 'SORT', 'THREAD']);

/** Parse one frame (a complete command with its literals inline, as the Framer emits it). */
export function parseCommand(frame: Uint8Array, opts: ParseOptions = {}): ParseResult {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const r = new Reader(frame, limits);
  let tag: string | null = null;
  try {
    if (r.atEnd()) r.fail('Empty command line');
    const t = r.tag();
    if (!r.atEnd() && r.peek() !== 0x20) r.fail('Invalid character in tag');
    tag = t;
    r.sp('command name');
    const name = r.atom('command name', true);
    const command = parseBody(r, tag, name, opts, limits);
    r.end();
    return { ok: true, command };
  } catch (e) {
    if (e instanceof UnknownCommand) return { ok: false, tag, text: e.message, unknownCommand: true };
    if (e instanceof SyntaxFailure) return { ok: false, tag, text: e.message };
    // A bug in the parser must not kill the connection: report it as a BAD too.
    return { ok: false, tag, text: 'Command could not be parsed' };
  }
}

class UnknownCommand extends Error {}

type Limits = typeof DEFAULT_LIMITS;

function parseBody(r: Reader, tag: string, name: string, opts: ParseOptions, limits: Limits): Command {
  if (SIMPLE.has(name)) return { tag, type: name as SimpleCommandType };
  switch (name) {
    case 'UID': {
      r.sp('command after UID');
      const sub = r.atom('command after UID', true);
      if (!UID_COMMANDS.has(sub)) r.fail(`UID ${sub} is not a command`);
      return selected(r, tag, sub, true, limits);
    }
    case 'EXPUNGE':
    case 'COPY':
    case 'MOVE':
    case 'FETCH':
    case 'STORE':
    case 'SEARCH':
    case 'SORT':
    case 'THREAD':
      return selected(r, tag, name, false, limits);
    case 'ID':
      r.sp('ID parameters');
      return { tag, type: 'ID', params: idParams(r) };
    case 'ENABLE': {
      const capabilities: string[] = [];
      do {
        r.sp('capability to enable');
        capabilities.push(r.atom('capability to enable', true));
      } while (!r.atEnd());
      return { tag, type: 'ENABLE', capabilities };
    }
    case 'LOGIN': {
      r.sp('user name');
      const username = r.astring('user name');
      r.sp('password');
      return { tag, type: 'LOGIN', username, password: r.astring('password') };
    }
    case 'AUTHENTICATE': {
      r.sp('SASL mechanism');
      const mechanism = r.atom('SASL mechanism', true);
      if (r.atEnd()) return { tag, type: 'AUTHENTICATE', mechanism };
      r.sp('initial response');
      const ir = r.eat(0x3d) ? '' : r.run(isBase64Char);
      if (ir === '' && r.buf[r.pos - 1] !== 0x3d) r.fail('Invalid initial response (expected base64 or "=")');
      return { tag, type: 'AUTHENTICATE', mechanism, initialResponse: ir };
    }
    case 'SELECT':
    case 'EXAMINE':
      return select(r, tag, name);
    case 'CREATE': {
      r.sp('mailbox name');
      const mailbox = r.mailbox();
      if (r.atEnd()) return { tag, type: 'CREATE', mailbox };
      r.sp('CREATE parameters');
      return { tag, type: 'CREATE', mailbox, specialUse: createParams(r) };
    }
    case 'DELETE':
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE':
      r.sp('mailbox name');
      return { tag, type: name, mailbox: r.mailbox() };
    case 'RENAME': {
      r.sp('mailbox name');
      const mailbox = r.mailbox();
      r.sp('new mailbox name');
      return { tag, type: 'RENAME', mailbox, newName: r.mailbox('new mailbox name') };
    }
    case 'LIST':
      return list(r, tag);
    case 'LSUB': {
      r.sp('reference name');
      const reference = r.mailbox('reference name');
      r.sp('mailbox pattern');
      return { tag, type: 'LSUB', reference, pattern: inboxCase(r.listMailbox()) };
    }
    case 'STATUS': {
      r.sp('mailbox name');
      const mailbox = r.mailbox();
      r.sp('status items');
      return { tag, type: 'STATUS', mailbox, items: statusItems(r) };
    }
    case 'APPEND':
      return append(r, tag, opts, limits.maxAppendMessages);
    case 'GETQUOTA':
      r.sp('quota root');
      return { tag, type: 'GETQUOTA', root: r.astring('quota root') };
    case 'GETQUOTAROOT':
      r.sp('mailbox name');
      return { tag, type: 'GETQUOTAROOT', mailbox: r.mailbox() };
    case 'SETQUOTA':
      return setQuota(r, tag);
    case 'COMPRESS':
      r.sp('compression mechanism');
      return { tag, type: 'COMPRESS', mechanism: r.atom('compression mechanism', true) };
    default:
      throw new UnknownCommand(`Unknown command ${name.slice(0, 40)}`);
  }
}

/** Commands of the selected state that have a UID form. */
function selected(r: Reader, tag: string, name: string, uid: boolean, limits: Limits): Command {
  switch (name) {
    case 'EXPUNGE':
      if (!uid) return { tag, type: 'EXPUNGE', uid: false };
      r.sp('UID set');
      return { tag, type: 'EXPUNGE', uid: true, sequence: r.sequenceSet('UID set') };
    case 'COPY':
    case 'MOVE': {
      r.sp('message set');
      const sequence = r.sequenceSet(uid ? 'UID set' : 'message set');
      r.sp('destination mailbox name');
      return { tag, type: name, uid, sequence, mailbox: r.mailbox('destination mailbox name') };
    }
    case 'FETCH':
      return fetch(r, tag, uid);
    case 'STORE':
      return store(r, tag, uid);
    case 'SEARCH':
      return search(r, tag, uid, limits);
    case 'SORT': {
      r.sp('sort criteria');
      const sortCriteriaList = sortCriteria(r);
      const { charset, criteria } = searchCriteria(r, limits);
      return { tag, type: 'SORT', uid, sortCriteria: sortCriteriaList, charset, criteria };
    }
    default: {
      r.sp('thread algorithm');
      const algorithm = r.atom('thread algorithm', true);
      const { charset, criteria } = searchCriteria(r, limits);
      return { tag, type: 'THREAD', uid, algorithm, charset, criteria };
    }
  }
}

function inboxCase(name: string): string {
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

function isBase64Char(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b ||
    c === 0x2f || c === 0x3d;
}

/** RFC 2971 §4: `"(" string SP nstring *(SP string SP nstring) ")" / nil`. */
function idParams(r: Reader): IdParams {
  if (r.eatWord('NIL')) return null;
  r.open('ID parameters');
  const params: Array<[string, string | null]> = [];
  while (r.more()) {
    if (params.length > 0) r.sp('ID field name');
    const key = r.string('ID field name');
    r.sp('ID field value');
    params.push([key, r.nstring('ID field value')]);
    if (params.length > 30) r.fail('Too many ID parameters (RFC 2971 allows 30)');
  }
  r.close('ID parameters');
  return params;
}

/** RFC 9051 §6.3.2 with RFC 7162 §3.1.8 CONDSTORE / §3.2.5 QRESYNC parameters. */
function select(r: Reader, tag: string, type: 'SELECT' | 'EXAMINE'): Command {
  r.sp('mailbox name');
  const mailbox = r.mailbox();
  let condstore = false;
  let qresync: QresyncParams | undefined;
  if (!r.atEnd()) {
    r.sp(`${type} parameters`);
    r.open(`${type} parameters`);
    while (r.more()) {
      if (condstore || qresync) r.sp(`${type} parameter`);
      const param = r.atom(`${type} parameter`, true);
      if (param === 'CONDSTORE') condstore = true;
      else if (param === 'QRESYNC') qresync = qresyncParams(r);
      else r.fail(`Unknown ${type} parameter ${param}`);
    }
    r.close(`${type} parameters`);
  }
  return qresync ? { tag, type, mailbox, condstore, qresync } : { tag, type, mailbox, condstore };
}

/** RFC 7162 §3.2.5 `"QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"`. */
function qresyncParams(r: Reader): QresyncParams {
  r.sp('QRESYNC parameters');
  r.open('QRESYNC parameters');
  const uidValidity = r.nzNumber('QRESYNC UIDVALIDITY');
  r.sp('QRESYNC mod-sequence');
  const params: QresyncParams = { uidValidity, modseq: r.modseq('QRESYNC mod-sequence') };
  if (r.peek() === SP && r.peek(1) !== 0x28) {
    r.sp('QRESYNC known UIDs');
    params.knownUids = r.sequenceSet('QRESYNC known UIDs');
  }
  if (r.peek() === SP) {
    r.sp('QRESYNC sequence match data');
    r.open('QRESYNC sequence match data');
    const seqs = r.sequenceSet('QRESYNC known sequence set');
    r.sp('QRESYNC known UID set');
    params.seqMatch = { seqs, uids: r.sequenceSet('QRESYNC known UID set') };
    r.close('QRESYNC sequence match data');
  }
  r.close('QRESYNC parameters');
  return params;
}

/** RFC 6154 §3: `"(" "USE" SP "(" [use-attr *(SP use-attr)] ")" ")"`. */
function createParams(r: Reader): string[] {
  r.open('CREATE parameters');
  let use: string[] | undefined;
  while (r.more()) {
    if (use) r.sp('CREATE parameter');
    const param = r.atom('CREATE parameter', true);
    if (param !== 'USE') r.fail(`Unknown CREATE parameter ${param}`);
    r.sp('USE attributes');
    use = flagList(r, 'USE attributes');
  }
  r.close('CREATE parameters');
  return use ?? [];
}

const SELECT_OPTIONS: ReadonlySet<string> = new Set<ListSelectOption>([
  'SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE',
]);

/** RFC 9051 §6.3.9 / RFC 5258 §6: `LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]`. */
function list(r: Reader, tag: string): Command {
  r.sp('reference name');
  let extended = false;
  const selectOptions: ListSelectOption[] = [];
  if (r.peek() === 0x28) {
    extended = true;
    r.open('LIST selection options');
    while (r.more()) {
      if (selectOptions.length > 0) r.sp('LIST selection option');
      const opt = r.atom('LIST selection option', true);
      if (!SELECT_OPTIONS.has(opt)) r.fail(`Unknown LIST selection option ${opt}`);
      if (!selectOptions.includes(opt as ListSelectOption)) selectOptions.push(opt as ListSelectOption);
    }
    r.close('LIST selection options');
    if (selectOptions.includes('RECURSIVEMATCH') && !selectOptions.some((o) => o !== 'RECURSIVEMATCH' && o !== 'REMOTE')) {
      r.fail('RECURSIVEMATCH needs another selection option (RFC 5258 §3.1)');
    }
    r.sp('reference name');
  }
  const reference = r.mailbox('reference name');
  r.sp('mailbox pattern');
  const patterns: string[] = [];
  if (r.peek() === 0x28) {
    extended = true;
    r.open('mailbox patterns');
    patterns.push(inboxCase(r.listMailbox()));
    while (r.more()) {
      r.sp('mailbox pattern');
      patterns.push(inboxCase(r.listMailbox()));
    }
    r.close('mailbox patterns');
  } else {
    patterns.push(inboxCase(r.listMailbox()));
  }
  const returnOptions: ListReturnOptions = { subscribed: false, children: false, specialUse: false };
  if (!r.atEnd()) {
    r.sp('RETURN');
    if (!r.eatWord('RETURN')) r.fail(`Expected RETURN at: ${r.preview()}`);
    extended = true;
    r.sp('LIST return options');
    r.open('LIST return options');
    let first = true;
    while (r.more()) {
      if (!first) r.sp('LIST return option');
      first = false;
      const opt = r.atom('LIST return option', true);
      if (opt === 'SUBSCRIBED') returnOptions.subscribed = true;
      else if (opt === 'CHILDREN') returnOptions.children = true;
      else if (opt === 'SPECIAL-USE') returnOptions.specialUse = true;
      else if (opt === 'STATUS') {
        r.sp('STATUS items');
        returnOptions.status = statusItems(r);
      } else r.fail(`Unknown LIST return option ${opt}`);
    }
    r.close('LIST return options');
  }
  return { tag, type: 'LIST', reference, patterns, selectOptions, returnOptions, extended };
}

/** RFC 9051 §9 `"(" status-att *(SP status-att) ")"`. */
function statusItems(r: Reader): StatusItem[] {
  r.open('status items');
  const items: StatusItem[] = [];
  do {
    if (items.length > 0) r.sp('status item');
    const item = r.atom('status item', true);
    if (!STATUS_ITEMS.has(item)) r.fail(`Unknown status item ${item}`);
    items.push(item as StatusItem);
  } while (r.more());
  r.close('status items');
  return items;
}

/** RFC 9051 §9 `flag-list = "(" [flag *(SP flag)] ")"`; flag = "\" atom / atom. */
function flagList(r: Reader, what = 'flag list'): string[] {
  r.open(what);
  const flags: string[] = [];
  while (r.more()) {
    if (flags.length > 0) r.sp('flag');
    flags.push(flag(r));
  }
  r.close(what);
  return flags;
}

function flag(r: Reader): string {
  const system = r.eat(0x5c);
  const name = r.atom(system ? 'flag name after "\\"' : 'flag');
  return system ? canonicalFlag(`\\${name}`) : name;
}

/** RFC 9051 §6.3.12 with RFC 3502 MULTIAPPEND and RFC 6855 §4 UTF8: `mailbox 1*(SP [flags SP] [date SP] data)`. */
function append(r: Reader, tag: string, opts: ParseOptions, maxMessages: number): Command {
  r.sp('mailbox name');
  const mailbox = r.mailbox();
  const messages: AppendMessage[] = [];
  do {
    if (messages.length >= maxMessages) r.fail('Too many messages in one APPEND');
    r.sp('message literal');
    let flags: string[] = [];
    if (r.peek() === 0x28) {
      flags = flagList(r);
      r.sp('message literal');
    }
    let date: Date | undefined;
    if (r.peek() === 0x22) {
      date = r.dateTime('APPEND date-time');
      r.sp('message literal');
    }
    let utf8 = false;
    if (r.eatWord('UTF8')) {
      if (!opts.utf8) r.fail('APPEND UTF8 needs ENABLE UTF8=ACCEPT first (RFC 6855)');
      utf8 = true;
      r.sp('UTF8 message literal');
      r.open('UTF8 message');
      if (r.peek() !== 0x7e) r.fail('UTF8 APPEND data must be a literal8 ~{n}');
    }
    if (r.peek() !== 0x7b && r.peek() !== 0x7e) r.fail(r.atEnd() ? 'Missing message literal' : 'The message must be sent as a literal {n}');
    const { data, binary } = r.literal('message');
    if (utf8) r.close('UTF8 message');
    const message: AppendMessage = { flags, message: data, binary, utf8 };
    if (date) message.date = date;
    messages.push(message);
  } while (!r.atEnd());
  return { tag, type: 'APPEND', mailbox, messages };
}

/** RFC 9051 §6.4.5 and RFC 7162 §3.1.4.1 / §3.2.6 `fetch-modifiers`. */
function fetch(r: Reader, tag: string, uid: boolean): CommandOf<'FETCH'> {
  r.sp(uid ? 'UID set' : 'message set');
  const sequence = r.sequenceSet(uid ? 'UID set' : 'message set');
  r.sp('fetch items');
  const items = fetchItems(r);
  const command: CommandOf<'FETCH'> = { tag, type: 'FETCH', uid, sequence, items, vanished: false };
  if (!r.atEnd()) {
    r.sp('FETCH modifiers');
    r.open('FETCH modifiers');
    let first = true;
    while (r.more()) {
      if (!first) r.sp('FETCH modifier');
      first = false;
      const mod = r.atom('FETCH modifier', true);
      if (mod === 'CHANGEDSINCE') {
        r.sp('CHANGEDSINCE mod-sequence');
        command.changedSince = r.modseq('CHANGEDSINCE mod-sequence');
      } else if (mod === 'VANISHED') command.vanished = true;
      else r.fail(`Unknown FETCH modifier ${mod}`);
    }
    r.close('FETCH modifiers');
    if (command.vanished && !uid) r.fail('VANISHED is only allowed in UID FETCH (RFC 7162 §3.2.6)');
    if (command.vanished && command.changedSince === undefined) r.fail('VANISHED needs CHANGEDSINCE (RFC 7162 §3.2.6)');
  }
  return command;
}

/** RFC 9051 §6.4.6 and RFC 7162 §3.1.3: `sequence-set [SP store-modifiers] SP store-att-flags`. */
function store(r: Reader, tag: string, uid: boolean): CommandOf<'STORE'> {
  r.sp(uid ? 'UID set' : 'message set');
  const sequence = r.sequenceSet(uid ? 'UID set' : 'message set');
  r.sp('STORE action');
  let unchangedSince: number | undefined;
  if (r.peek() === 0x28) {
    r.open('STORE modifiers');
    let first = true;
    while (r.more()) {
      if (!first) r.sp('STORE modifier');
      first = false;
      const mod = r.atom('STORE modifier', true);
      if (mod !== 'UNCHANGEDSINCE') r.fail(`Unknown STORE modifier ${mod}`);
      r.sp('UNCHANGEDSINCE mod-sequence');
      unchangedSince = r.modseq('UNCHANGEDSINCE mod-sequence');
    }
    r.close('STORE modifiers');
    r.sp('STORE action');
  }
  const op = r.atom('STORE action (FLAGS, +FLAGS or -FLAGS)', true);
  const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(op);
  if (!m) r.fail(`Invalid STORE action ${op} (expected FLAGS, +FLAGS or -FLAGS)`);
  const action = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'replace';
  r.sp('flags');
  let flags: string[];
  if (r.peek() === 0x28) flags = flagList(r);
  else {
    flags = [flag(r)];
    while (!r.atEnd()) {
      r.sp('flag');
      flags.push(flag(r));
    }
  }
  const command: CommandOf<'STORE'> = { tag, type: 'STORE', uid, sequence, action, silent: !!m[2], flags };
  if (unchangedSince !== undefined) command.unchangedSince = unchangedSince;
  return command;
}

/** RFC 9051 §6.4.4 / RFC 4731: `SEARCH [SP "RETURN" SP "(" opts ")"] SP ["CHARSET" SP charset SP] keys`. */
function search(r: Reader, tag: string, uid: boolean, limits: Limits): CommandOf<'SEARCH'> {
  r.sp('search keys');
  const command: CommandOf<'SEARCH'> = { tag, type: 'SEARCH', uid, criteria: [] };
  if (r.eatWord('RETURN')) {
    command.returnOptions = searchReturnOptions(r);
    r.sp('search keys');
  }
  if (r.eatWord('CHARSET')) {
    r.sp('charset');
    command.charset = charset(r);
    r.sp('search keys');
  }
  command.criteria = new SearchParser(r, limits.maxSearchKeys).keys();
  return command;
}

/** RFC 5256 §5 `search-criteria = charset 1*(SP search-key)`. */
function searchCriteria(r: Reader, limits: Limits): { charset: string; criteria: SearchKey[] } {
  r.sp('charset');
  const cs = charset(r);
  r.sp('search keys');
  return { charset: cs, criteria: new SearchParser(r, limits.maxSearchKeys).keys() };
}

/** RFC 9051 §9 `charset = atom / quoted`; strings after a non-UTF-8 charset are decoded lossily. */
function charset(r: Reader): string {
  const cs = (r.peek() === 0x22 ? r.string('charset') : r.atom('charset')).toUpperCase();
  r.lossy = cs !== 'UTF-8' && cs !== 'US-ASCII';
  return cs;
}

/** RFC 9208 §4.1.3 `"SETQUOTA" SP quota-root SP setquota-list`. */
function setQuota(r: Reader, tag: string): Command {
  r.sp('quota root');
  const root = r.astring('quota root');
  r.sp('quota limits');
  r.open('quota limits');
  const limits: QuotaLimit[] = [];
  while (r.more()) {
    if (limits.length > 0) r.sp('quota resource');
    const resource = r.atom('quota resource', true);
    r.sp('quota limit');
    limits.push({ resource, limit: r.number('quota limit', Number.MAX_SAFE_INTEGER) });
  }
  r.close('quota limits');
  return { tag, type: 'SETQUOTA', root, limits };
}

// ---------------------------------------------------------------------------------------------------------------
// Continuation lines
// ---------------------------------------------------------------------------------------------------------------

/** A client line during AUTHENTICATE (RFC 9051 §6.2.2): base64 data, or `*` to cancel. */
export type SaslResponse =
  | { type: 'response'; data: Uint8Array }
  | { type: 'cancel' }
  | { type: 'invalid'; text: string };

/** Parse one AUTHENTICATE continuation line. An empty line is an empty response. */
export function parseSaslResponse(frame: Uint8Array): SaslResponse {
  const line = new TextDecoder().decode(stripLineEnd(frame));
  if (line === '*') return { type: 'cancel' };
  if (line.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(line)) {
    return { type: 'invalid', text: 'Invalid base64 in SASL response' };
  }
  try {
    const bin = atob(line);
    const data = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
    return { type: 'response', data };
  } catch {
    return { type: 'invalid', text: 'Invalid base64 in SASL response' };
  }
}

/** Is this line IDLE's terminator `DONE` (RFC 2177 §3, case-insensitive)? */
export function isIdleDone(frame: Uint8Array): boolean {
  const line = stripLineEnd(frame);
  return line.length === 4 && new TextDecoder().decode(line).toUpperCase() === 'DONE';
}

function stripLineEnd(frame: Uint8Array): Uint8Array {
  let end = frame.length;
  if (end > 0 && frame[end - 1] === 0x0a) end--;
  if (end > 0 && frame[end - 1] === 0x0d) end--;
  return frame.subarray(0, end);
}
