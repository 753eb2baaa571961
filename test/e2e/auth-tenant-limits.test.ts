/**
 * Per-tenant limits (tenant property `limits`): connections per user and per address, and the failed-login
 * throttle, override the listener-wide settings once a connection is routed to its tenant. Clients come through a
 * PROXY v2 listener behind a "TLS terminator" (PP2_TYPE_SSL), so each can claim its own address and tenant (SNI).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { proxyV2Header, SniClient, startTenantsBed, type TenantsBed } from '../helpers/tenants-bed.ts';

let bed: TenantsBed;
const carol = { user: 'carol@a.test', password: 'pw-carol' };
const dave = { user: 'dave@a.test', password: 'pw-dave' };

before(async () => {
  bed = await startTenantsBed({
    // Tenant a is strict; tenant b keeps the listener-wide settings below.
    a: { limits: { maxConnectionsPerUser: 1, maxConnectionsPerAddress: 2, throttle: { ipBlockAfter: 3 } } },
    gateway: { proxyProtocol: true, connectionLimits: { perAddress: 10, perUser: 10 } },
    throttle: { baseDelayMs: 10, maxDelayMs: 40, ipBlockAfter: 50, ipBlockMs: 60_000, windowMs: 60_000, maxEntries: 1000 },
  });
  for (const u of [carol, dave]) bed.a.store.createUser(u.user, u.password);
});
after(() => bed.close());

/** A connection from `source` for the tenant of `host` (greeting read). */
async function open(source: string, host: string): Promise<SniClient> {
  const c = await SniClient.connect(bed.imapPort, { tls: false });
  c.write(proxyV2Header({ source, tls: true, authority: host }));
  assert.match(await c.line(), /^\* OK /);
  return c;
}

async function login(c: SniClient, u: { user: string; password: string }, tag = 'l'): Promise<string> {
  c.write(`${tag} LOGIN "${u.user}" "${u.password}"\r\n`);
  return c.line();
}

const alice = (): { user: string; password: string } => bed.a;
const bob = (): { user: string; password: string } => bed.b;

test("per user: tenant a allows one session per user, tenant b the listener's ten", async () => {
  const a1 = await open('198.51.100.1', bed.a.hostname);
  assert.match(await login(a1, alice()), /^l OK /);
  const a2 = await open('198.51.100.2', bed.a.hostname);
  assert.match(await login(a2, alice()), /^\* BYE \[LIMIT\] /);
  const bs = await Promise.all(['198.51.100.3', '198.51.100.4', '198.51.100.5'].map((ip) => open(ip, bed.b.hostname)));
  for (const c of bs) assert.match(await login(c, bob()), /^l OK /);
  for (const c of [a1, a2, ...bs]) c.close();
});

test("per address: tenant a allows two sessions from one address, tenant b the listener's ten", async () => {
  // The check counts every open connection from the address at the moment of a tenant-a login.
  const cs: SniClient[] = [];
  for (const u of [carol, dave]) {
    cs.push(await open('198.51.100.50', bed.a.hostname));
    assert.match(await login(cs.at(-1)!, u), /^l OK /);
  }
  cs.push(await open('198.51.100.50', bed.a.hostname));
  assert.match(await login(cs[2]!, alice()), /^\* BYE \[LIMIT\] /, 'a third connection from that address may not log in to tenant a');
  const bs = await Promise.all([1, 2, 3].map(() => open('198.51.100.60', bed.b.hostname)));
  for (const c of bs) assert.match(await login(c, bob()), /^l OK /);
  for (const c of [...cs, ...bs]) c.close();
});

test("throttle: tenant a blocks an address after 3 failures, tenant b (listener: 50) does not; the user still logs in elsewhere", async () => {
  const a = await open('203.0.113.10', bed.a.hostname);
  for (const tag of ['f1', 'f2', 'f3']) assert.match(await login(a, { user: carol.user, password: 'guess' }, tag), new RegExp(`^${tag} NO \\[AUTHENTICATIONFAILED\\]`));
  assert.match(await login(a, carol, 'f4'), /^\* BYE /, 'blocked: even the right password is refused');
  a.close();
  const again = await open('203.0.113.10', bed.a.hostname);
  assert.match(await login(again, carol), /^\* BYE /, 'the address stays blocked');
  again.close();
  const elsewhere = await open('203.0.113.12', bed.a.hostname);
  assert.match(await login(elsewhere, carol), /^l OK /, 'carol from another address is not locked out');
  elsewhere.close();

  const b = await open('203.0.113.11', bed.b.hostname);
  for (const tag of ['g1', 'g2', 'g3', 'g4']) assert.match(await login(b, { user: bob().user, password: 'guess' }, tag), new RegExp(`^${tag} NO \\[AUTHENTICATIONFAILED\\]`));
  assert.match(await login(b, bob(), 'g5'), /^g5 OK /);
  b.close();
});
