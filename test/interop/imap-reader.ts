/**
 * A byte-exact IMAP client for differential tests: sends a command and parses every response (RFC 9051 §9
 * grammar, the subset servers send for SELECT and FETCH): atoms, quoted strings, literals, parenthesized lists, and
 * section specs such as `BODY[HEADER.FIELDS (From To)]<0>` kept as one atom. Literals stay bytes, untouched, so two
 * servers' answers can be compared octet for octet.
 */
import net from 'node:net';

/** A parsed value: atom (string), NIL (null), string or literal (bytes), or a parenthesized list. */
export type ImapValue = string | null | Uint8Array | ImapValue[];

/** One FETCH response: sequence number and its items, keyed by upper-cased item name (e.g. `BODY[]`, `FLAGS`). */
export interface FetchRecord {
  seq: number;
  items: Map<string, ImapValue>;
}

class NeedMore extends Error {}

export class ImapReader {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.wake?.(); });
    socket.on('close', () => { this.closed = true; this.wake?.(); });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<ImapReader> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const r = new ImapReader(socket);
    await r.response(); // greeting
    return r;
  }

  /** Send `tag text` and return the untagged responses and the tagged completion line (as values). */
  async command(tag: string, text: string, ms = 60_000): Promise<{ untagged: ImapValue[][]; done: ImapValue[] }> {
    this.socket.write(`${tag} ${text}\r\n`);
    const untagged: ImapValue[][] = [];
    const deadline = Date.now() + ms;
    for (;;) {
      const r = await this.response(deadline);
      if (r[0] === tag) return { untagged, done: r };
      untagged.push(r);
    }
  }

  /** `command`, failing unless the completion is OK; returns the FETCH records. */
  async fetch(tag: string, text: string): Promise<FetchRecord[]> {
    const { untagged, done } = await this.command(tag, text);
    if (done[1] !== 'OK') throw new Error(`${text}: ${done.map(show).join(' ')}`);
    return untagged.filter((r) => r[0] === '*' && r[2] === 'FETCH').map((r) => {
      const list = r[3] as ImapValue[];
      const items = new Map<string, ImapValue>();
      for (let i = 0; i + 1 < list.length; i += 2) items.set(String(list[i]).toUpperCase(), list[i + 1]!);
      return { seq: Number(r[1]), items };
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private async response(deadline = Date.now() + 10_000): Promise<ImapValue[]> {
    for (;;) {
      try {
        const p = new Parser(this.buf);
        const values = p.line();
        this.buf = this.buf.subarray(p.pos);
        return values;
      } catch (err) {
        if (!(err instanceof NeedMore)) throw err;
      }
      if (this.closed) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error('timeout waiting for a response');
      await new Promise<void>((r) => { this.wake = r; setTimeout(r, 200); });
      this.wake = null;
    }
  }
}

class Parser {
  pos = 0;
  constructor(private readonly b: Buffer) {}

  /** One response line, up to and including its CRLF; the response text after a status is kept as one string. */
  line(): ImapValue[] {
    const out: ImapValue[] = [];
    for (;;) {
      if (this.pos >= this.b.length) throw new NeedMore();
      const c = this.b[this.pos]!;
      if (c === 0x0d) { this.expect('\r\n'); return out; }
      if (c === 0x20) { this.pos++; continue; }
      // After `tag OK|NO|BAD|BYE|PREAUTH` (or `+`) the rest is text: keep it whole.
      if (out.length >= 2 && typeof out[1] === 'string' && /^(OK|NO|BAD|BYE|PREAUTH)$/i.test(out[1]) || out[0] === '+') {
        const end = this.b.indexOf('\r\n', this.pos);
        if (end < 0) throw new NeedMore();
        out.push(this.b.subarray(this.pos, end).toString('latin1'));
        this.pos = end;
        continue;
      }
      out.push(this.value());
    }
  }

  private value(): ImapValue {
    if (this.pos >= this.b.length) throw new NeedMore();
    const c = this.b[this.pos]!;
    if (c === 0x28) { // (
      this.pos++;
      const list: ImapValue[] = [];
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

  /** An atom; `[...]` (with spaces and parentheses inside) and a following `<n>` belong to it. */
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

/** Human-readable form of a value (for messages). */
export function show(v: ImapValue): string {
  if (v === null) return 'NIL';
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('latin1'));
  if (Array.isArray(v)) return `(${v.map(show).join(' ')})`;
  return v;
}
