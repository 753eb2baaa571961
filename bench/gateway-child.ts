/**
 * Child process: the gateway alone (src/transport/node-gateway.ts) on free loopback ports (cleartext and implicit
 * TLS), over the JMAP server at SESSION_URL, with its UID store in UIDMAP_PATH and its immutable-data cache in
 * CACHE_PATH. New paths and a new process = the gateway has never seen the mailbox ("cold"). Its memory is measured
 * from outside (/proc/PID). A benchmark tenant: connection limits per address and per user are lifted (IDLE memory
 * at 10,000 connections of one user from 127.0.0.1).
 *
 * argv: DATA_DIR UIDMAP_PATH SESSION_URL CACHE_PATH [OPTIONS_JSON: GatewayChildOptions]. IPC: sends {ready, port,
 * tlsPort, indexPort}; with `countJmap` (a backend we cannot count at, e.g. Cyrus) answers 'counters' from its own fetch.
 */
import { jmapBasicAuthenticator } from '../src/auth/jmap-basic.ts';
import { startNodeGateway } from '../src/transport/node-gateway.ts';
import { SqliteUidStore } from '../src/uidmap/sqlite.ts';
import { SqliteMessageCache } from '../src/cache/sqlite.ts';
import { getHeapSpaceStatistics } from 'node:v8';
import type { JmapCounters } from './store-child.ts';
import type { GatewayChildOptions } from './targets.ts';

const [dataDir, uidmapPath, sessionUrl, cachePath, optsJson] = process.argv.slice(2);
const opts = JSON.parse(optsJson ?? '{}') as GatewayChildOptions;
const counters: JmapCounters = { requests: 0, bytesSent: 0, bytesReceived: 0 };
/** Counts requests and declared octets (Content-Length both ways; a chunked answer counts 0). */
const counting: typeof fetch = async (input, init) => {
  counters.requests++;
  const body = init?.body;
  counters.bytesSent += typeof body === 'string' ? new TextEncoder().encode(body).length : body instanceof Uint8Array ? body.length : 0;
  const res = await fetch(input, init);
  counters.bytesReceived += Number(res.headers.get('content-length') ?? 0);
  return res;
};
const uidStore = SqliteUidStore.open(uidmapPath!);
const messageCache = SqliteMessageCache.open(cachePath!);
const gateway = await startNodeGateway({
  host: '127.0.0.1', imapPort: 0, imapsPort: 0, dataDir: dataDir!,
  // As src/node.ts: logins with the same credentials share one JMAP client for a minute (src/auth/jmap-basic.ts).
  authenticator: jmapBasicAuthenticator({ sessionUrl: sessionUrl!, tenant: opts.tenant ?? 'bench', shareMs: 60_000, ...(opts.countJmap ? { fetch: counting } : {}) }),
  uidStore, messageCache,
  authFailureDelayMs: 0,
  connectionLimits: { perAddress: 1_000_000, perUser: 1_000_000 },
  ...(opts.headerSource ? { headerSource: opts.headerSource } : {}),
});
// A second gateway on the same UID store and cache whose SEARCH TEXT/BODY is the store's own `text` filter (index mode).
const indexed = opts.indexSearch ? await startNodeGateway({
  host: '127.0.0.1', imapPort: 0, imapsPort: -1, dataDir: dataDir!,
  authenticator: jmapBasicAuthenticator({ sessionUrl: sessionUrl!, tenant: opts.tenant ?? 'bench' }),
  uidStore, messageCache, authFailureDelayMs: 0, policy: { searchText: 'index' },
}) : null;
process.send!({ ready: true, port: gateway.imapPort, tlsPort: gateway.imapsPort, indexPort: indexed?.imapPort });
process.on('message', (m) => {
  if (m === 'counters') process.send!({ counters: { ...counters } });
  if (m === 'memory') { // bench/idle-profile.ts: heap spaces vs the rest
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((h) => [h.space_name, h.space_size]));
    process.send!({ memory: { ...process.memoryUsage(), ...spaces } });
  }
});
process.on('disconnect', () => process.exit(0));
