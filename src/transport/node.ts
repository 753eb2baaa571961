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
    const session = serveSocket(socket, info, opts, () => live.delete(socket));
    live.set(socket, session);
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

/** Wire one accepted socket to a pump, with back-pressure both ways and in-place STARTTLS. */
function serveSocket(raw: net.Socket, info: ConnectionInfo, opts: NodeListenerOptions, onGone: () => void): ListenerSession {
  let socket: net.Socket = raw;
  let closed = false;
  raw.setNoDelay(true);

  const transport: Transport = {
    write(bytes) {
      if (closed || socket.destroyed) return Promise.resolve();
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
    },
    async upgradeTls() {
      if (!opts.tls) throw new Error('no TLS context');
      socket.off('data', onData);
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: opts.tls.context, SNICallback: sniCallback(opts) });
      secure.on('error', () => secure.destroy());
      socket = secure;
      attach(secure);
      secure.once('secure', () => session.onTlsActive(typeof secure.servername === 'string' ? secure.servername : undefined));
    },
    close() {
      if (closed) return;
      closed = true;
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    },
  };
  const session = opts.makeSession(info, { write: (b) => transport.write(b), close: () => transport.close() });
  const pump = new Pump(transport, session, opts.limits);

  function onData(chunk: Buffer): void {
    socket.pause();
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    pump.feed(bytes).then(
      () => {
        if (closed) return;
        socket.setTimeout(session.idleTimeoutMs());
        socket.resume();
      },
      (err: unknown) => {
        opts.onError?.(err instanceof Error ? err : new Error(String(err)));
        socket.destroy();
      },
    );
  }
  function attach(s: net.Socket): void {
    s.on('data', onData);
    s.setTimeout(session.idleTimeoutMs());
    s.on('timeout', () => {
      void session.onIdleTimeout().finally(() => transport.close());
    });
  }

  raw.on('error', () => raw.destroy());
  raw.on('close', () => {
    closed = true;
    session.onDisconnect();
    onGone();
  });
  attach(raw);
  socket.pause();
  pump.start().then(
    () => !closed && socket.resume(),
    () => socket.destroy(),
  );
  return session;
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
