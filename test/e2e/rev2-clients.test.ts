/**
 * IMAP4rev1 and IMAP4rev2 clients side by side on one gateway (RFC 9051 Appendix A): imapflow sends
 * `ENABLE CONDSTORE UTF8=ACCEPT IMAP4rev2` when both versions are advertised, so it runs the rev2 path (ESEARCH
 * answers, UTF-8 mailbox names, LIST in SELECT); Python's imaplib never sends ENABLE and must keep the rev1
 * behaviour (`* SEARCH`, `* n RECENT`, modified UTF-7 names) at the same time, on the same mailbox.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { ImapFlow } from 'imapflow';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { jmapCreate } from '../helpers/mailbox-jmap.ts';
import { ALL } from '../fixtures/messages.ts';

const SCRIPT = new URL('./rev2_imaplib_client.py', import.meta.url).pathname;
const NAME = 'Küche';
let bed: TestBed;

before(async () => {
  bed = await startTestBed();
  await jmapCreate(bed, [NAME]);
  const t0 = Date.UTC(2024, 0, 10, 9, 0, 0);
  ALL.forEach((raw, i) => bed.store.importMessage(bed.user, NAME, raw, { receivedAt: new Date(t0 + i * 60_000), keywords: i === 0 ? ['$seen'] : [] }));
});
after(() => bed.close());

function imapflow(): ImapFlow {
  return new ImapFlow({ host: bed.host, port: bed.imapPort, secure: false, doSTARTTLS: false, auth: { user: bed.user, pass: bed.password }, logger: false });
}

interface Rev1Result {
  capabilities: string[];
  list: string[];
  select: [string, string];
  recent: Array<string | null>;
  search: [string, string];
  uid_search: [string, string];
}

function runImaplib(): Promise<Rev1Result> {
  return new Promise((resolve, reject) =>
    execFile('python3', [SCRIPT, bed.host, String(bed.imapPort), bed.user, bed.password, 'K&APw-che'], { timeout: 30_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(JSON.parse(out) as Rev1Result)));
}

test('imapflow enables IMAP4rev2 and UTF8=ACCEPT and works on the rev2 path: UTF-8 names, ESEARCH, status', async () => {
  const c = imapflow();
  await c.connect();
  try {
    assert.ok(c.enabled.has('IMAP4REV2'), `enabled: ${[...c.enabled].join(' ')}`);
    assert.ok(c.enabled.has('UTF8=ACCEPT'), `enabled: ${[...c.enabled].join(' ')}`);
    const list = await c.list();
    assert.ok(list.some((m) => m.path === NAME), `LIST shows ${NAME}: ${list.map((m) => m.path).join(',')}`);
    const box = await c.mailboxOpen(NAME);
    assert.equal(box.exists, ALL.length);
    const all = await c.search({ all: true }, { uid: true });
    assert.deepEqual(all, ALL.map((_, i) => i + 1));
    const unseen = await c.search({ seen: false });
    assert.deepEqual(unseen, ALL.slice(1).map((_, i) => i + 2));
    const status = await c.status(NAME, { messages: true, unseen: true, uidNext: true });
    assert.ok(status, 'STATUS answered');
    assert.equal(status.messages, ALL.length);
    assert.equal(status.unseen, ALL.length - 1);
    assert.equal(status.uidNext, ALL.length + 1);
    await c.mailboxCreate('Ångström');
    const after = await c.list();
    assert.ok(after.some((m) => m.path === 'Ångström'), 'the UTF-8 name created through imapflow is listed');
  } finally {
    await c.logout();
  }
});

test('Python imaplib (rev1, no ENABLE) beside an imapflow rev2 session: SEARCH, RECENT and modified UTF-7 stay', async () => {
  const c = imapflow();
  await c.connect();
  try {
    await c.mailboxOpen(NAME);
    const rev1 = await runImaplib();
    assert.ok(rev1.capabilities.includes('IMAP4REV1') && rev1.capabilities.includes('IMAP4REV2'), rev1.capabilities.join(' '));
    assert.ok(rev1.list.some((l) => l.endsWith('"/" K&APw-che')), rev1.list.join('\n'));
    assert.equal(rev1.select[0], 'OK');
    assert.equal(rev1.select[1], String(ALL.length));
    assert.deepEqual(rev1.recent, ['0'], 'RFC 3501 §6.3.1: * 0 RECENT');
    assert.deepEqual(rev1.search, ['OK', ALL.map((_, i) => i + 1).join(' ')]);
    assert.deepEqual(rev1.uid_search, ['OK', ALL.map((_, i) => i + 1).join(' ')]);
    // The rev2 session is unaffected by the rev1 one.
    assert.deepEqual(await c.search({ all: true }), ALL.map((_, i) => i + 1));
  } finally {
    await c.logout();
  }
});
