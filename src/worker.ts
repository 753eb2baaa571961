/**
 * The Worker entry (wrangler.toml `main`): the same gateway core as on Node, on workerd.
 *
 * - `connect(socket)`: one IMAP connection, served by the unchanged pump and session (src/transport/workerd.ts).
 *   workerd's inbound sockets have no TLS and no STARTTLS; `TLS_TERMINATED=true` says a TLS terminator sits in
 *   front (the only setup in which clients may send credentials).
 * - `fetch`: hono routes: `GET /health`, and the Durable Object store HTTP API (src/edge/api.ts) for Node gateways.
 * - UID store: one UidStoreDO per account, called over RPC. Tenant configuration: read-only from KV (`tenants`),
 *   validated by the schema; an invalid document refuses logins (NO [UNAVAILABLE]) and says why in the log.
 * - Message cache: each account's UidStoreDO keeps its immutable-data cache (src/edge/do-cache.ts), shared by all
 *   connections and Node gateways of the account. Keywords and exact UNSEEN counts persist there too
 *   (src/edge/do-keyword-store.ts): the first `UID FETCH 1:* FLAGS` after a restart costs one `Email/changes`.
 * - IDLE: sessions long-poll their account's object, which owns the account's one watcher (src/edge/account-watch.ts):
 *   workerd forbids one request's I/O objects (a poller's fetches, a push stream) from being used by another
 *   request, so connections cannot share an in-isolate watcher. No timer is `unref`ed (workerd timers are numbers).
 */
import { Hono } from 'hono';
import { newSession } from './gateway.ts';
import { DEFAULT_LIMITS } from './protocol/limits.ts';
import { DEFAULT_TIMEOUTS, type AccountContext, type Authenticator, type GatewayConfig, type Logger } from './session/context.ts';
import { jmapBasicAuthenticator } from './auth/jmap-basic.ts';
import { parseTenants, tenantAuthenticator, TenantConfigError, type TenantsDocument } from './auth/tenants.ts';
import { basicAuth } from './backend/jmap/auth.ts';
import { ImapError } from './protocol/errors.ts';
import { serveStreamSocket, type StreamSocket } from './transport/workerd.ts';
import { uidStoreApi } from './edge/api.ts';
import { RpcUidStore } from './edge/rpc-uid-store.ts';
import { accountCacheAccess } from './edge/rpc-message-cache.ts';
import { AccountMessageCache } from './edge/account-cache.ts';
import { AccountKeywordStore, AccountUnseenCountStore, withKeywordStores, type KeywordStores } from './edge/account-keywords.ts';
import { rpcKeywordAccess } from './edge/rpc-keyword-store.ts';
import { ByteLru } from './cache/lru.ts';
import type { CachedMessage } from './cache/message-cache.ts';
import { DoChangeHub } from './edge/do-change-hub.ts';
import { accountObjectName, type UidStoreRpc } from './edge/do-uid-store.ts';
import type { ExecutionContext, Socket } from './edge/cf.ts';
import type { EdgeEnv } from './edge/env.ts';

export { UidStoreDO } from './edge/do-uid-store.ts';

const SERVER_NAME = 'imap-jmap-gateway';
const SERVER_VERSION = '0.1.0';
/** How long a tenants document read from KV is reused (KV is eventually consistent anyway). */
const TENANTS_TTL_MS = 60_000;

/** Warnings and errors to the Worker's log (console); never credentials or message content. */
const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn: (obj, msg) => console.warn(JSON.stringify({ level: 'warn', msg, ...obj })),
  error: (obj, msg) => console.error(JSON.stringify({ level: 'error', msg, ...obj })),
};

const workerFetch: typeof fetch = (input, init) => fetch(input, init);

/** What the isolate knows of the tenant configuration: the authenticator and where each tenant's JMAP lives. */
interface TenantSetup {
  auth: Authenticator;
  /** The JMAP Session URL of the tenant an account key (`<tenant>/<accountId>`) belongs to. */
  sessionUrlOf(accountKey: string): string | undefined;
}

let cachedSetup: { at: number; setup: TenantSetup } | null = null;

const refuseAll = (text: string): Authenticator => ({ login: () => Promise.reject(ImapError.no(text, 'UNAVAILABLE')) });
const tenantOf = (accountKey: string): string => accountKey.slice(0, Math.max(0, accountKey.lastIndexOf('/')));

/**
 * The tenant setup: the KV tenants document (validated by schema/tenants.schema.json) when there is one, else the
 * single tenant of the variables. Reused for TENANTS_TTL_MS. An invalid document is logged with the schema's
 * messages and every login is refused with NO [UNAVAILABLE] until it is fixed: never a guess at what was meant.
 */
async function tenantSetup(env: EdgeEnv): Promise<TenantSetup> {
  if (cachedSetup && Date.now() - cachedSetup.at < TENANTS_TTL_MS) return cachedSetup.setup;
  let setup: TenantSetup;
  try {
    const doc = env.TENANTS ? await env.TENANTS.get('tenants', 'json') : null;
    if (doc) {
      const parsed: TenantsDocument = parseTenants(doc);
      setup = {
        auth: tenantAuthenticator(parsed, { fetch: workerFetch, logger: consoleLogger }),
        sessionUrlOf: (key) => parsed.tenants.find((t) => t.id === tenantOf(key))?.jmapSessionUrl,
      };
    } else if (env.JMAP_SESSION_URL) {
      const url = env.JMAP_SESSION_URL;
      setup = { auth: jmapBasicAuthenticator({ sessionUrl: url, tenant: env.TENANT ?? 'default', fetch: workerFetch }), sessionUrlOf: () => url };
    } else {
      setup = { auth: refuseAll('No mail store configured'), sessionUrlOf: () => undefined };
    }
  } catch (err) {
    const problems = err instanceof TenantConfigError ? err.problems : [err instanceof Error ? err.message : String(err)];
    consoleLogger.error({ kv: 'TENANTS', key: 'tenants', problems }, 'tenants document from KV is invalid; logins are refused until it is fixed');
    setup = { auth: refuseAll('Gateway configuration error: logins are unavailable; try again later'), sessionUrlOf: () => undefined };
  }
  cachedSetup = { at: Date.now(), setup };
  return setup;
}

