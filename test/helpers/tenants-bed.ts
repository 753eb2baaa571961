/**
 * Two tenants, each with its own embedded JMAP store, host name and self-signed certificate, behind one gateway
 * (issue #5: certificates by SNI, tenant routing, isolation, per-tenant limits). Tenant "a" serves
 * alice@a.test at imap.a.test; tenant "b" serves bob@b.test at imap.b.test and adds AUTH=LOGIN to AUTH=PLAIN,
 * so the CAPABILITY of a connection shows which tenant its SNI name picked.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { parseTenants, tenantAuthenticator, type TenantConfig, type TenantsDocument } from '../../src/auth/tenants.ts';
import { startNodeGateway, type NodeGateway, type NodeGatewayOptions } from '../../src/transport/node-gateway.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import type { Logger } from '../../src/session/context.ts';
import { AuthThrottle, type ThrottleSettings } from '../../src/auth/throttle.ts';
import { tenantThrottleLookup } from '../../src/auth/tenant-limits.ts';

export interface BedTenant {
  id: string;
  hostname: string;
  user: string;
  password: string;
  store: EmbeddedStore;
  certFile: string;
  keyFile: string;
}

export interface TenantsBed {
  imapPort: number;
  imapsPort: number;
  gateway: NodeGateway;
  doc: TenantsDocument;
  a: BedTenant;
  b: BedTenant;
  dir: string;
  logs: string[];
  close(): Promise<void>;
}

/** A self-signed certificate for `name` (CN and DNS SAN), written to `dir`. */
export async function writeCert(dir: string, name: string): Promise<{ certFile: string; keyFile: string }> {
  const pems = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + 86400_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: name }] }],
  });
  const certFile = join(dir, `${name}.cert.pem`);
  const keyFile = join(dir, `${name}.key.pem`);
  writeFileSync(certFile, pems.cert);
  writeFileSync(keyFile, pems.private);
  return { certFile, keyFile };
}

export interface TenantsBedOptions {
  /** Extra properties of tenant a / b (limits, requireTls...). */
  a?: Partial<TenantConfig>;
  b?: Partial<TenantConfig>;
  gateway?: Partial<NodeGatewayOptions>;
  /** Listener-wide failed-login throttle; tenants' `limits.throttle` override it (tenantThrottleLookup). */
  throttle?: ThrottleSettings;
}

export async function startTenantsBed(o: TenantsBedOptions = {}): Promise<TenantsBed> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-tenants-'));
  const make = async (id: string, user: string): Promise<BedTenant & { url: string; closeHttp(): Promise<void> }> => {
    const store = openEmbeddedStore({ dbPath: join(dir, `${id}.sqlite`) });
    const password = `pw-of-${id}`;
    store.createUser(user, password);
    const http = await store.listen(0, '127.0.0.1');
    const hostname = `imap.${id}.test`;
    return { id, hostname, user, password, store, ...(await writeCert(dir, hostname)), url: http.url, closeHttp: http.close };
  };
  const a = await make('a', 'alice@a.test');
  const b = await make('b', 'bob@b.test');
  const tenant = (t: typeof a, extra: Partial<TenantConfig> | undefined, mechanisms: TenantConfig['mechanisms']): TenantConfig => ({
    id: t.id,
    jmapSessionUrl: `${t.url}/.well-known/jmap`,
    hostnames: [t.hostname],
    domains: [`${t.id}.test`],
    mechanisms,
    tls: { certFile: t.certFile, keyFile: t.keyFile },
    ...extra,
  });
  const doc = parseTenants({ tenants: [tenant(a, o.a, ['PLAIN']), tenant(b, o.b, ['PLAIN', 'LOGIN'])] });
  const logs: string[] = [];
  const line = (level: string) => (obj: object, msg?: string) => void logs.push(JSON.stringify({ level, ...obj, msg }));
  const logger: Logger = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  const uidStore = SqliteUidStore.open(join(dir, 'uidmap.sqlite'));
  const release = async (): Promise<void> => {
    await uidStore.close();
    for (const t of [a, b]) {
      await t.closeHttp();
      t.store.close();
    }
    rmSync(dir, { recursive: true, force: true });
  };
  let gateway: NodeGateway;
  try {
    gateway = await startNodeGateway({
      host: '127.0.0.1',
      imapPort: 0,
      imapsPort: 0,
      dataDir: dir,
      authenticator: tenantAuthenticator(doc, { logger, timeoutMs: 3000 }),
      uidStore,
      logger,
      authFailureDelayMs: 20,
      tenants: doc,
      ...(o.throttle ? { throttle: new AuthThrottle(o.throttle, undefined, tenantThrottleLookup(doc)) } : {}),
      ...o.gateway,
    });
  } catch (err) {
    await release();
    throw err;
  }
  return {
    imapPort: gateway.imapPort!,
    imapsPort: gateway.imapsPort!,
    gateway, doc, a, b, dir, logs,
    async close() {
      await gateway.close(1000);
      await release();
    },
  };
}

