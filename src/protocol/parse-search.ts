/**
 * SEARCH keys (RFC 9051 §6.4.4 and §9 `search-key`, RFC 3501 §6.4.4 rev1 keys NEW OLD RECENT UNRECENT... ,
 * RFC 7162 §3.1.5 MODSEQ, RFC 8474 §6 EMAILID/THREADID, RFC 8514 §4.3 SAVEDATE keys, RFC 5032 OLDER/YOUNGER),
 * ESEARCH return options (RFC 4731 §3.1, RFC 5182 SAVE) and sort criteria (RFC 5256 §3).
 * Shortcuts are normalized into few node kinds: see `SearchKey` in types.ts.
 */
import type { Reader } from './reader.ts';
import type { SearchKey, SearchReturnOption, SortCriterion } from './types.ts';

const SP = 0x20;

/** Search keys that test one system flag (value: canonical flag, negated for UN*). */
const FLAG_KEYS: Record<string, [flag: string, negate: boolean]> = {
  ANSWERED: ['\\Answered', false],
  DELETED: ['\\Deleted', false],
  DRAFT: ['\\Draft', false],
  FLAGGED: ['\\Flagged', false],
  SEEN: ['\\Seen', false],
  RECENT: ['\\Recent', false],
  UNANSWERED: ['\\Answered', true],
  UNDELETED: ['\\Deleted', true],
  UNDRAFT: ['\\Draft', true],
  UNFLAGGED: ['\\Flagged', true],
  UNSEEN: ['\\Seen', true],
  OLD: ['\\Recent', true],
};

const HEADER_KEYS: Record<string, string> = { BCC: 'Bcc', CC: 'Cc', FROM: 'From', SUBJECT: 'Subject', TO: 'To' };

const DATE_KEYS: Record<string, [field: 'INTERNAL' | 'SENT' | 'SAVED', op: 'BEFORE' | 'ON' | 'SINCE']> = {
  BEFORE: ['INTERNAL', 'BEFORE'],
  ON: ['INTERNAL', 'ON'],
  SINCE: ['INTERNAL', 'SINCE'],
  SENTBEFORE: ['SENT', 'BEFORE'],
  SENTON: ['SENT', 'ON'],
  SENTSINCE: ['SENT', 'SINCE'],
  SAVEDBEFORE: ['SAVED', 'BEFORE'],
  SAVEDON: ['SAVED', 'ON'],
  SAVEDSINCE: ['SAVED', 'SINCE'],
};

/** System flags spelled canonically (flags are case-insensitive, RFC 9051 §2.3.2). */
const SYSTEM_FLAGS = new Map(
  ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '\\Recent'].map((f) => [f.toUpperCase(), f]),
);

export function canonicalFlag(flag: string): string {
  return flag.startsWith('\\') ? SYSTEM_FLAGS.get(flag.toUpperCase()) ?? flag : flag;
}

/** Counts keys against `Limits.maxSearchKeys`. */
export class SearchParser {
  private count = 0;
  constructor(
    private readonly r: Reader,
    private readonly maxKeys: number,
  ) {}

  /** `search-key *(SP search-key)` up to the end of the command. */
  keys(): SearchKey[] {
    const keys = [this.key()];
    while (!this.r.atEnd()) {
      this.r.sp('search key');
      keys.push(this.key());
    }
    return keys;
  }

