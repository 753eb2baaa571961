/**
 * Node adapter: IMAP listeners on `net` (cleartext + STARTTLS, RFC 9051 §6.2.1) and `tls` (implicit TLS,
 * RFC 8314 §3.2). It only moves bytes: framing, limits and the session live in the runtime-neutral core.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import { Pump, type SessionPort, type Transport } from './pump.ts';
import type { Limits } from '../protocol/limits.ts';
import { parseProxyV2 } from './proxy-v2.ts';

/** Facts about a connection the session needs (security decides LOGINDISABLED, RFC 9051 §6.2.3). */
export interface ConnectionInfo {
  id: number;
  remoteAddress: string;
  remotePort: number;
  localPort: number;
  /** TLS is active (implicit TLS, or after STARTTLS). */
  tls: boolean;
  /** The listener offers STARTTLS. */
  starttls: boolean;
  /** TLS SNI server name the client asked for (implicit TLS, or PROXY v2 PP2_TYPE_AUTHORITY), used to pick the tenant. */
  serverName?: string;
}

/** What a PROXY v2 header said of the client (HAProxy spec §2.2; see proxy-v2.ts). */
interface ProxiedFacts {
  source?: { address: string; port: number };
  /** A TLS terminator in front of the balancer decrypted the client's TLS 1.2 or later (PP2_TYPE_SSL). */
  tls: boolean;
  /** The client's SNI name as the terminator saw it (PP2_TYPE_AUTHORITY). */
  authority?: string;
}

/** The session side of a connection, as the listener sees it. */
export interface ListenerSession extends SessionPort {
  /** Called after the transport switched to TLS (STARTTLS completed), with the client's SNI name if any. */
  onTlsActive(serverName?: string): void;
  /** Graceful shutdown: send `* BYE` once no command is running, then the pump closes. */
  shutdown(text: string): Promise<void>;
  /** Inactivity (RFC 9051 §5.4): send `* BYE` and close. */
  onIdleTimeout(): Promise<void>;
  /** Milliseconds of allowed inactivity in the current state. */
  idleTimeoutMs(): number;
  /** The connection closed (either side): release what the session holds. */
  onDisconnect(): void;
}

export interface NodeListenerOptions {
  host: string;
  port: number;
  /** Implicit TLS (993-style) when true; cleartext with STARTTLS when false and `tls` is given. */
  implicitTls: boolean;
  /**
   * TLS material: PEM key and certificate, and the context built from them (used for STARTTLS), plus `sni`, the
   * context of a client's SNI name (per-tenant certificates, RFC 6066 §3); the default context when it has none.
   */
  tls?: { key: Buffer; cert: Buffer; context: tls.SecureContext; sni?: (serverName: string) => tls.SecureContext | undefined };
  limits?: Limits;
  /**
   * Expect a PROXY protocol v2 header on every connection (behind a load balancer): the client address comes from
   * it; a connection without a valid header is closed. With implicit TLS the header precedes the handshake. On a
   * cleartext listener, the header's PP2_TYPE_SSL (client used TLS 1.2+ to the terminator) makes the connection
   * count as TLS, and its PP2_TYPE_AUTHORITY is taken as the SNI name.
   */
  proxyProtocol?: boolean;
  /** Build the session of a new connection; `io` writes to it (with back-pressure) and closes it. */
  makeSession(info: ConnectionInfo, io: { write(bytes: Uint8Array): Promise<void>; close(): void }): ListenerSession;
  onError?(err: Error): void;
}

export interface NodeListener {
  readonly port: number;
  /** Stop accepting, BYE every client (after its running command), wait up to `graceMs`, then destroy. */
  close(graceMs?: number): Promise<void>;
  connectionCount(): number;
}

let nextConnectionId = 1;

export async function startNodeListener(opts: NodeListenerOptions): Promise<NodeListener> {
  const live = new Map<net.Socket, ListenerSession>();
  const onSocket = (socket: net.Socket, proxied?: ProxiedFacts): void => {
    const sni = opts.implicitTls && typeof (socket as tls.TLSSocket).servername === 'string' ? ((socket as tls.TLSSocket).servername as string) : undefined;
    const serverName = sni ?? proxied?.authority;
    const secure = opts.implicitTls || proxied?.tls === true;
    const info: ConnectionInfo = {
      id: nextConnectionId++,
      remoteAddress: proxied?.source?.address ?? socket.remoteAddress ?? '',
      remotePort: proxied?.source?.port ?? socket.remotePort ?? 0,
      localPort: socket.localPort ?? 0,
      tls: secure,
      starttls: !secure && opts.tls !== undefined,
      ...(serverName ? { serverName } : {}),
    };
    live.set(socket, new NodeConnection(socket, info, opts, live).session);
  };
  const server = opts.proxyProtocol
    ? net.createServer((raw) => acceptProxied(raw, opts, onSocket))
    : opts.implicitTls
      ? tls.createServer({ key: opts.tls!.key, cert: opts.tls!.cert, minVersion: 'TLSv1.2', SNICallback: sniCallback(opts) }, (s) => onSocket(s))
      : net.createServer((s) => onSocket(s));
  server.on('error', (e) => opts.onError?.(e));
  if (opts.implicitTls) server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    connectionCount: () => live.size,
    async close(graceMs = 5000) {
      const closed = new Promise<void>((r) => server.close(() => r()));
      await Promise.race([
        Promise.all([...live.values()].map((s) => s.shutdown('Server shutting down'))),
        delay(graceMs),
      ]);
      const deadline = Date.now() + graceMs;
      while (live.size > 0 && Date.now() < deadline) await delay(20);
      for (const sock of live.keys()) sock.destroy();
      await closed;
    },
  };
}

