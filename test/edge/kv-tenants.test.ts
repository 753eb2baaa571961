/**
 * The tenants document from Workers KV (binding TENANTS, key `tenants`) under workerd: validated by
 * schema/tenants.schema.json through src/auth/tenants.ts. A tenant from KV resolves by the user's domain and its
 * users log in (their UID-store and cache keys carry the tenant id from KV); an invalid document is reported in
 * the Worker's log with the schema's own messages and every login is refused with NO [UNAVAILABLE], no guessing.
 * The KV namespace's local storage is a directory served to workerd's KV binding (workerd-harness.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ALL } from '../fixtures/messages.ts';
import { startWorkerd } from './workerd-harness.ts';

const USER = 'kate@kv.example.test';
const PASS = 'kv password';
const TOKEN = 'kv-test-token';
const dir = mkdtempSync(join(tmpdir(), 'edge-kv-'));
let store: EmbeddedStore;
let http: { url: string; close(): Promise<void> };
let accountId: string;
/** No JMAP_SESSION_URL: KV is the only way to a mail store. */
const vars = { TLS_TERMINATED: 'true', AUTH_FAILURE_DELAY_MS: '0', UID_API_TOKEN: TOKEN };

before(async () => {
  store = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') });
  ({ accountId } = store.createUser(USER, PASS));
  store.importMessage(USER, 'inbox', ALL[0]!);
  http = await store.listen(0, '127.0.0.1');
});
after(async () => {
  await http.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function login(port: number): Promise<{ c: RawClient; answer: string }> {
  const c = await RawClient.connect(port);
  await c.line();
  return { c, answer: (await c.command('l', `LOGIN "${USER}" "${PASS}"`)).at(-1)! };
}

test('KV tenants document: the tenant resolves by domain and its user logs in; keys carry the KV tenant id', async () => {
  const doc = { tenants: [
    { id: 'other', jmapSessionUrl: 'http://127.0.0.1:9/.well-known/jmap', domains: ['elsewhere.test'] },
    { id: 'kvtenant', jmapSessionUrl: `${http.url}/.well-known/jmap`, domains: ['kv.example.test'] },
  ] };
  const w = await startWorkerd({ vars, kv: { tenants: JSON.stringify(doc) } });
  try {
    const { c, answer } = await login(w.imapPort);
    try {
      assert.match(answer, /^l OK/);
      assert.match((await c.command('s', 'SELECT INBOX')).at(-1)!, /^s OK/);
      assert.match((await c.command('f', 'FETCH 1 (BODY.PEEK[HEADER])')).at(-1)!, /^f OK/);
    } finally {
      c.close();
    }
    const res = await fetch(`${w.httpUrl}/v1/accounts/${encodeURIComponent(`kvtenant/${accountId}`)}/cache/size`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.ok(((await res.json()) as { bytes: number }).bytes > 0, 'the account key is <KV tenant id>/<accountId>');
  } finally {
    await w.stop();
  }
});

test('KV tenants document that fails the schema: the schema\'s messages in the log, logins refused with NO [UNAVAILABLE]', async () => {
  const schema = JSON.parse(readFileSync(new URL('../../schema/tenants.schema.json', import.meta.url), 'utf8')) as
    { $defs: { tenant: { properties: { id: { pattern: string }; jmapSessionUrl: { pattern: string } } } } };
  const bad = { tenants: [{ id: 'Not A Valid Id', jmapSessionUrl: 'ftp://mail.example.test/jmap', domains: ['kv.example.test'] }] };
  const w = await startWorkerd({ vars, kv: { tenants: JSON.stringify(bad) } });
  try {
    const { c, answer } = await login(w.imapPort);
    c.close();
    assert.match(answer, /^l NO \[UNAVAILABLE\] .*configuration/i);
    const deadline = Date.now() + 5000;
    while (!w.logs().includes('/tenants/0/id') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const logs = w.logs();
    assert.match(logs, /tenants document from KV is invalid/);
    for (const [path, pattern] of [['/tenants/0/id', schema.$defs.tenant.properties.id.pattern], ['/tenants/0/jmapSessionUrl', schema.$defs.tenant.properties.jmapSessionUrl.pattern]]) {
      const line = logs.split('\n').find((l) => l.includes(`${path}:`));
      assert.ok(line?.includes(JSON.stringify(pattern).slice(1, -1)), `the log names ${path} and the schema pattern ${pattern}: ${line}`);
    }
    assert.doesNotMatch(logs, /kv password/, 'no credentials in the log');
  } finally {
    await w.stop();
  }
});