/** A line-oriented IMAP client that can name an SNI server name (implicit TLS or STARTTLS). */
export class SniClient {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(private socket: net.Socket) {
    this.attach(socket);
  }

  /** Implicit TLS with `servername` (none: no SNI extension), or cleartext when `servername` is null and tls false. */
  static connect(port: number, o: { tls: boolean; servername?: string; socket?: net.Socket }): Promise<SniClient> {
    return new Promise((resolve, reject) => {
      const socket: net.Socket = o.tls
        ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(o.socket ? { socket: o.socket } : {}), ...(o.servername ? { servername: o.servername } : {}) }, () => resolve(new SniClient(socket)))
        : net.connect({ host: '127.0.0.1', port }, () => resolve(new SniClient(socket)));
      socket.once('error', reject);
    });
  }

  /** The common name of the certificate the server presented. */
  peerCommonName(): string | undefined {
    const cn = (this.socket as tls.TLSSocket).getPeerCertificate?.()?.subject?.CN;
    return Array.isArray(cn) ? cn[0] : cn;
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('error', () => undefined);
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  async line(ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i >= 0) {
        const l = this.buf.subarray(0, i).toString('latin1');
        this.buf = this.buf.subarray(i + 2);
        return l;
      }
      if (this.closed) throw new Error(`connection closed; pending: ${JSON.stringify(this.buf.toString('latin1'))}`);
      if (Date.now() > deadline) throw new Error(`timeout; pending: ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async command(tag: string, text: string, ms = 5000): Promise<string[]> {
    this.write(`${tag} ${text}\r\n`);
    const lines: string[] = [];
    for (;;) {
      const l = await this.line(ms);
      lines.push(l);
      if (l.startsWith(`${tag} `)) return lines;
    }
  }

  /** STARTTLS's tagged OK has been read: negotiate TLS with `servername`. */
  async startTls(servername?: string): Promise<void> {
    this.socket.removeAllListeners('data');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: this.socket, rejectUnauthorized: false, ...(servername ? { servername } : {}) }, () => resolve(s));
      s.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * A PROXY protocol v2 header (HAProxy spec §2.2) as a TLS terminator + balancer sends it: TCP4 from `source`, with
 * PP2_TYPE_SSL (PP2_CLIENT_SSL, version TLSv1.3) when `tls`, and PP2_TYPE_AUTHORITY = `authority` (the SNI name).
 */
export function proxyV2Header(o: { source: string; tls?: boolean; authority?: string }): Uint8Array {
  const tlv = (type: number, value: number[]): number[] => [type, value.length >> 8, value.length & 0xff, ...value];
  const bytes = (s: string): number[] => [...Buffer.from(s, 'latin1')];
  const tlvs = [
    ...(o.tls ? tlv(0x20, [0x01, 0, 0, 0, 0, ...tlv(0x21, bytes('TLSv1.3'))]) : []),
    ...(o.authority ? tlv(0x02, bytes(o.authority)) : []),
  ];
  const body = [...o.source.split('.').map(Number), 192, 0, 2, 1, 0xc0, 0x00, 0x00, 0x8f, ...tlvs];
  const sig = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
  return new Uint8Array([...sig, 0x21, 0x11, body.length >> 8, body.length & 0xff, ...body]);
}
