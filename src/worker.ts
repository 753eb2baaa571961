/**
 * The Worker entry (wrangler.toml `main`): the same gateway core as on Node, on workerd.
 *
 * - `connect(socket)`: one IMAP connection, served by the unchanged pump and session (src/transport/workerd.ts).
 *   workerd's inbound sockets have no TLS and no STARTTLS; `TLS_TERMINATED=true` says a TLS terminator sits in
 *   front (the only setup in which clients may send credentials).
 * - `fetch`: hono routes: `GET /health`, and the UID store HTTP API (src/edge/api.ts) for Node gateways.
 * - UID store: one UidStoreDO per account, called over RPC. Tenant configuration: read-only from KV (`tenants`).
 *
 * Runtime differences handled here: each connection gets its own ChangeHub (workerd forbids one request's I/O
 * objects, such as a poller's fetches or a push stream, from being used by another request), and no timer is
 * `unref`ed (workerd timers return numbers).
 */
import { Hono } from 'hono';
import { newSession } from './gateway.ts';
import { DEFAULT_LIMITS } from './protocol/limits.ts';
import { DEFAULT_TIMEOUTS, type Authenticator, type GatewayConfig, type Logger } from './session/context.ts';
import { ChangeHub, DEFAULT_WATCH } from './session/watch.ts';
import { jmapBasicAuthenticator } from './auth/jmap-basic.ts';
import { parseTenants, tenantAuthenticator } from './auth/tenants.ts';
import { ImapError } from './protocol/errors.ts';
import { serveStreamSocket, type StreamSocket } from './transport/workerd.ts';
import { uidStoreApi } from './edge/api.ts';
import { RpcUidStore } from './edge/rpc-uid-store.ts';
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

let cachedAuth: { at: number; auth: Authenticator } | null = null;

/** The authenticator: the KV tenants document when there is one, else the single tenant of the variables. */
async function authenticator(env: EdgeEnv): Promise<Authenticator> {
  if (cachedAuth && Date.now() - cachedAuth.at < TENANTS_TTL_MS) return cachedAuth.auth;
  const doc = env.TENANTS ? await env.TENANTS.get('tenants', 'json') : null;
  let auth: Authenticator;
  if (doc) auth = tenantAuthenticator(parseTenants(doc), { fetch: workerFetch, logger: consoleLogger });
  else if (env.JMAP_SESSION_URL) auth = jmapBasicAuthenticator({ sessionUrl: env.JMAP_SESSION_URL, tenant: env.TENANT ?? 'default', fetch: workerFetch });
  else auth = { login: () => Promise.reject(ImapError.no('No mail store configured', 'UNAVAILABLE')) };
  cachedAuth = { at: Date.now(), auth };
  return auth;
}

function gatewayConfig(env: EdgeEnv, auth: Authenticator): GatewayConfig {
  return {
    authenticator: auth,
    uidStore: new RpcUidStore(env.UID_STORE),
    limits: DEFAULT_LIMITS,
    logger: consoleLogger,
    authFailureDelayMs: Number(env.AUTH_FAILURE_DELAY_MS ?? DEFAULT_TIMEOUTS.authFailureDelayMs),
    loopbackIsSecure: false,
    allowCleartextAuth: false,
    idleTimeoutMs: DEFAULT_TIMEOUTS.idleTimeoutMs,
    preAuthTimeoutMs: DEFAULT_TIMEOUTS.preAuthTimeoutMs,
    changeHub: new ChangeHub(DEFAULT_WATCH, consoleLogger),
    serverName: SERVER_NAME,
    serverVersion: SERVER_VERSION,
  };
}

const app = new Hono<{ Bindings: EdgeEnv }>();
app.get('/health', (c) => c.json({ ok: true, server: SERVER_NAME, version: SERVER_VERSION }));
app.route('/', uidStoreApi<EdgeEnv>({ store: (env) => new RpcUidStore(env.UID_STORE), token: (env) => env.UID_API_TOKEN }));

let nextConnectionId = 1;

export default {
  fetch(request: Request, env: EdgeEnv, ctx: ExecutionContext): Response | Promise<Response> {
    return app.fetch(request, env, ctx);
  },

  async connect(socket: Socket, env: EdgeEnv): Promise<void> {
    const config = gatewayConfig(env, await authenticator(env));
    const facts = { id: nextConnectionId++, remoteAddress: '', tls: env.TLS_TERMINATED === 'true', starttls: false };
    // workers-types' stream classes are nominally distinct from the DOM ones the core is typed with.
    await serveStreamSocket(socket as unknown as StreamSocket, (io) => newSession(config, facts, io), config.limits);
  },
};