/** The authenticator of one connection: records the credential the login used, for the account's push watcher. */
function withCredentialTap(setup: TenantSetup, hub: DoChangeHub): Authenticator {
  const { auth } = setup;
  const keep = async (ctx: AccountContext, authorization: string): Promise<AccountContext> => {
    const sessionUrl = setup.sessionUrlOf(ctx.accountKey);
    if (sessionUrl) hub.credential = { sessionUrl, authorization };
    return ctx;
  };
  return {
    login: async (creds, c) => keep(await auth.login(creds, c), await basicAuth(creds.username, creds.password).header()),
    ...(auth.loginBearer ? { loginBearer: async (creds, c) => keep(await auth.loginBearer!(creds, c), `Bearer ${creds.token}`) } : {}),
    ...(auth.mechanisms ? { mechanisms: (c) => auth.mechanisms!(c) } : {}),
  };
}

const accountObject = (env: EdgeEnv, accountKey: string): UidStoreRpc =>
  env.UID_STORE.get(env.UID_STORE.idFromName(accountObjectName(accountKey))) as unknown as UidStoreRpc;

/** Per-account cache bound in the objects (bytes); CACHE_MAX_BYTES overrides. */
const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;
/**
 * The isolate's memory tier in front of the objects' caches, shared by its connections: plain immutable data, which
 * workerd lets requests share (only I/O objects are per request). Small: an isolate has 128 MB.
 */
const isolateCache = new ByteLru<CachedMessage>(8 * 1024 * 1024);
/**
 * The keyword and UNSEEN count stores, one per isolate: the keyword cache keeps one in-memory copy per store
 * (src/session/keyword-cache.ts), so the isolate's connections share it as before. Bindings are isolate-wide; each
 * call makes its stub in the calling request. Writes are not queued across requests (src/edge/account-keywords.ts).
 */
let isolateKeywordStores: KeywordStores | null = null;
const keywordStores = (env: EdgeEnv): KeywordStores => (isolateKeywordStores ??= (() => {
  const access = rpcKeywordAccess(env.UID_STORE);
  return { keywords: new AccountKeywordStore(access, false), unseenCounts: new AccountUnseenCountStore(access) };
})());

function gatewayConfig(env: EdgeEnv, setup: TenantSetup): GatewayConfig {
  const changeHub = new DoChangeHub((key) => accountObject(env, key), consoleLogger);
  return {
    authenticator: withCredentialTap(setup, changeHub),
    uidStore: new RpcUidStore(env.UID_STORE),
    messageCache: withKeywordStores(new AccountMessageCache(accountCacheAccess(env.UID_STORE), Number(env.CACHE_MAX_BYTES ?? DEFAULT_CACHE_BYTES),
      (err) => consoleLogger.warn({ err: String(err) }, 'message cache unreachable'), isolateCache), keywordStores(env)),
    limits: DEFAULT_LIMITS,
    logger: consoleLogger,
    authFailureDelayMs: Number(env.AUTH_FAILURE_DELAY_MS ?? DEFAULT_TIMEOUTS.authFailureDelayMs),
    loopbackIsSecure: false,
    allowCleartextAuth: false,
    idleTimeoutMs: DEFAULT_TIMEOUTS.idleTimeoutMs,
    preAuthTimeoutMs: DEFAULT_TIMEOUTS.preAuthTimeoutMs,
    changeHub,
    serverName: SERVER_NAME,
    serverVersion: SERVER_VERSION,
  };
}

const app = new Hono<{ Bindings: EdgeEnv }>();
app.get('/health', (c) => c.json({ ok: true, server: SERVER_NAME, version: SERVER_VERSION }));
app.route('/', uidStoreApi<EdgeEnv>({
  store: (env) => new RpcUidStore(env.UID_STORE),
  token: (env) => env.UID_API_TOKEN,
  cache: (env) => accountCacheAccess(env.UID_STORE),
  watchStatus: (env, account) => accountObject(env, account).watchStatus(),
  keywords: (env) => rpcKeywordAccess(env.UID_STORE),
}));

let nextConnectionId = 1;

export default {
  fetch(request: Request, env: EdgeEnv, ctx: ExecutionContext): Response | Promise<Response> {
    return app.fetch(request, env, ctx);
  },

  async connect(socket: Socket, env: EdgeEnv): Promise<void> {
    const config = gatewayConfig(env, await tenantSetup(env));
    const facts = { id: nextConnectionId++, remoteAddress: '', tls: env.TLS_TERMINATED === 'true', starttls: false };
    // workers-types' stream classes are nominally distinct from the DOM ones the core is typed with.
    await serveStreamSocket(socket as unknown as StreamSocket, (io) => newSession(config, facts, io), config.limits);
  },
};
