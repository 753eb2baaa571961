/** Per-tenant limits (tenant property `limits`) as ConnectionLimits and AuthThrottle apply them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTenants } from '../../src/auth/tenants.ts';
import { tenantLimitLookup, tenantThrottleLookup } from '../../src/auth/tenant-limits.ts';
import { AuthThrottle } from '../../src/auth/throttle.ts';
import { ConnectionLimits } from '../../src/session/connection-limits.ts';

const doc = parseTenants({
  tenants: [
    { id: 'a', jmapSessionUrl: 'http://127.0.0.1:9/a', hostnames: ['imap.a.test'], domains: ['a.test'], limits: { maxConnectionsPerUser: 1, maxConnectionsPerAddress: 2, throttle: { baseDelayMs: 500, ipBlockAfter: 2 } } },
    { id: 'b', jmapSessionUrl: 'http://127.0.0.1:9/b', domains: ['b.test'] },
  ],
});

test('connection limits: a tenant\'s own per-user and per-address limits, the listener\'s for the others', () => {
  const l = new ConnectionLimits({ perAddress: 5, perUser: 3 }, tenantLimitLookup(doc));
  assert.equal(l.admitUser('a/u1'), true);
  assert.equal(l.admitUser('a/u1'), false, 'tenant a: one session per user');
  assert.deepEqual([1, 2, 3, 4].map(() => l.admitUser('b/u1')), [true, true, true, false], 'tenant b: the listener\'s 3');
  for (let i = 0; i < 3; i++) assert.equal(l.admitAddress('192.0.2.7'), true);
  assert.equal(l.admitUser('a/u2', '192.0.2.7'), false, 'three connections from the address: over tenant a\'s 2');
  assert.equal(l.admitUser('b/u2', '192.0.2.7'), true, 'within the listener\'s 5');
  l.releaseAddress('192.0.2.7');
  assert.equal(l.admitUser('a/u2', '192.0.2.7'), true);
});

test('throttle: the tenant of the attempt (SNI, then domain) sets delays and the block threshold', () => {
  const t = new AuthThrottle({ baseDelayMs: 100, maxDelayMs: 10_000, ipBlockAfter: 10, ipBlockMs: 60_000, windowMs: 600_000, maxEntries: 100 }, () => 0, tenantThrottleLookup(doc));
  assert.equal(t.failure('x@b.test', '198.51.100.1'), 100, 'tenant b: the listener\'s base delay');
  assert.equal(t.failure('x@a.test', '198.51.100.2'), 500, 'tenant a by domain');
  assert.equal(t.blocked('198.51.100.2'), false);
  assert.equal(t.failure('someone', '198.51.100.2', 'IMAP.A.TEST'), 1000, 'tenant a by SNI; the address\'s second failure doubles');
  assert.equal(t.blocked('198.51.100.2'), true, 'tenant a blocks after 2');
  assert.equal(t.failure('x@b.test', '198.51.100.1'), 200);
  assert.equal(t.blocked('198.51.100.1'), false, 'tenant b would need 10');
});
