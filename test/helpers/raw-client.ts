/** A bare TCP (or TLS) IMAP client for byte-level tests: send exact bytes, read exact lines. */
import net from 'node:net';
import tls from 'node:tls';

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(private socket: net.Socket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static connect(port: number, opts: { tls?: boolean } = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = opts.tls
        ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(new RawClient(socket)))
        : net.connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** Read one line (without CRLF), waiting up to `ms`. */
  async line(ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i >= 0) {
        const line = this.buf.subarray(0, i).toString('latin1');
        this.buf = this.buf.subarray(i + 2);
        return line;
      }
      if (this.closed) throw new Error(`connection closed; pending: ${JSON.stringify(this.buf.toString('latin1'))}`);
      if (Date.now() > deadline) throw new Error(`timeout waiting for a line; pending: ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** Read lines until the tagged completion for `tag`; returns all lines, the tagged one last. */
  async until(tag: string, ms = 5000): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.line(ms);
      lines.push(l);
      if (l.startsWith(tag + ' ')) return lines;
    }
  }

  /** Send a command line and collect its response lines. */
  async command(tag: string, text: string, ms = 5000): Promise<string[]> {
    this.write(`${tag} ${text}\r\n`);
    return this.until(tag, ms);
  }

  /** Wait until the server closes the connection. */
  async waitClosed(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('server did not close the connection');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Bytes received and not yet read. */
  pending(): string {
    return this.buf.toString('latin1');
  }

  /** Upgrade to TLS in place (after a STARTTLS OK). */
  async startTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: this.socket, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}
