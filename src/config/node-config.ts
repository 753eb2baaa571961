/**
 * Node configuration: command-line flags, each with an environment variable fallback, then defaults.
 * `--help` prints this table. The defaults give the embedded demo: a JMAP store in the data directory and
 * IMAP on loopback.
 */
import { parseArgs } from 'node:util';
import type { AccountPolicy } from '../session/policy.ts';

export interface NodeConfig {
  host: string;
  /** Cleartext IMAP with STARTTLS (RFC 9051 §6.2.1); 0 = pick a free port; -1 = off. */
  imapPort: number;
  /** Implicit TLS (RFC 8314 §3.2); 0 = pick a free port; -1 = off. */
  imapsPort: number;
  dataDir: string;
  /** External JMAP session URL; when empty the embedded store serves JMAP. */
  jmapUrl: string;
  /** Port of the embedded store's JMAP HTTP endpoint (loopback); 0 = pick a free port. */
  jmapPort: number;
  tlsCert: string;
  tlsKey: string;
  /** Tenant id (prefix of UID store keys). */
  tenant: string;
  /** Tenants document (schema/tenants.schema.json); when set it replaces --jmap-url / --tenant. */
  tenants: string;
  /** Allow credentials on cleartext connections from non-loopback peers (never in production). */
  allowCleartextAuth: boolean;
  /** Loopback peers count as secure, as in Dovecot; turn off behind a TLS terminator or proxy. */
  loopbackIsSecure: boolean;
  authFailureDelayMs: number;
  logLevel: string;
  /** Open connections per client address / logged-in connections per user. */
  maxConnectionsPerAddress: number;
  maxConnectionsPerUser: number;
  /** Every connection starts with a PROXY protocol v2 header (behind a load balancer). */
  proxyProtocol: boolean;
  /** Header blocks from JMAP `headers` or always from the raw message (servers that drop fields, e.g. Cyrus 3.6). */
  headerSource: string;
  /** Default COPY semantics, `label` or `copy` (session/policy.ts); a tenant's `copySemantics` wins. */
  copySemantics: string;
  /** Default SEARCH TEXT/BODY mode, `exact` or `index` (session/policy.ts); a tenant's `searchText` wins. */
  searchText: string;
  /** Base URL of a Worker's Durable Object store API (src/edge/api.ts): UIDs shared by gateways on many machines. */
  doStoreUrl: string;
  /** Bearer token of that API (its UID_API_TOKEN secret). */
  doStoreToken: string;
  /** Keep the immutable-data cache in the Durable Objects too (shared), instead of SQLite in --data-dir. */
  doCache: boolean;
  /** Raw-message cache budget in MiB per process (src/session/raw-cache.ts); 0 = off. */
  rawCacheMb: number;
  /** Password logins with the same credentials share one JMAP client this long (0: every login is checked by the store). */
  loginShareMs: number;
  /** Create the demo account in the embedded store on first start. */
  demo: boolean;
  /** Embedded store without a tenants document: a local development token issuer (src/config/node-dev-issuer.ts). */
  devIssuer: boolean;
}

interface Option {
  flag: string;
  env: string;
  type: 'string' | 'number' | 'boolean';
  key: keyof NodeConfig;
  def: string | number | boolean;
  help: string;
}

