/**
 * `npm start`: the gateway on Node. Without `--jmap-url` it serves the embedded JMAP store (SQLite in the data
 * directory, a demo account created on first start) and prints how to connect.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { jmapBasicAuthenticator } from './auth/jmap-basic.ts';
import { tenantAuthenticator, TenantConfigError, type TenantsDocument } from './auth/tenants.ts';
import { loadTenantsDocument, TENANTS_JSON_ENV } from './config/tenants-env.ts';
import { DEV_KEY_FILE, devBearerCheck, devIssuerTenants, loadDevIssuer } from './config/node-dev-issuer.ts';
import { tenantThrottleLookup } from './auth/tenant-limits.ts';
import { TlsConfigError } from './transport/node-tls.ts';
import { loadNodeConfig, policyOf, usage, type NodeConfig } from './config/node-config.ts';
import { openEmbeddedStore, type EmbeddedStore } from './embedded/index.ts';
import { startNodeGateway } from './transport/node-gateway.ts';
import { SqliteUidStore } from './uidmap/sqlite.ts';
import { HttpUidStore } from './edge/http-uid-store.ts';
import { HttpMessageCache } from './edge/http-message-cache.ts';
import { httpKeywordStores } from './edge/http-keyword-store.ts';
import { withKeywordStores } from './edge/account-keywords.ts';
import { AuthThrottle, DEFAULT_THROTTLE } from './auth/throttle.ts';
import { MIB, RawCache } from './session/raw-cache.ts';

const DEMO_USER = 'demo';
/** Lifetime of the token the banner prints (the dev issuer's; `npm run token` mints others). */
const BANNER_TOKEN_HOURS = 12;

