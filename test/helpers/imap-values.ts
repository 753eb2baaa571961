/**
 * The test-side IMAP response reader, shared by the differential suites (test/differential against Dovecot,
 * test/interop against Cyrus IMAP): an IMAP client that parses every response into a value tree (RFC 9051 §9 grammar, the
 * subset servers send for SELECT, FETCH and SEARCH): atoms, NIL, quoted strings and literals (both decoded to their
 * octets: literal vs quoted is an encoding choice, RFC 9051 §4.3), literal8 `~{n}` (RFC 3516 §4.2, BINARY), and
 * parenthesized lists. A section spec such as `BODY[1.MIME]<0>` stays one atom. Commands may be pipelined: a server
 * may interleave their untagged data (Dovecot does), so each pending command sees every untagged response.
 */
import net from 'node:net';

/** atom (string), NIL (null), string/literal octets (Uint8Array), or a parenthesized list. */
export type Value = string | null | Uint8Array | Value[];

/** A tagged completion: status and the rest of the line (response code included). */
export interface Done { status: string; text: string }

export interface Reply { untagged: Value[][]; done: Done }

class NeedMore extends Error {}

export class ValueClient {
  private buf = Buffer.alloc(0);
  private waiting: Array<{ tag: string; untagged: Value[][]; resolve(r: Reply): void; reject(e: Error): void }> = [];
  private greeted: ((v: Value[]) => void) | null = null;
  private next = 1;
  private failure: Error | null = null;
  /** The last response line read (a BYE explains a closed connection). */
  private last: Value[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.drain(); });
    socket.on('close', () => this.fail(new Error(`connection closed after ${show(this.last)}`)));
    socket.on('error', (e) => this.fail(new Error(`${e.message} after ${show(this.last)}`)));
  }

  static async connect(port: number): Promise<ValueClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const c = new ValueClient(socket);
    await new Promise<Value[]>((resolve) => { c.greeted = resolve; c.drain(); });
    return c;
  }

  /** Sends `tag text` (text may hold a non-synchronizing literal) and resolves with everything up to its completion. */
  command(text: string | Uint8Array): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.socket.destroyed) return Promise.reject(new Error(`connection closed after ${show(this.last)}`));
    const tag = `d${this.next++}`;
    return new Promise((resolve, reject) => {
      this.waiting.push({ tag, untagged: [], resolve, reject });
      this.socket.write(Buffer.concat([Buffer.from(`${tag} `), Buffer.from(text), Buffer.from('\r\n')]));
    });
  }

  /** `command`, failing unless the completion is OK. */
  async ok(text: string): Promise<Value[][]> {
    const r = await this.command(text);
    if (r.done.status !== 'OK') throw new Error(`${text}: ${r.done.status} ${r.done.text}`);
    return r.untagged;
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  private drain(): void {
    for (;;) {
      let line: Value[];
      const p = new Parser(this.buf);
      try {
        line = p.line();
      } catch (e) {
        if (e instanceof NeedMore) return;
        this.fail(e as Error);
        return;
      }
      this.buf = this.buf.subarray(p.pos);
      this.last = line;
      if (this.greeted) { const g = this.greeted; this.greeted = null; g(line); continue; }
      const head = this.waiting[0];
      if (!head) continue;
      if (line[0] === head.tag) {
        this.waiting.shift();
        head.resolve({ untagged: head.untagged, done: { status: String(line[1]).toUpperCase(), text: String(line[2] ?? '') } });
      } else if (line[0] === '*') for (const w of this.waiting) w.untagged.push(line); // a server may interleave pipelined commands' data
    }
  }
}

const STATUS = /^(OK|NO|BAD|BYE|PREAUTH)$/i;

class Parser {
  pos = 0;
  constructor(private readonly b: Buffer) {}

  /** One response line up to its CRLF; after a status word (or `+`) the rest is one text string. */
  line(): Value[] {
    const out: Value[] = [];
    for (;;) {
      if (this.pos >= this.b.length) throw new NeedMore();
      const c = this.b[this.pos]!;
      if (c === 0x0d) { this.expect('\r\n'); return out; }
      if (c === 0x20) { this.pos++; continue; }
      if ((out.length === 2 && typeof out[1] === 'string' && STATUS.test(out[1])) || out[0] === '+') {
        const end = this.b.indexOf('\r\n', this.pos);
        if (end < 0) throw new NeedMore();
        out.push(this.b.subarray(this.pos, end).toString('latin1'));
        this.pos = end;
        continue;
      }
      out.push(this.value());
    }
  }

