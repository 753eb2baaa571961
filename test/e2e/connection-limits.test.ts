/**
 * Connection limits (issue #5): per client address, a connection over the limit is greeted with `* BYE [LIMIT]`
 * (RFC 9051 §7.1.5, RFC 5530); per user, a login over the limit ends with `* BYE [LIMIT]`. Closing a connection
 * frees its place; other users are unaffected.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

let bed: TestBed;
before(async () => {
  bed = await startTestBed({ gateway: { connectionLimits: { perAddress: 3, perUser: 2 } } });
  bed.store.createUser('bob@example.test', 'bob password');
});
after(() => bed.close());

async function freed(kind: 'address' | 'user', key: string, n: number): Promise<void> {
  const limits = bed.gateway.config.connectionLimits!;
  for (const t0 = Date.now(); limits.count(kind, key) > n && Date.now() - t0 < 3000;) await new Promise((r) => setTimeout(r, 20));
  assert.equal(limits.count(kind, key), n);
}

test('per address: the connection over the limit is greeted with BYE [LIMIT]; closing one frees a place', async () => {
  const open = await Promise.all([1, 2, 3].map(() => RawClient.connect(bed.imapPort)));
  for (const c of open) assert.match(await c.line(), /^\* OK /);
  const extra = await RawClient.connect(bed.imapPort);
  assert.match(await extra.line(), /^\* BYE \[LIMIT\] /);
  await extra.waitClosed();
  open[0]!.close();
  await freed('address', '127.0.0.1', 2);
  const again = await RawClient.connect(bed.imapPort);
  assert.match(await again.line(), /^\* OK /);
  for (const c of [...open.slice(1), again]) c.close();
  await freed('address', '127.0.0.1', 0);
});

test('per user: the third login of one user ends with BYE [LIMIT]; another user still logs in', async () => {
  const login = async (user: string, pass: string): Promise<{ c: RawClient; last: string }> => {
    const c = await RawClient.connect(bed.imapPort);
    await c.line();
    c.write(`a LOGIN "${user}" "${pass}"\r\n`);
    return { c, last: await c.line() };
  };
  const a1 = await login(bed.user, bed.password);
  const a2 = await login(bed.user, bed.password);
  assert.match(a1.last, /^a OK /);
  assert.match(a2.last, /^a OK /);
  const a3 = await login(bed.user, bed.password);
  assert.match(a3.last, /^\* BYE \[LIMIT\] /);
  await a3.c.waitClosed();
  a1.c.close();
  await freed('address', '127.0.0.1', 1);
  const b = await login('bob@example.test', 'bob password');
  assert.match(b.last, /^a OK /, 'another user is not limited by the first one');
  const a4 = await login(bed.user, bed.password);
  assert.match(a4.last, /^a OK /, 'a closed session frees its place');
  for (const x of [a2, b, a4]) x.c.close();
});