async function main(): Promise<void> {
  let config: NodeConfig | 'help';
  try {
    config = loadNodeConfig(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage()}`);
    process.exit(2);
  }
  if (config === 'help') {
    console.log(usage());
    return;
  }
  const log = pino({ level: config.logLevel });
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });

  let embedded: { store: EmbeddedStore; close(): Promise<void>; url: string } | null = null;
  let demo: { user: string; password: string } | null = null;
  let sessionUrl = config.jmapUrl;
  // The local development issuer: embedded store only, and never with a tenants document (a real deployment).
  const noTenants = !config.tenants && process.env[TENANTS_JSON_ENV] === undefined;
  const devIssuer = config.devIssuer && !sessionUrl && noTenants ? await loadDevIssuer(dataDir, true) : null;
  if (!sessionUrl) {
    const store = openEmbeddedStore({ dbPath: join(dataDir, 'embedded-jmap.sqlite'), ...(devIssuer ? { verifyBearer: devBearerCheck(devIssuer) } : {}) });
    if (config.demo) {
      demo = { user: DEMO_USER, password: demoPassword(dataDir) };
      store.seedDemo(demo.user, demo.password);
    }
    const server = await store.listen(config.jmapPort, '127.0.0.1');
    embedded = { store, close: server.close, url: server.url };
    sessionUrl = `${server.url}/.well-known/jmap`;
  }

  // Logins with the same credentials share one JMAP client for --login-share-ms (src/auth/jmap-basic.ts `shareMs`).
  const shareMs = config.loginShareMs;
  let authenticator = jmapBasicAuthenticator({ sessionUrl, tenant: config.tenant, shareMs });
  // The tenants file or GATEWAY_TENANTS_JSON, then GATEWAY_TENANT_<ID>_<PROP> overrides (src/config/tenants-env.ts).
  let tenants: TenantsDocument | null = null;
  try {
    tenants = loadTenantsDocument(config.tenants ? { name: config.tenants, text: readFileSync(config.tenants, 'utf8') } : null, process.env);
    if (tenants) authenticator = tenantAuthenticator(tenants, { logger: log, shareMs });
    else if (devIssuer) authenticator = tenantAuthenticator(devIssuerTenants(devIssuer, config.tenant, sessionUrl), { logger: log, shareMs });
  } catch (err) {
    console.error(`${config.tenants || 'tenants'}: ${err instanceof TenantConfigError ? err.message : String(err)}`);
    process.exit(2);
  }
  if ((config.doStoreUrl && !config.doStoreToken) || (config.doCache && !config.doStoreUrl)) {
    console.error(`--do-store-url needs --do-store-token (the Worker's UID_API_TOKEN); --do-cache needs --do-store-url\n\n${usage()}`);
    process.exit(2);
  }
  // Several machines: UIDs (and with --do-cache the message cache, keywords and UNSEEN counts) in the Worker's
  // Durable Objects (docs/deployment.md §3).
  const doApi = { baseUrl: config.doStoreUrl, token: config.doStoreToken };
  const uidStore = config.doStoreUrl ? new HttpUidStore(doApi) : SqliteUidStore.open(join(dataDir, 'uidmap.sqlite'));
  const doCache = config.doStoreUrl && config.doCache
    ? { messageCache: withKeywordStores(new HttpMessageCache({ ...doApi, onError: (err) => log.warn({ err: String(err) }, 'Durable Object message cache unreachable') }), httpKeywordStores(doApi)) }
    : {};
  const gateway = await startNodeGateway({
    ...(tenants ? { tenants } : {}),
    host: config.host,
    imapPort: config.imapPort,
    imapsPort: config.imapsPort,
    dataDir,
    tlsCert: config.tlsCert,
    tlsKey: config.tlsKey,
    authenticator,
    uidStore,
    logger: log,
    authFailureDelayMs: config.authFailureDelayMs,
    headerSource: config.headerSource === 'raw' ? 'raw' : 'jmap',
    ...doCache,
    rawCache: new RawCache(config.rawCacheMb * MIB),
    policy: policyOf(config),
    connectionLimits: { perAddress: config.maxConnectionsPerAddress, perUser: config.maxConnectionsPerUser },
    proxyProtocol: config.proxyProtocol,
    // Every listener throttles failed logins: growing delays per user and address, then a temporary block.
    // A tenant's `limits.throttle` overrides these for the attempts routed to it.
    throttle: new AuthThrottle({ ...DEFAULT_THROTTLE, baseDelayMs: config.authFailureDelayMs }, undefined, tenants ? tenantThrottleLookup(tenants) : undefined),
    loopbackIsSecure: config.loopbackIsSecure,
    allowCleartextAuth: config.allowCleartextAuth,
  });
  log.info({ imap: gateway.imapPort, imaps: gateway.imapsPort, jmap: sessionUrl }, 'gateway listening');
  const devToken = devIssuer && demo ? await devIssuer.mint(demo.user, BANNER_TOKEN_HOURS * 3600) : null;
  console.log(banner(config, gateway.imapPort, gateway.imapsPort, sessionUrl, demo, gateway.tls.certPath, gateway.tls.selfSigned, devToken));

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await gateway.close(5000);
    await uidStore.close();
    if (embedded) {
      await embedded.close();
      embedded.store.close();
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** The demo password: generated once, kept in the data directory, printed at every start. */
function demoPassword(dataDir: string): string {
  const file = join(dataDir, 'demo-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(9).toString('base64url');
  writeFileSync(file, password + '\n', { mode: 0o600 });
  return password;
}

function banner(
  c: NodeConfig,
  imapPort: number | undefined,
  imapsPort: number | undefined,
  sessionUrl: string,
  demo: { user: string; password: string } | null,
  certPath: string,
  selfSigned: boolean,
  devToken: string | null,
): string {
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  const lines = ['', 'IMAP gateway to JMAP is running.', ''];
  if (imapPort !== undefined) lines.push(`  IMAP (cleartext + STARTTLS): ${host}:${imapPort}`);
  if (imapsPort !== undefined) lines.push(`  IMAPS (implicit TLS):         ${host}:${imapsPort}`);
  lines.push(`  JMAP backend:                 ${sessionUrl}`);
  if (selfSigned) lines.push(`  TLS certificate (self-signed): ${certPath}`);
  if (demo) {
    lines.push('', `  Demo account:  user "${demo.user}"  password "${demo.password}"`, '', '  Try it:');
    if (imapPort !== undefined) {
      lines.push(`    curl 'imap://${host}:${imapPort}/INBOX;UID=1' -u ${demo.user}:${demo.password}`);
      lines.push(`    curl 'imap://${host}:${imapPort}/' -u ${demo.user}:${demo.password}            (list mailboxes)`);
    }
    if (imapsPort !== undefined) lines.push(`    curl -k 'imaps://${host}:${imapsPort}/INBOX' -u ${demo.user}:${demo.password} -X 'UID FETCH 1:* FLAGS'`);
    lines.push(
      '',
      '  Thunderbird: Account Settings > Add Mail Account > Configure manually:',
      `    Incoming IMAP, server ${c.host}, port ${imapsPort ?? imapPort}, ${imapsPort !== undefined ? 'SSL/TLS' : 'STARTTLS'}, Normal password,`,
      `    user name "${demo.user}" (accept the self-signed certificate when asked).`,
      '',
      `  mutt:  mutt -f 'imaps://${demo.user}@${host}:${imapsPort ?? imapPort}/INBOX'  (set ssl_verify_host=no for the self-signed cert)`,
    );
  }
  if (demo && devToken) {
    lines.push(
      '',
      `  OAuth (local development issuer, key in ${join(resolve(c.dataDir), DEV_KEY_FILE)}; off with --dev-issuer=false):`,
      `    OAUTHBEARER token for "${demo.user}", valid ${BANNER_TOKEN_HOURS} h:`,
      `    ${devToken}`,
    );
    if (imapPort !== undefined) lines.push(`    curl --oauth2-bearer '${devToken}' 'imap://${demo.user}@${host}:${imapPort}/INBOX' -X 'UID SEARCH ALL'`);
    lines.push(`    Another token: npm run -s token -- --user ${demo.user} --ttl 3600${c.dataDir === './data' ? '' : ` --data-dir ${c.dataDir}`}`);
  }
  lines.push('', 'Stop with Ctrl-C (clients get BYE).', '');
  return lines.join('\n');
}

main().catch((err: unknown) => {
  if (err instanceof TlsConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