  private value(): Value {
    if (this.pos >= this.b.length) throw new NeedMore();
    const c = this.b[this.pos]!;
    if (c === 0x28) {
      this.pos++;
      const list: Value[] = [];
      for (;;) {
        if (this.pos >= this.b.length) throw new NeedMore();
        const d = this.b[this.pos]!;
        if (d === 0x29) { this.pos++; return list; }
        if (d === 0x20) { this.pos++; continue; }
        list.push(this.value());
      }
    }
    if (c === 0x22) return this.quoted();
    if (c === 0x7b) return this.literal();
    if (c === 0x7e && this.b[this.pos + 1] === 0x7b) { this.pos++; return this.literal(); }
    return this.atom();
  }

  private quoted(): Uint8Array {
    const bytes: number[] = [];
    for (this.pos++; ; this.pos++) {
      if (this.pos >= this.b.length) throw new NeedMore();
      const c = this.b[this.pos]!;
      if (c === 0x5c) { this.pos++; if (this.pos >= this.b.length) throw new NeedMore(); bytes.push(this.b[this.pos]!); continue; }
      if (c === 0x22) { this.pos++; return new Uint8Array(bytes); }
      bytes.push(c);
    }
  }

  private literal(): Uint8Array {
    const close = this.b.indexOf('}', this.pos);
    if (close < 0) throw new NeedMore();
    const n = Number(this.b.subarray(this.pos + 1, close).toString('latin1').replace('+', ''));
    this.pos = close + 1;
    this.expect('\r\n');
    if (this.pos + n > this.b.length) throw new NeedMore();
    const out = new Uint8Array(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** An atom; `[...]` (spaces and parentheses inside) and a following `<n>` belong to it. */
  private atom(): string | null {
    const start = this.pos;
    let depth = 0;
    for (; ; this.pos++) {
      if (this.pos >= this.b.length) throw new NeedMore();
      const c = this.b[this.pos]!;
      if (c === 0x5b) depth++;
      else if (c === 0x5d) depth--;
      else if (depth === 0 && (c === 0x20 || c === 0x28 || c === 0x29 || c === 0x0d)) break;
    }
    const s = this.b.subarray(start, this.pos).toString('latin1');
    return s.toUpperCase() === 'NIL' ? null : s;
  }

  private expect(s: string): void {
    if (this.pos + s.length > this.b.length) throw new NeedMore();
    if (this.b.subarray(this.pos, this.pos + s.length).toString('latin1') !== s) throw new Error(`IMAP parse: expected ${JSON.stringify(s)} at ${this.pos}`);
    this.pos += s.length;
  }
}

/** FETCH items of the untagged `* n FETCH (...)` responses, per sequence number, keyed by upper-cased item name. */
export function fetchItems(untagged: Value[][]): Map<number, Map<string, Value>> {
  const out = new Map<number, Map<string, Value>>();
  for (const r of untagged) {
    if (r[0] !== '*' || String(r[2]).toUpperCase() !== 'FETCH' || !Array.isArray(r[3])) continue;
    const items = out.get(Number(r[1])) ?? new Map<string, Value>();
    const list = r[3];
    for (let i = 0; i + 1 < list.length; i += 2) items.set(String(list[i]).toUpperCase(), list[i + 1]!);
    out.set(Number(r[1]), items);
  }
  return out;
}

/** The numbers of `* SEARCH n...`. */
export function searchHits(untagged: Value[][]): number[] {
  const r = untagged.find((u) => u[0] === '*' && String(u[1]).toUpperCase() === 'SEARCH');
  return r ? r.slice(2).map(Number) : [];
}

/** Readable form of a value, for failure messages and the expectations file. */
export function show(v: Value | undefined): string {
  if (v === undefined) return '(absent)';
  if (v === null) return 'NIL';
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('latin1'));
  if (Array.isArray(v)) return `(${v.map(show).join(' ')})`;
  return v;
}

/** The numbers of a sequence set as a server writes it (`1:3,7`; RFC 9051 §9 `sequence-set` without `*`). */
export function uidsOf(set: string): number[] {
  return set.split(',').flatMap((part) => {
    const [a, b] = part.split(':').map(Number);
    return Array.from({ length: (b ?? a!) - a! + 1 }, (_, k) => a! + k);
  });
}
