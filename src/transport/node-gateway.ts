/**
 * A whole gateway on Node: listeners, TLS material, UID store and authenticator wired together.
 * Used by `src/node.ts` (npm start) and by the end-to-end tests, which start it on free loopback ports.
 */
import { newSession } from '../gateway.ts';
import type { Limits } from '../protocol/limits.ts';
import { DEFAULT_LIMITS } from '../protocol/limits.ts';
import { DEFAULT_TIMEOUTS, silentLogger, type Authenticator, type GatewayConfig, type Logger } from '../session/context.ts';
import type { UidStore } from '../uidmap/store.ts';
import type { MessageCache } from '../cache/message-cache.ts';
import { ConnectionLimits, DEFAULT_CONNECTION_LIMITS, type ConnectionLimitSettings } from '../session/connection-limits.ts';
import { SqliteMessageCache } from '../cache/sqlite.ts';
import { join } from 'node:path';
import type { AuthThrottle } from '../auth/throttle.ts';
import { ChangeHub, DEFAULT_WATCH, type WatchOptions } from '../session/watch.ts';
import { startNodeListener, type NodeListener } from './node.ts';
import { nativeFetch, nodeFetch } from './node-fetch.ts';
import { preferFetch } from '../backend/jmap/runtime-fetch.ts';
import { ensureTlsFiles, loadTenantContexts, loadTls, type TlsFiles } from './node-tls.ts';
import type { TenantsDocument } from '../auth/tenants.ts';
import { tenantLimitLookup } from '../auth/tenant-limits.ts';
import type { AccountPolicy } from '../session/policy.ts';
import type { RawCache } from '../session/raw-cache.ts';

export interface NodeGatewayOptions {
  host: string;
  /** Cleartext + STARTTLS port; 0 = free port; -1 = off. */
  imapPort: number;
  /** Implicit TLS port; 0 = free port; -1 = off. */
  imapsPort: number;
  dataDir: string;
  tlsCert?: string;
  tlsKey?: string;
  authenticator: Authenticator;
  uidStore: UidStore;
  limits?: Limits;
  logger?: Logger;
  authFailureDelayMs?: number;
  /** Failed-auth throttling (growing delay per user and IP, temporary IP block). */
  throttle?: AuthThrottle;
  loopbackIsSecure?: boolean;
  allowCleartextAuth?: boolean;
  idleTimeoutMs?: number;
  preAuthTimeoutMs?: number;
  /** Every connection starts with a PROXY protocol v2 header (behind a load balancer); loopback is then not trusted. */
  proxyProtocol?: boolean;
  /** Connections per client address and per user (defaults: 256 and 64). */
  connectionLimits?: Partial<ConnectionLimitSettings>;
  /** Header blocks from JMAP `headers` (default) or always from the raw message: see GatewayConfig.headerSource. */
  headerSource?: 'jmap' | 'raw';
  /** Default COPY / SEARCH TEXT mapping for accounts whose tenant sets none: see GatewayConfig.policy. */
  policy?: AccountPolicy;
  /** The immutable-data cache; default: SQLite in the data directory (`cache.sqlite`). */
  messageCache?: MessageCache;
  /** The raw-message cache (src/session/raw-cache.ts); default: the process-wide one (128 MiB). */
  rawCache?: RawCache;
  /** IDLE change watching: poll interval without push, coalescing window. */
  watch?: Partial<WatchOptions>;
  /**
   * The tenants document, for what the listeners do per tenant: certificates by SNI name (`tls`, loaded now: a bad
   * file throws TlsConfigError) and connection limits (`limits`). The authenticator is built from it separately.
   */
  tenants?: TenantsDocument;
}

export interface NodeGateway {
  /** Bound ports (undefined when that listener is off). */
  imapPort?: number;
  imapsPort?: number;
  tls: TlsFiles;
  config: GatewayConfig;
  /** Graceful: BYE to every client after its running command, then close. */
  close(graceMs?: number): Promise<void>;
}

export const SERVER_NAME = 'imap-jmap-gateway';
export const SERVER_VERSION = '0.1.0';

export async function startNodeGateway(o: NodeGatewayOptions): Promise<NodeGateway> {
  preferFetch(nodeFetch, nativeFetch); // JMAP POSTs over node:http, not undici's fetch (node-fetch.ts: CPU per request)
  const tlsFiles = await ensureTlsFiles(o.dataDir, o.tlsCert || undefined, o.tlsKey || undefined);
  const tenantContexts = loadTenantContexts(o.tenants?.tenants ?? []);
  const tlsMaterial = { ...loadTls(tlsFiles), sni: (name: string) => tenantContexts.get(name.toLowerCase()) };
  const config: GatewayConfig = {
    authenticator: o.authenticator,
    uidStore: o.uidStore,
    limits: o.limits ?? DEFAULT_LIMITS,
    logger: o.logger ?? silentLogger,
    authFailureDelayMs: o.authFailureDelayMs ?? DEFAULT_TIMEOUTS.authFailureDelayMs,
    ...(o.throttle ? { throttle: o.throttle } : {}),
    loopbackIsSecure: o.proxyProtocol ? false : (o.loopbackIsSecure ?? true),
    allowCleartextAuth: o.allowCleartextAuth ?? false,
    idleTimeoutMs: o.idleTimeoutMs ?? DEFAULT_TIMEOUTS.idleTimeoutMs,
    preAuthTimeoutMs: o.preAuthTimeoutMs ?? DEFAULT_TIMEOUTS.preAuthTimeoutMs,
    headerSource: o.headerSource ?? 'jmap',
    ...(o.policy ? { policy: o.policy } : {}),
    connectionLimits: new ConnectionLimits({ ...DEFAULT_CONNECTION_LIMITS, ...o.connectionLimits }, o.tenants ? tenantLimitLookup(o.tenants) : undefined),
    messageCache: o.messageCache ?? SqliteMessageCache.open(join(o.dataDir, 'cache.sqlite')),
    ...(o.rawCache ? { rawCache: o.rawCache } : {}),
    changeHub: new ChangeHub({ ...DEFAULT_WATCH, ...o.watch }, o.logger),
    serverName: SERVER_NAME,
    serverVersion: SERVER_VERSION,
  };
  const listeners: NodeListener[] = [];
  const start = (port: number, implicitTls: boolean): Promise<NodeListener> =>
    startNodeListener({
      host: o.host,
      port,
      implicitTls,
      tls: tlsMaterial,
      limits: config.limits,
      ...(o.proxyProtocol ? { proxyProtocol: true } : {}),
      makeSession: (info, io) =>
        newSession(config, { id: info.id, remoteAddress: info.remoteAddress, tls: info.tls, starttls: info.starttls, ...(info.serverName ? { serverName: info.serverName } : {}) }, io),
      onError: (err) => config.logger.error({ err: err.message }, 'listener error'),
    });
  const gateway: NodeGateway = {
    tls: tlsFiles,
    config,
    async close(graceMs = 5000) {
      await Promise.all(listeners.map((l) => l.close(graceMs)));
      if (!o.messageCache) await config.messageCache?.close();
    },
  };
  if (o.imapPort >= 0) {
    const l = await start(o.imapPort, false);
    listeners.push(l);
    gateway.imapPort = l.port;
  }
  if (o.imapsPort >= 0) {
    const l = await start(o.imapsPort, true);
    listeners.push(l);
    gateway.imapsPort = l.port;
  }
  return gateway;
}