  key(): SearchKey {
    const r = this.r;
    if (++this.count > this.maxKeys) r.fail('Too many search keys');
    if (r.peek() === 0x28) {
      r.open('search keys');
      const keys = [this.key()];
      while (r.peek() === SP) {
        r.sp('search key');
        keys.push(this.key());
      }
      r.close('search keys');
      return { type: 'AND', keys };
    }
    if (r.atSequenceSet()) return { type: 'SEQUENCE', set: r.sequenceSet('message set') };
    const name = r.atom('search key', true);
    const flag = FLAG_KEYS[name];
    if (flag) return flag[1] ? { type: 'NOT', key: { type: 'FLAG', flag: flag[0] } } : { type: 'FLAG', flag: flag[0] };
    const header = HEADER_KEYS[name];
    if (header) return { type: 'HEADER', field: header, value: this.arg(name) };
    const date = DATE_KEYS[name];
    if (date) {
      r.sp(`date after ${name}`);
      return { type: 'DATE', field: date[0], op: date[1], date: r.date(`date after ${name}`) };
    }
    switch (name) {
      case 'ALL':
        return { type: 'ALL' };
      case 'NEW':
        return { type: 'AND', keys: [{ type: 'FLAG', flag: '\\Recent' }, { type: 'NOT', key: { type: 'FLAG', flag: '\\Seen' } }] };
      case 'KEYWORD':
      case 'UNKEYWORD': {
        r.sp(`keyword after ${name}`);
        const key: SearchKey = { type: 'FLAG', flag: r.atom(`keyword after ${name}`) };
        return name === 'KEYWORD' ? key : { type: 'NOT', key };
      }
      case 'HEADER': {
        r.sp('header field name');
        const field = r.astring('header field name');
        return { type: 'HEADER', field, value: this.arg('HEADER') };
      }
      case 'BODY':
      case 'TEXT':
        return { type: name, value: this.arg(name) };
      case 'LARGER':
      case 'SMALLER':
        r.sp(`size after ${name}`);
        return { type: 'SIZE', op: name, size: r.number(`size after ${name}`, Number.MAX_SAFE_INTEGER) };
      case 'OLDER':
      case 'YOUNGER':
        r.sp(`interval after ${name}`);
        return { type: name, seconds: r.nzNumber(`interval after ${name}`) };
      case 'NOT':
        r.sp('search key after NOT');
        return { type: 'NOT', key: this.key() };
      case 'OR': {
        r.sp('first search key after OR');
        const left = this.key();
        r.sp('second search key after OR');
        return { type: 'OR', left, right: this.key() };
      }
      case 'UID':
        r.sp('UID set');
        return { type: 'UID', set: r.sequenceSet('UID set') };
      case 'MODSEQ':
        return this.modseq();
      case 'EMAILID':
      case 'THREADID':
        r.sp(`id after ${name}`);
        return { type: name, id: r.atom(`id after ${name}`) };
      case 'SAVEDATESUPPORTED':
        return { type: 'SAVEDATESUPPORTED' };
      case 'UNRECENT': // Not in any RFC grammar but sent by some rev1 clients: NOT RECENT.
        return { type: 'NOT', key: { type: 'FLAG', flag: '\\Recent' } };
      default:
        return r.fail(`Unknown search key ${name}`);
    }
  }

  private arg(name: string): string {
    this.r.sp(`string after ${name}`);
    return this.r.astring(`string after ${name}`);
  }

  /** RFC 7162 §3.1.5: `MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-value`. */
  private modseq(): SearchKey {
    const r = this.r;
    r.sp('mod-sequence after MODSEQ');
    if (r.peek() === 0x22 || r.peek() === 0x7b) {
      const name = r.string('MODSEQ entry name');
      r.sp('MODSEQ entry type');
      const entryType = r.atom('MODSEQ entry type').toLowerCase();
      if (entryType !== 'priv' && entryType !== 'shared' && entryType !== 'all') {
        return r.fail('MODSEQ entry type must be priv, shared or all');
      }
      r.sp('mod-sequence after MODSEQ');
      return { type: 'MODSEQ', modseq: r.modseq(), entry: { name, entryType } };
    }
    return { type: 'MODSEQ', modseq: r.modseq() };
  }
}

/** RFC 4731 §3.1 `RETURN (opts)` after SEARCH (the `RETURN` word already read). */
export function searchReturnOptions(r: Reader): SearchReturnOption[] {
  r.sp('search return options');
  r.open('search return options');
  const opts: SearchReturnOption[] = [];
  while (r.more()) {
    if (opts.length > 0) r.sp('search return option');
    const opt = r.atom('search return option', true);
    if (opt !== 'MIN' && opt !== 'MAX' && opt !== 'ALL' && opt !== 'COUNT' && opt !== 'SAVE') {
      r.fail(`Unknown search return option ${opt}`);
    }
    if (!opts.includes(opt)) opts.push(opt);
  }
  r.close('search return options');
  return opts;
}

const SORT_KEYS = ['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO'] as const;

/** RFC 5256 §5 `sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"`. */
export function sortCriteria(r: Reader): SortCriterion[] {
  r.open('sort criteria');
  const out: SortCriterion[] = [];
  do {
    if (out.length > 0) r.sp('sort criterion');
    let key = r.atom('sort criterion', true);
    const reverse = key === 'REVERSE';
    if (reverse) {
      r.sp('sort key after REVERSE');
      key = r.atom('sort key after REVERSE', true);
    }
    const known = SORT_KEYS.find((k) => k === key);
    if (!known) r.fail(`Unknown sort key ${key}`);
    out.push({ key: known, reverse });
  } while (r.more());
  r.close('sort criteria');
  return out;
}
