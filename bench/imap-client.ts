/**
 * A minimal, fast IMAP client for benchmarks: TCP, pipelining, byte counting. It parses only what a benchmark
 * needs: response boundaries (CRLF, with server literals `{n}` skipped without copying, RFC 9051 §4.3), tagged
 * status lines and the count of untagged FETCH responses. imapflow is not used: its parsing would dominate.
 */
import net from 'node:net';
import tls from 'node:tls';

/** What one command produced (RFC 9051 §7: untagged data then one tagged status response). */
export interface CommandResult {
  status: 'OK' | 'NO' | 'BAD';
  text: string;
  /** Untagged `* n FETCH` responses. */
  fetches: number;
  /** Octets of server literals (message data) in the untagged responses. */
  literalBytes: number;
  /** All octets received for this command, tagged line included. */
  bytes: number;
  /** Untagged response lines (literal contents left out), only when asked for. */
  lines: string[];
  /** From writing the command to reading its tagged line. */
  ms: number;
}

interface Pending {
  tag: string;
  keepLines: boolean;
  started: number;
  result: CommandResult;
  resolve(r: CommandResult): void;
  reject(e: Error): void;
}

const CR = 13;
const LF = 10;
const LITERAL_AT_END = /\{(\d+)\}$/;

export class ImapClient {
  private pending: Pending[] = [];
  private carry: Buffer = Buffer.alloc(0);
  /** Octets of a literal still to be skipped. */
  private skip = 0;
  /** The current logical response line (text parts around literals), kept only when wanted. */
  private lineText = '';
  private greeting: ((line: string) => void) | null = null;
  private nextTag = 1;
  private failure: Error | null = null;
  /** Waiting for a command continuation request (`+ `, RFC 9051 §7.5), e.g. IDLE's. */
  private continuation: (() => void) | null = null;
  /** Sees every untagged response line (literal contents left out), e.g. what arrives during IDLE. */
  onUntagged: ((line: string) => void) | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Connects and waits for the server greeting (RFC 9051 §7.1.1 `* OK`). */
  static async connect(port: number, host = '127.0.0.1', o: { tls?: boolean } = {}): Promise<ImapClient> {
    const socket = o.tls ? tls.connect({ host, port, rejectUnauthorized: false }) : net.connect({ host, port });
    const client = new ImapClient(socket);
    const line = await new Promise<string>((resolve, reject) => {
      client.greeting = resolve;
      socket.once('error', reject);
      // A server that accepts and then dies (e.g. a crashing imap-login) must not leave us waiting forever.
      socket.once('close', () => reject(new Error('connection closed before the greeting')));
      const timer = setTimeout(() => reject(new Error('no greeting within 10 s')), 10_000);
      socket.once('data', () => clearTimeout(timer));
    });
    if (!line.startsWith('* OK') && !line.startsWith('* PREAUTH')) throw new Error(`bad greeting: ${line}`);
    return client;
  }

  /** Sends one command (without tag and CRLF); several may be outstanding (pipelining). */
  command(text: string | Uint8Array[], opts: { keepLines?: boolean } = {}): Promise<CommandResult> {
    if (this.failure) return Promise.reject(this.failure);
    const tag = `b${this.nextTag++}`;
    return new Promise((resolve, reject) => {
      const result: CommandResult = { status: 'BAD', text: '', fetches: 0, literalBytes: 0, bytes: 0, lines: [], ms: 0 };
      this.pending.push({ tag, keepLines: opts.keepLines ?? false, started: performance.now(), result, resolve, reject });
      if (typeof text === 'string') this.socket.write(`${tag} ${text}\r\n`);
      else {
        this.socket.write(`${tag} `);
        for (const part of text) this.socket.write(part);
        this.socket.write('\r\n');
      }
    });
  }

  /** IDLE (RFC 2177): resolves once the server's `+` continuation arrived; `done()` sends DONE and awaits the OK. */
  async idle(): Promise<{ done(): Promise<CommandResult> }> {
    const seen = new Promise<void>((resolve) => { this.continuation = resolve; });
    const finished = this.command('IDLE');
    await Promise.race([seen, finished.then((r) => { throw new Error(`IDLE: ${r.status} ${r.text}`); })]);
    return { done: () => { this.socket.write('DONE\r\n'); return finished; } };
  }

  /** Like `command`, but a NO/BAD is an exception. */
  async ok(text: string, opts: { keepLines?: boolean } = {}): Promise<CommandResult> {
    const r = await this.command(text, opts);
    if (r.status !== 'OK') throw new Error(`${text.slice(0, 60)}: ${r.status} ${r.text}`);
    return r;
  }

  /** LOGOUT, then waits (up to 5 s) for the server to close the connection: its session is over. */
  async logout(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (this.socket.destroyed) resolve();
      this.socket.once('close', () => resolve());
    });
    await this.command('LOGOUT').catch(() => undefined);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
    this.socket.destroy();
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const p of this.pending.splice(0)) p.reject(e);
  }

  private onData(chunk: Buffer): void {
    const head = this.pending[0];
    if (head) head.result.bytes += chunk.length;
    let buf = chunk;
    if (this.skip > 0) {
      const n = Math.min(this.skip, buf.length);
      this.skip -= n;
      buf = buf.subarray(n);
      if (this.skip > 0) return;
    }
    if (this.carry.length) buf = Buffer.concat([this.carry, buf]);
    let pos = 0;
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      if (lf < 0) break;
      const end = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
      const part = buf.toString('latin1', pos, end);
      pos = lf + 1;
      const lit = LITERAL_AT_END.exec(part);
      if (lit) {
        const n = Number(lit[1]);
        this.lineText += part;
        const p = this.pending[0];
        if (p) p.result.literalBytes += n;
        const have = Math.min(n, buf.length - pos);
        pos += have;
        if (have < n) {
          this.skip = n - have;
          this.carry = Buffer.alloc(0);
          return;
        }
        continue;
      }
      this.onLine(this.lineText + part);
      this.lineText = '';
    }
    this.carry = pos < buf.length ? Buffer.from(buf.subarray(pos)) : Buffer.alloc(0);
  }

  /** One complete response (literal contents left out). */
  private onLine(line: string): void {
    if (this.greeting) {
      const g = this.greeting;
      this.greeting = null;
      g(line);
      return;
    }
    if (line.startsWith('* ')) this.onUntagged?.(line);
    if (line.startsWith('+') && this.continuation) {
      const c = this.continuation;
      this.continuation = null;
      c();
    }
    const p = this.pending[0];
    if (!p) return;
    if (line.startsWith('* ') || line.startsWith('+ ')) {
      if (line.startsWith('+ ')) return; // continuation: LITERAL+ senders ignore it
      if (/^\* \d+ FETCH /.test(line)) p.result.fetches++;
      if (p.keepLines) p.result.lines.push(line);
      return;
    }
    if (!line.startsWith(p.tag + ' ')) return;
    const rest = line.slice(p.tag.length + 1);
    p.result.status = rest.startsWith('OK') ? 'OK' : rest.startsWith('NO') ? 'NO' : 'BAD';
    p.result.text = rest;
    p.result.ms = performance.now() - p.started;
    this.pending.shift();
    p.resolve(p.result);
  }
}