export const OPTIONS: Option[] = [
  { flag: 'host', env: 'IMAP_HOST', type: 'string', key: 'host', def: '127.0.0.1', help: 'address the IMAP listeners bind to' },
  { flag: 'imap-port', env: 'IMAP_PORT', type: 'number', key: 'imapPort', def: 1143, help: 'cleartext+STARTTLS port (-1: off)' },
  { flag: 'imaps-port', env: 'IMAPS_PORT', type: 'number', key: 'imapsPort', def: 1993, help: 'implicit TLS port (-1: off)' },
  { flag: 'data-dir', env: 'GATEWAY_DATA_DIR', type: 'string', key: 'dataDir', def: './data', help: 'UID store, TLS pair, embedded store' },
  { flag: 'jmap-url', env: 'JMAP_SESSION_URL', type: 'string', key: 'jmapUrl', def: '', help: 'JMAP session URL of another server (default: embedded store)' },
  { flag: 'jmap-port', env: 'JMAP_PORT', type: 'number', key: 'jmapPort', def: 0, help: 'embedded JMAP store HTTP port on loopback (0: any free port)' },
  { flag: 'tls-cert', env: 'TLS_CERT', type: 'string', key: 'tlsCert', def: '', help: 'PEM certificate (default: self-signed in data dir)' },
  { flag: 'tls-key', env: 'TLS_KEY', type: 'string', key: 'tlsKey', def: '', help: 'PEM private key' },
  { flag: 'tenant', env: 'GATEWAY_TENANT', type: 'string', key: 'tenant', def: 'default', help: 'tenant id' },
  { flag: 'tenants', env: 'GATEWAY_TENANTS', type: 'string', key: 'tenants', def: '', help: 'tenants JSON file (schema/tenants.schema.json); or GATEWAY_TENANTS_JSON; overrides GATEWAY_TENANT_<ID>_<PROP>' },
  { flag: 'allow-cleartext-auth', env: 'ALLOW_CLEARTEXT_AUTH', type: 'boolean', key: 'allowCleartextAuth', def: false, help: 'accept passwords without TLS from any peer' },
  { flag: 'loopback-is-secure', env: 'LOOPBACK_IS_SECURE', type: 'boolean', key: 'loopbackIsSecure', def: true, help: 'loopback peers may log in without TLS' },
  { flag: 'login-share-ms', env: 'LOGIN_SHARE_MS', type: 'number', key: 'loginShareMs', def: 60000, help: 'same-credential logins reuse a JMAP client this long (a changed password is refused within it); 0 = off' },
  { flag: 'auth-failure-delay-ms', env: 'AUTH_FAILURE_DELAY_MS', type: 'number', key: 'authFailureDelayMs', def: 2000, help: 'delay before a failed login answer' },
  { flag: 'header-source', env: 'HEADER_SOURCE', type: 'string', key: 'headerSource', def: 'jmap', help: 'jmap or raw: where header blocks come from' },
  { flag: 'copy-semantics', env: 'COPY_SEMANTICS', type: 'string', key: 'copySemantics', def: 'label', help: 'label or copy: COPY adds a JMAP mailbox or imports a new email' },
  { flag: 'search-text', env: 'SEARCH_TEXT', type: 'string', key: 'searchText', def: 'exact', help: 'exact or index: SEARCH TEXT/BODY in the gateway or by the store' },
  { flag: 'max-connections-per-address', env: 'MAX_CONNECTIONS_PER_ADDRESS', type: 'number', key: 'maxConnectionsPerAddress', def: 256, help: 'more from one address: * BYE [LIMIT]' },
  { flag: 'max-connections-per-user', env: 'MAX_CONNECTIONS_PER_USER', type: 'number', key: 'maxConnectionsPerUser', def: 64, help: 'more logins of one user: BYE [LIMIT]' },
  { flag: 'proxy-protocol', env: 'PROXY_PROTOCOL', type: 'boolean', key: 'proxyProtocol', def: false, help: 'expect a PROXY v2 header (load balancer)' },
  { flag: 'do-store-url', env: 'DO_STORE_URL', type: 'string', key: 'doStoreUrl', def: '', help: 'UID store in Durable Objects: the Worker API base URL' },
  { flag: 'do-store-token', env: 'DO_STORE_TOKEN', type: 'string', key: 'doStoreToken', def: '', help: 'bearer token of the Durable Object store API' },
  { flag: 'do-cache', env: 'DO_CACHE', type: 'boolean', key: 'doCache', def: false, help: 'message cache, keywords and UNSEEN counts in the Durable Objects too (needs --do-store-url)' },
  { flag: 'raw-cache-mb', env: 'RAW_CACHE_MB', type: 'number', key: 'rawCacheMb', def: 128, help: 'memory for whole messages read again (MiB per process; 0: off)' },
  { flag: 'log-level', env: 'LOG_LEVEL', type: 'string', key: 'logLevel', def: 'info', help: 'pino level' },
  { flag: 'demo', env: 'GATEWAY_DEMO', type: 'boolean', key: 'demo', def: true, help: 'create the demo account in the embedded store' },
  { flag: 'dev-issuer', env: 'GATEWAY_DEV_ISSUER', type: 'boolean', key: 'devIssuer', def: true, help: 'embedded store, no tenants: OAUTHBEARER with a local dev key (npm run token)' },
];

export function usage(): string {
  const rows = OPTIONS.map((o) => `  --${o.flag.padEnd(24)} ${o.env.padEnd(22)} ${String(o.def).padEnd(10)} ${o.help}`);
  return ['Usage: npm start -- [options]', '', `  ${'flag'.padEnd(26)} ${'env'.padEnd(22)} ${'default'.padEnd(10)} meaning`, ...rows].join('\n');
}

export function loadNodeConfig(argv: string[], env: NodeJS.ProcessEnv): NodeConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean' }, ...Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: 'string' as const }])) },
    strict: true,
  });
  if (values.help) return 'help';
  const out: Record<string, string | number | boolean> = {};
  for (const o of OPTIONS) {
    const raw = (values as Record<string, string | undefined>)[o.flag] ?? env[o.env];
    out[o.key] = raw === undefined ? o.def : convert(o, raw);
  }
  return out as unknown as NodeConfig;
}

function convert(o: Option, raw: string): string | number | boolean {
  if (o.type === 'string') return raw;
  if (o.type === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new Error(`--${o.flag} / ${o.env}: expected true or false, got "${raw}"`);
  }
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`--${o.flag} / ${o.env}: expected an integer, got "${raw}"`);
  return n;
}

/** The gateway-wide COPY / SEARCH TEXT defaults (`--copy-semantics`, `--search-text`); bad values are refused. */
export function policyOf(c: NodeConfig): AccountPolicy {
  if (c.copySemantics !== 'label' && c.copySemantics !== 'copy') throw new Error(`--copy-semantics: expected label or copy, got "${c.copySemantics}"`);
  if (c.searchText !== 'exact' && c.searchText !== 'index') throw new Error(`--search-text: expected exact or index, got "${c.searchText}"`);
  return { copySemantics: c.copySemantics, searchText: c.searchText };
}
