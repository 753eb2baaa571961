/**
 * Child process: the gateway alone (src/transport/node-gateway.ts) on a free loopback port, over the JMAP store at
 * SESSION_URL, with its UID store in UIDMAP_PATH and its immutable-data cache in CACHE_PATH. New paths and a new
 * process = the gateway has never seen the mailbox ("cold"). Its memory is measured from outside (/proc/PID/status).
 *
 * argv: DATA_DIR (TLS files) UIDMAP_PATH SESSION_URL CACHE_PATH. IPC: sends {ready, port}.
 */
import { jmapBasicAuthenticator } from '../src/auth/jmap-basic.ts';
import { startNodeGateway } from '../src/transport/node-gateway.ts';
import { SqliteUidStore } from '../src/uidmap/sqlite.ts';
import { SqliteMessageCache } from '../src/cache/sqlite.ts';

const [dataDir, uidmapPath, sessionUrl, cachePath] = process.argv.slice(2);
const gateway = await startNodeGateway({
  host: '127.0.0.1', imapPort: 0, imapsPort: -1, dataDir: dataDir!,
  authenticator: jmapBasicAuthenticator({ sessionUrl: sessionUrl!, tenant: 'bench' }),
  uidStore: SqliteUidStore.open(uidmapPath!),
  messageCache: SqliteMessageCache.open(cachePath!),
  authFailureDelayMs: 0,
});
process.send!({ ready: true, port: gateway.imapPort });
process.on('disconnect', () => process.exit(0));
