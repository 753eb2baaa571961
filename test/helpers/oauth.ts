/**
 * Test issuer: key pairs made with jose, a JWKS served from a tiny HTTP server on a free loopback port (it counts
 * its fetches, and its key set can be rotated), and a token minter.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

export interface TestKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(kid: string, alg: 'RS256' | 'ES256' = 'RS256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface JwksServer {
  url: string;
  fetches: number;
  keys: JWK[];
  /** Answer 503 instead of the key set (an unreachable issuer). */
  down: boolean;
  close(): Promise<void>;
}

export async function serveJwks(keys: JWK[]): Promise<JwksServer> {
  const state = { fetches: 0, keys, down: false };
  const server = http.createServer((_req, res) => {
    state.fetches++;
    if (state.down) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/jwks.json`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  }) as JwksServer;
}

export interface MintOptions {
  iss: string;
  aud: string;
  claims?: JWTPayload;
  /** Seconds from now. */
  exp?: number;
  nbf?: number;
}

export async function mint(key: TestKey, o: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...o.claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(o.iss)
    .setAudience(o.aud)
    .setIssuedAt(now)
    .setExpirationTime(now + (o.exp ?? 600));
  if (o.nbf !== undefined) jwt.setNotBefore(now + o.nbf);
  return jwt.sign(key.privateKey);
}

/** base64url without padding (RFC 7515 §2). */
export function b64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

// ----- a gateway with tenants and bearer auth ---------------------------------------------------------------------

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { parseTenants, tenantAuthenticator } from '../../src/auth/tenants.ts';
import { AuthThrottle, type ThrottleSettings } from '../../src/auth/throttle.ts';
import { startNodeGateway, type NodeGateway } from '../../src/transport/node-gateway.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import type { Logger } from '../../src/session/context.ts';

export const ISSUER = 'https://id.example.test';
export const AUDIENCE = 'imap-gateway';

export interface OAuthBed {
  imapPort: number;
  imapsPort: number;
  store: EmbeddedStore;
  /** The embedded store's HTTP base URL (JMAP at `/jmap/api`, HTTP Basic as user/password). */
  jmapUrl: string;
  gateway: NodeGateway;
  jwks: JwksServer;
  key: TestKey;
  user: string;
  password: string;
  /** Every log line the gateway wrote (JSON). */
  logs: string[];
  token(claims?: Record<string, unknown>, o?: Partial<MintOptions>): Promise<string>;
  close(): Promise<void>;
}

/**
 * One tenant ("test", domain example.test) whose JMAP store is the embedded one; the store accepts the issuer's
 * JWTs (verified with jose against the same JWKS) as bearer tokens.
 */
export async function startOAuthBed(o: { throttle?: Partial<ThrottleSettings>; mechanisms?: string[]; alg?: TestKey['alg'] } = {}): Promise<OAuthBed> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-oauth-'));
  const key = await makeKey('k1', o.alg);
  const jwks = await serveJwks([key.publicJwk]);
  const storeKeys = createRemoteJWKSet(new URL(jwks.url));
  const store = openEmbeddedStore({
    dbPath: join(dir, 'jmap.sqlite'),
    verifyBearer: async (t) => {
      try {
        const { payload } = await jwtVerify(t, storeKeys, { issuer: ISSUER, audience: AUDIENCE });
        return typeof payload.email === 'string' ? payload.email : null;
      } catch {
        return null;
      }
    },
  });
  const user = 'alice@example.test';
  const password = 'correct horse battery staple';
  store.createUser(user, password);
  const http = await store.listen(0, '127.0.0.1');
  const logs: string[] = [];
  const line = (level: string) => (obj: object, msg?: string) => void logs.push(JSON.stringify({ level, ...obj, msg }));
  const logger: Logger = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  const doc = parseTenants({
    tenants: [{
      id: 'test',
      jmapSessionUrl: `${http.url}/.well-known/jmap`,
      domains: ['example.test'],
      ...(o.mechanisms ? { mechanisms: o.mechanisms } : {}),
      jwt: { issuer: ISSUER, audiences: [AUDIENCE], jwksUrl: jwks.url, scope: 'mail', openidConfiguration: `${ISSUER}/.well-known/openid-configuration` },
    }],
  });
  const uidStore = SqliteUidStore.open(join(dir, 'uidmap.sqlite'));
  const gateway = await startNodeGateway({
    host: '127.0.0.1',
    imapPort: 0,
    imapsPort: 0,
    dataDir: dir,
    authenticator: tenantAuthenticator(doc, { logger, timeoutMs: 3000 }),
    uidStore,
    logger,
    authFailureDelayMs: 20,
    ...(o.throttle ? { throttle: new AuthThrottle({ baseDelayMs: 10, maxDelayMs: 50, ipBlockAfter: 1000, ipBlockMs: 60_000, windowMs: 60_000, maxEntries: 1000, ...o.throttle }) } : {}),
  });
  return {
    imapPort: gateway.imapPort!,
    imapsPort: gateway.imapsPort!,
    store, jmapUrl: http.url, gateway, jwks, key, user, password, logs,
    token: (claims = { email: user }, m = {}) => mint(key, { iss: ISSUER, aud: AUDIENCE, claims, ...m }),
    async close() {
      await gateway.close(1000);
      await uidStore.close();
      await http.close();
      await jwks.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
