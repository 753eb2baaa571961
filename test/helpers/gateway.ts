/**
 * Test harness: an embedded JMAP store and a gateway on free loopback ports, in a temp directory, torn down after.
 * The gateway reaches the store over real HTTP and clients reach the gateway over real TCP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore, type EmbeddedLimits, type EmbeddedStore } from '../../src/embedded/index.ts';
import { jmapBasicAuthenticator } from '../../src/auth/jmap-basic.ts';
import { startNodeGateway, type NodeGateway, type NodeGatewayOptions } from '../../src/transport/node-gateway.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import type { Limits } from '../../src/protocol/limits.ts';

export interface TestBed {
  host: string;
  imapPort: number;
  imapsPort: number;
  store: EmbeddedStore;
  gateway: NodeGateway;
  jmapUrl: string;
  dir: string;
  user: string;
  password: string;
  /** Stop the JMAP HTTP server (the backend goes down; the gateway stays up). */
  stopBackend(): Promise<void>;
  close(): Promise<void>;
}

export interface TestBedOptions {
  limits?: Limits;
  storeLimits?: Partial<EmbeddedLimits>;
  authFailureDelayMs?: number;
  gateway?: Partial<NodeGatewayOptions>;
  /** Wrap the fetch the gateway uses to reach JMAP (to count requests or simulate a server's quirks). */
  wrapFetch?: (inner: typeof fetch) => typeof fetch;
  /** The test user's JMAP quotas (RFC 9425): storage in octets, a message count (see EmbeddedStore.setQuota). */
  quota?: { storage?: number | null; messages?: number | null };
}

/** Call JMAP methods on the embedded store directly, as a webmail would (HTTP Basic as the test user). */
export async function jmap(bed: TestBed, methodCalls: unknown[]): Promise<Array<[string, Record<string, unknown>, string]>> {
  const res = await fetch(`${bed.jmapUrl}/jmap/api`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Basic ' + btoa(`${bed.user}:${bed.password}`) },
    body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'], methodCalls }),
  });
  if (!res.ok) throw new Error(`JMAP ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { methodResponses: Array<[string, Record<string, unknown>, string]> }).methodResponses;
}

/** The test user's JMAP accountId. */
export async function accountIdOf(bed: TestBed): Promise<string> {
  const res = await fetch(`${bed.jmapUrl}/.well-known/jmap`, { headers: { Authorization: 'Basic ' + btoa(`${bed.user}:${bed.password}`) } });
  const session = (await res.json()) as { primaryAccounts: Record<string, string> };
  return session.primaryAccounts['urn:ietf:params:jmap:mail']!;
}

export async function startTestBed(o: TestBedOptions = {}): Promise<TestBed> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-test-'));
  const store = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite'), ...(o.storeLimits ? { limits: o.storeLimits } : {}) });
  const user = 'alice@example.test';
  const password = 'correct horse battery staple';
  store.createUser(user, password);
  if (o.quota) store.setQuota(user, o.quota);
  const http = await store.listen(0, '127.0.0.1');
  const uidStore = SqliteUidStore.open(join(dir, 'uidmap.sqlite'));
  const gateway = await startNodeGateway({
    host: '127.0.0.1',
    imapPort: 0,
    imapsPort: 0,
    dataDir: dir,
    authenticator: jmapBasicAuthenticator({
      sessionUrl: `${http.url}/.well-known/jmap`,
      tenant: 'test',
      timeoutMs: 3000,
      ...(o.wrapFetch ? { fetch: o.wrapFetch((input, init) => fetch(input, init)) } : {}),
    }),
    uidStore,
    authFailureDelayMs: o.authFailureDelayMs ?? 50,
    ...(o.limits ? { limits: o.limits } : {}),
    ...o.gateway,
  });
  let backendUp = true;
  return {
    host: '127.0.0.1',
    imapPort: gateway.imapPort!,
    imapsPort: gateway.imapsPort!,
    store,
    gateway,
    jmapUrl: http.url,
    dir,
    user,
    password,
    async stopBackend() {
      if (!backendUp) return;
      backendUp = false;
      await http.close();
    },
    async close() {
      await gateway.close(1000);
      await uidStore.close();
      if (backendUp) await http.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
