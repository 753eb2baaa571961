/**
 * Command AST -> wire octets: the client side of the parser, for tests (round trips, client-side transcripts).
 * Strings go out as atoms when they are atoms, quoted when short 7-bit text, else as non-synchronizing literals
 * `{n+}` (RFC 7888), so one call yields one complete frame. Search keys are written in their normalized forms
 * (FLAG -> KEYWORD/system key, HEADER -> HEADER field value ...), which the parser reads back to the same AST.
 */
import { formatSection } from './encode.ts';
import { sequenceToString } from './sequence.ts';
import type { Command, FetchItem, SearchKey, SearchDate } from './types.ts';

const UTF8 = new TextEncoder();

class Wire {
  parts: Uint8Array[] = [];
  text = '';
  put(s: string): this {
    this.text += s;
    return this;
  }
  flush(): void {
    if (this.text) this.parts.push(UTF8.encode(this.text));
    this.text = '';
  }
  literal(b: Uint8Array, binary = false): this {
    this.put(`${binary ? '~' : ''}{${b.length}+}\r\n`).flush();
    this.parts.push(b);
    return this;
  }
  /** Quoted string or literal. */
  string(s: string): this {
    const b = UTF8.encode(s);
    if (b.length <= 200 && /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(s)) return this.put(`"${s.replace(/["\\]/g, '\\$&')}"`);
    return this.literal(b);
  }
  /** Atom when possible (and not a keyword the parser would read differently), else string. */
  astring(s: string): this {
    return /^[\x21\x23\x24\x26\x27\x2b-\x5b\x5d-\x7a\x7c-\x7e]+$/.test(s) && !s.includes('{') && s.toUpperCase() !== 'NIL'
      ? this.put(s)
      : this.string(s);
  }
  listMailbox(s: string): this {
    return /^[\x21\x23-\x27\x2a-\x5b\x5d-\x7a\x7c\x7e]+$/.test(s) ? this.put(s) : this.string(s);
  }
  finish(): Uint8Array {
    this.put('\r\n').flush();
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function searchDate(d: SearchDate): string {
  const [y, m, day] = d.split('-');
  return `${Number(day)}-${MONTHS[Number(m) - 1]}-${y}`;
}

function appendDate(d: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `"${p2(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p2(d.getUTCHours())}:` +
    `${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000"`;
}

const FLAG_SEARCH: Record<string, string> = {
  '\\Answered': 'ANSWERED', '\\Deleted': 'DELETED', '\\Draft': 'DRAFT', '\\Flagged': 'FLAGGED', '\\Seen': 'SEEN',
  '\\Recent': 'RECENT',
};

function searchKey(w: Wire, k: SearchKey): void {
  switch (k.type) {
    case 'ALL':
    case 'SAVEDATESUPPORTED':
      w.put(k.type);
      break;
    case 'FLAG':
      w.put(FLAG_SEARCH[k.flag] ?? `KEYWORD ${k.flag}`);
      break;
    case 'NOT':
      w.put('NOT ');
      searchKey(w, k.key);
      break;
    case 'OR':
      w.put('OR ');
      searchKey(w, k.left);
      w.put(' ');
      searchKey(w, k.right);
      break;
    case 'AND':
      w.put('(');
      k.keys.forEach((x, i) => {
        if (i > 0) w.put(' ');
        searchKey(w, x);
      });
      w.put(')');
      break;
    case 'SEQUENCE':
      w.put(sequenceToString(k.set));
      break;
    case 'UID':
      w.put(`UID ${sequenceToString(k.set)}`);
      break;
    case 'HEADER':
      w.put('HEADER ').astring(k.field).put(' ').astring(k.value);
      break;
    case 'BODY':
    case 'TEXT':
      w.put(`${k.type} `).astring(k.value);
      break;
    case 'DATE':
      w.put(`${k.field === 'INTERNAL' ? '' : k.field}${k.op} ${searchDate(k.date)}`);
      break;
    case 'SIZE':
      w.put(`${k.op} ${k.size}`);
      break;
    case 'OLDER':
    case 'YOUNGER':
      w.put(`${k.type} ${k.seconds}`);
      break;
    case 'MODSEQ':
      w.put('MODSEQ ');
      if (k.entry) w.string(k.entry.name).put(` ${k.entry.entryType} `);
      w.put(String(k.modseq));
      break;
    case 'EMAILID':
    case 'THREADID':
      w.put(`${k.type} ${k.id}`);
      break;
  }
}

function searchKeys(w: Wire, keys: SearchKey[]): void {
  keys.forEach((k, i) => {
    if (i > 0) w.put(' ');
    searchKey(w, k);
  });
}

function fetchItem(i: FetchItem): string {
  switch (i.type) {
    case 'BODYSTRUCTURE':
      return i.extended ? 'BODYSTRUCTURE' : 'BODY';
    case 'BODY':
      return `BODY${i.peek ? '.PEEK' : ''}[${formatSection(i.section)}]${i.partial ? `<${i.partial.offset}.${i.partial.length}>` : ''}`;
    case 'BINARY':
      return `BINARY${i.peek ? '.PEEK' : ''}[${i.part.join('.')}]${i.partial ? `<${i.partial.offset}.${i.partial.length}>` : ''}`;
    case 'BINARY.SIZE':
      return `BINARY.SIZE[${i.part.join('.')}]`;
    case 'PREVIEW':
      return i.lazy ? 'PREVIEW (LAZY)' : 'PREVIEW';
    default:
      return i.type;
  }
}

/** Encode a command as a client would send it (one frame, literals non-synchronizing). */
export function encodeCommand(c: Command): Uint8Array {
  const w = new Wire();
  w.put(`${c.tag} `);
  const uid = 'uid' in c && c.uid ? 'UID ' : '';
  switch (c.type) {
    case 'CAPABILITY': case 'NOOP': case 'LOGOUT': case 'STARTTLS': case 'NAMESPACE': case 'IDLE': case 'CHECK':
    case 'CLOSE': case 'UNSELECT': case 'GETJMAPACCESS':
      w.put(c.type);
      break;
    case 'ID':
      w.put('ID ');
      if (c.params === null) w.put('NIL');
      else {
        w.put('(');
        c.params.forEach(([k, v], i) => {
          if (i > 0) w.put(' ');
          w.string(k).put(' ');
          if (v === null) w.put('NIL');
          else w.string(v);
        });
        w.put(')');
      }
      break;
    case 'ENABLE':
      w.put(['ENABLE', ...c.capabilities].join(' '));
      break;
    case 'LOGIN':
      w.put('LOGIN ').astring(c.username).put(' ').astring(c.password);
      break;
    case 'AUTHENTICATE':
      w.put(`AUTHENTICATE ${c.mechanism}`);
      if (c.initialResponse !== undefined) w.put(` ${c.initialResponse === '' ? '=' : c.initialResponse}`);
      break;
    case 'SELECT':
    case 'EXAMINE': {
      w.put(`${c.type} `).astring(c.mailbox);
      const params: string[] = [];
      if (c.condstore) params.push('CONDSTORE');
      if (c.qresync) {
        const q = c.qresync;
        let s = `QRESYNC (${q.uidValidity} ${q.modseq}`;
        if (q.knownUids) s += ` ${sequenceToString(q.knownUids)}`;
        if (q.seqMatch) s += ` (${sequenceToString(q.seqMatch.seqs)} ${sequenceToString(q.seqMatch.uids)})`;
        params.push(`${s})`);
      }
      if (params.length) w.put(` (${params.join(' ')})`);
      break;
    }
    case 'CREATE':
      w.put('CREATE ').astring(c.mailbox);
      if (c.specialUse) w.put(` (USE (${c.specialUse.join(' ')}))`);
      break;
    case 'DELETE':
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE':
      w.put(`${c.type} `).astring(c.mailbox);
      break;
    case 'RENAME':
      w.put('RENAME ').astring(c.mailbox).put(' ').astring(c.newName);
      break;
    case 'LIST': {
      w.put('LIST ');
      if (c.extended) w.put(`(${c.selectOptions.join(' ')}) `);
      w.astring(c.reference).put(' ');
      if (c.extended) {
        w.put('(');
        c.patterns.forEach((p, i) => (i > 0 ? w.put(' ') : w).listMailbox(p));
        w.put(')');
      } else w.listMailbox(c.patterns[0] ?? '');
      const r = c.returnOptions;
      const opts = [
        ...(r.subscribed ? ['SUBSCRIBED'] : []), ...(r.children ? ['CHILDREN'] : []),
        ...(r.specialUse ? ['SPECIAL-USE'] : []), ...(r.status ? [`STATUS (${r.status.join(' ')})`] : []),
      ];
      if (c.extended) w.put(` RETURN (${opts.join(' ')})`);
      break;
    }
    case 'LSUB':
      w.put('LSUB ').astring(c.reference).put(' ').listMailbox(c.pattern);
      break;
    case 'STATUS':
      w.put('STATUS ').astring(c.mailbox).put(` (${c.items.join(' ')})`);
      break;
    case 'APPEND':
      w.put('APPEND ').astring(c.mailbox);
      for (const m of c.messages) {
        w.put(' ');
        if (m.flags.length) w.put(`(${m.flags.join(' ')}) `);
        if (m.date) w.put(`${appendDate(m.date)} `);
        if (m.utf8) w.put('UTF8 (').literal(m.message, true).put(')');
        else w.literal(m.message, m.binary);
      }
      break;
    case 'EXPUNGE':
      w.put(c.uid ? `UID EXPUNGE ${sequenceToString(c.sequence)}` : 'EXPUNGE');
      break;
    case 'SEARCH':
      w.put(`${uid}SEARCH `);
      if (c.returnOptions) w.put(`RETURN (${c.returnOptions.join(' ')}) `);
      if (c.charset) w.put(`CHARSET ${c.charset} `);
      searchKeys(w, c.criteria);
      break;
    case 'SORT':
      w.put(`${uid}SORT (${c.sortCriteria.map((s) => `${s.reverse ? 'REVERSE ' : ''}${s.key}`).join(' ')}) ${c.charset} `);
      searchKeys(w, c.criteria);
      break;
    case 'THREAD':
      w.put(`${uid}THREAD ${c.algorithm} ${c.charset} `);
      searchKeys(w, c.criteria);
      break;
    case 'FETCH': {
      w.put(`${uid}FETCH ${sequenceToString(c.sequence)} (${c.items.map(fetchItem).join(' ')})`);
      const mods = [...(c.changedSince !== undefined ? [`CHANGEDSINCE ${c.changedSince}`] : []), ...(c.vanished ? ['VANISHED'] : [])];
      if (mods.length) w.put(` (${mods.join(' ')})`);
      break;
    }
    case 'STORE':
      w.put(`${uid}STORE ${sequenceToString(c.sequence)} `);
      if (c.unchangedSince !== undefined) w.put(`(UNCHANGEDSINCE ${c.unchangedSince}) `);
      w.put(`${c.action === 'add' ? '+' : c.action === 'remove' ? '-' : ''}FLAGS${c.silent ? '.SILENT' : ''} (${c.flags.join(' ')})`);
      break;
    case 'COPY':
    case 'MOVE':
      w.put(`${uid}${c.type} ${sequenceToString(c.sequence)} `).astring(c.mailbox);
      break;
    case 'GETQUOTA':
      w.put('GETQUOTA ').astring(c.root);
      break;
    case 'GETQUOTAROOT':
      w.put('GETQUOTAROOT ').astring(c.mailbox);
      break;
    case 'SETQUOTA':
      w.put('SETQUOTA ').astring(c.root).put(` (${c.limits.map((l) => `${l.resource} ${l.limit}`).join(' ')})`);
      break;
    case 'COMPRESS':
      w.put(`COMPRESS ${c.mechanism}`);
      break;
  }
  return w.finish();
}
