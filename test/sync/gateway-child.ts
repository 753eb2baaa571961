/**
 * Child process: one gateway (src/transport/node-gateway.ts) over the JMAP store at SESSION_URL with its SQLite UID
 * store at UIDMAP_PATH, shared with other such processes. IPC: sends {ready, port}.
 *
 * argv: DATA_DIR UIDMAP_PATH SESSION_URL [FAILPOINT]
 *
 * FAILPOINT (crash tests) makes the process SIGKILL itself at one step, from outside the gateway code: the JMAP
 * fetch and the UID store are wrapped here, so the kill lands exactly between two real writes.
 *   jmap:<Method>           after the response of the first request calling <Method> (e.g. jmap:Email/import)
 *   jmap:<Method>#<n>       ... of the n-th such request
 *   store:<method>          after the UID store's <method> resolved (e.g. store:assign, store:commitSync)
 *   store:<method>#<n>      ... the n-th time
 *   store:before-<method>   before <method> runs
 */
import { jmapBasicAuthenticator } from '../../src/auth/jmap-basic.ts';
import { startNodeGateway } from '../../src/transport/node-gateway.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import type { UidStore } from '../../src/uidmap/store.ts';

const [dataDir, uidmapPath, sessionUrl, failpoint = ''] = process.argv.slice(2);
const [kind, rest = ''] = failpoint.split(/:(.*)/s) as [string, string?];
const [point, nth = '1'] = rest.split('#') as [string, string?];
let seen = 0;

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}
/** True when this occurrence of the failpoint is the one to die at. */
const hit = (): boolean => ++seen === Number(nth);

const wrappedFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  if (kind === 'jmap' && typeof init?.body === 'string' && init.body.includes(`"${point}"`)) {
    await res.clone().arrayBuffer(); // the server has answered: its write is done
    if (hit()) die();
  }
  return res;
};

const sqlite = SqliteUidStore.open(uidmapPath!);
const uidStore = new Proxy(sqlite, {
  get(target, prop, recv) {
    const v = Reflect.get(target, prop, recv) as unknown;
    if (typeof v !== 'function') return v;
    return async (...args: unknown[]) => {
      if (kind === 'store' && point === `before-${String(prop)}` && hit()) die();
      const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      if (kind === 'store' && point === prop && hit()) die();
      return out;
    };
  },
}) as UidStore;

const gateway = await startNodeGateway({
  host: '127.0.0.1', imapPort: 0, imapsPort: -1, dataDir: dataDir!,
  authenticator: jmapBasicAuthenticator({ sessionUrl: sessionUrl!, tenant: 'shared', fetch: wrappedFetch }),
  uidStore,
  authFailureDelayMs: 0,
  watch: { pollIntervalMs: 200 },
});
process.send!({ ready: true, port: gateway.imapPort });
process.on('disconnect', () => process.exit(0));