/**
 * One accepted socket wired to a pump, with back-pressure both ways and in-place STARTTLS. A class rather than
 * closures: its methods are shared by all connections, so an idle connection holds only its fields and three small
 * listeners ('data', 'close', 'timeout'); memory per idle connection, issue 8 / docs/bench/profile.md. It is also
 * the session's `io`.
 */
class NodeConnection implements Transport {
  private socket: net.Socket;
  private closed = false;
  readonly session: ListenerSession;
  private readonly pump: Pump;
  private readonly onData: (chunk: Buffer) => void;

  constructor(
    raw: net.Socket,
    info: ConnectionInfo,
    private readonly opts: NodeListenerOptions,
    live: Map<net.Socket, ListenerSession>,
  ) {
    this.socket = raw;
    raw.setNoDelay(true);
    this.session = opts.makeSession(info, this);
    this.pump = new Pump(this, this.session, opts.limits);
    this.onData = this.data.bind(this);
    raw.on('error', destroySelf);
    raw.on('close', () => {
      this.closed = true;
      this.session.onDisconnect();
      live.delete(raw);
    });
    this.attach(raw);
    raw.pause();
    this.pump.start().then(
      () => !this.closed && this.socket.resume(),
      () => this.socket.destroy(),
    );
  }

  write(bytes: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (this.closed || socket.destroyed) return Promise.resolve();
    if (socket.write(bytes)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.once('drain', done);
      socket.once('close', done);
    });
  }

  async upgradeTls(): Promise<void> {
    const opts = this.opts;
    if (!opts.tls) throw new Error('no TLS context');
    this.socket.off('data', this.onData);
    const secure = new tls.TLSSocket(this.socket, { isServer: true, secureContext: opts.tls.context, SNICallback: sniCallback(opts) });
    secure.on('error', destroySelf);
    this.socket = secure;
    this.attach(secure);
    secure.once('secure', () => this.session.onTlsActive(typeof secure.servername === 'string' ? secure.servername : undefined));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const socket = this.socket;
    socket.end();
    setTimeout(() => socket.destroy(), 2000).unref();
  }

  private data(chunk: Buffer): void {
    this.socket.pause();
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pump.feed(bytes).then(
      () => {
        if (this.closed) return;
        this.socket.setTimeout(this.session.idleTimeoutMs());
        this.socket.resume();
      },
      (err: unknown) => {
        this.opts.onError?.(err instanceof Error ? err : new Error(String(err)));
        this.socket.destroy();
      },
    );
  }

  private attach(s: net.Socket): void {
    s.on('data', this.onData);
    s.setTimeout(this.session.idleTimeoutMs());
    s.on('timeout', () => {
      void this.session.onIdleTimeout().finally(() => this.close());
    });
  }
}

/** An 'error' listener: the emitter (`this`) is destroyed; one function for all sockets. */
function destroySelf(this: net.Socket): void {
  this.destroy();
}

/** Read the PROXY v2 header (within 5 s), then hand over the socket (TLS-wrapped for implicit TLS). */
function acceptProxied(raw: net.Socket, opts: NodeListenerOptions, onSocket: (s: net.Socket, proxied: ProxiedFacts) => void): void {
  let buffered = new Uint8Array(0);
  const timer = setTimeout(() => raw.destroy(), 5000);
  raw.on('error', () => raw.destroy());
  const onData = (chunk: Buffer): void => {
    const next = new Uint8Array(buffered.length + chunk.length);
    next.set(buffered);
    next.set(chunk, buffered.length);
    buffered = next;
    const header = parseProxyV2(buffered);
    if (header.status === 'incomplete') return;
    raw.off('data', onData);
    clearTimeout(timer);
    if (header.status === 'invalid') {
      raw.destroy();
      return;
    }
    raw.pause();
    const rest = buffered.subarray(header.consumed);
    const facts: ProxiedFacts = {
      ...(header.source ? { source: header.source } : {}),
      tls: header.tls !== undefined && !OLD_TLS.test(header.tls.version ?? ''),
      ...(header.authority ? { authority: header.authority } : {}),
    };
    if (!opts.implicitTls) {
      if (rest.length > 0) raw.unshift(Buffer.from(rest));
      onSocket(raw, facts);
      return;
    }
    // The client's first TLS bytes may have come with the header: TLS reads them through a stream that replays them.
    const secure = new tls.TLSSocket(replaying(raw, rest), { isServer: true, secureContext: opts.tls!.context, SNICallback: sniCallback(opts) });
    secure.on('error', () => secure.destroy());
    secure.once('secure', () => onSocket(secure, facts));
  };
  raw.on('data', onData);
}

/** Protocol versions below the TLS 1.2 minimum, as PP2_SUBTYPE_SSL_VERSION names them: not counted as secure. */
const OLD_TLS = /^(SSLv|TLSv1(\.[01])?$)/;

/** Per-tenant certificate by SNI name (RFC 6066 §3), else the listener's default. */
function sniCallback(opts: NodeListenerOptions): (name: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void {
  return (name, cb) => cb(null, opts.tls?.sni?.(name) ?? opts.tls?.context);
}

/** A duplex over `raw` that first yields `head` (octets already read from it). */
function replaying(raw: net.Socket, head: Uint8Array): Duplex {
  const d = new Duplex({
    read() {
      raw.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      raw.write(chunk, cb);
    },
    final(cb) {
      raw.end();
      cb();
    },
    destroy(err, cb) {
      raw.destroy();
      cb(err);
    },
  });
  if (head.length > 0) d.push(Buffer.from(head));
  raw.on('data', (c: Buffer) => {
    if (!d.push(c)) raw.pause();
  });
  raw.on('end', () => d.push(null));
  raw.on('close', () => d.destroy());
  return d;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
