/**
 * IDLE (RFC 2177, RFC 9051 §6.3.13): changes made directly in JMAP (as a webmail would) reach an idling client
 * as EXISTS / FETCH (with UID) / EXPUNGE, through JMAP push (EventSource) or, when the server has none (Cyrus
 * answers 204), through polling. DONE ends it; anything else is BAD.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { MULTIPART, SIMPLE } from '../fixtures/messages.ts';

async function idling(bed: TestBed): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  await c.command('b', 'SELECT INBOX');
  c.write('i1 IDLE\r\n');
  assert.equal(await c.line(), '+ idling');
  return c;
}

/** Email id of the first INBOX message, via JMAP. */
async function firstEmailId(bed: TestBed): Promise<string> {
  const accountId = await accountIdOf(bed);
  const mb = (await jmap(bed, [['Mailbox/query', { accountId, filter: { role: 'inbox' } }, 'm']]))[0]![1] as { ids: string[] };
  const q = (await jmap(bed, [['Email/query', { accountId, filter: { inMailbox: mb.ids[0] }, sort: [{ property: 'receivedAt', isAscending: true }] }, 'q']]))[0]![1] as { ids: string[] };
  return q.ids[0]!;
}

for (const mode of ['push', 'poll'] as const) {
  describe(`IDLE via JMAP ${mode}`, () => {
    let bed: TestBed;
    before(async () => {
      bed = await startTestBed({
        gateway: { watch: { pollIntervalMs: 300 } },
        // Cyrus-like server without push: its EventSource answers 204 No Content.
        ...(mode === 'poll' ? { wrapFetch: (inner: typeof fetch) => (async (input: RequestInfo | URL, init?: RequestInit) => String(input).includes('/eventsource') ? new Response(null, { status: 204 }) : inner(input, init)) as typeof fetch } : {}),
      });
      bed.store.importMessage(bed.user, 'inbox', SIMPLE, { receivedAt: new Date(Date.UTC(2024, 0, 1)) });
    });
    after(() => bed.close());

    test('new mail, a flag change and a deletion made in JMAP arrive as EXISTS, FETCH (UID FLAGS) and EXPUNGE', async () => {
      const c = await idling(bed);
      const accountId = await accountIdOf(bed);
      bed.store.importMessage(bed.user, 'inbox', MULTIPART);
      assert.equal(await c.line(3000), '* 2 EXISTS');
      const id = await firstEmailId(bed);
      await jmap(bed, [['Email/set', { accountId, update: { [id]: { 'keywords/$flagged': true } } }, 's']]);
      assert.equal(await c.line(3000), '* 1 FETCH (UID 1 FLAGS (\\Flagged))');
      await jmap(bed, [['Email/set', { accountId, destroy: [id] }, 'd']]);
      assert.equal(await c.line(3000), '* 1 EXPUNGE');
      c.write('DONE\r\n');
      assert.match(await c.line(), /^i1 OK /);
      assert.equal(bed.gateway.config.changeHub.modeOf(`test/${accountId}`), undefined, 'watcher released after DONE');
      c.close();
    });

    test(`two idling sessions of one account share one watcher (${mode})`, async () => {
      const a = await idling(bed);
      const b = await idling(bed);
      const accountId = await accountIdOf(bed);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(bed.gateway.config.changeHub.watchedAccounts, 1);
      assert.equal(bed.gateway.config.changeHub.modeOf(`test/${accountId}`), mode);
      bed.store.importMessage(bed.user, 'inbox', SIMPLE);
      assert.match(await a.line(3000), /^\* \d+ EXISTS$/);
      assert.match(await b.line(3000), /^\* \d+ EXISTS$/);
      a.close();
      b.close();
      const deadline = Date.now() + 2000;
      while (bed.gateway.config.changeHub.watchedAccounts > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(bed.gateway.config.changeHub.watchedAccounts, 0, 'disconnects release the watcher');
    });
  });
}

describe('IDLE protocol details', () => {
  let bed: TestBed;
  before(async () => {
    bed = await startTestBed();
    bed.store.importMessage(bed.user, 'inbox', SIMPLE);
  });
  after(() => bed.close());

  test('DONE is case-insensitive and a command pipelined right after it runs', async () => {
    const c = await idling(bed);
    c.write('done\r\nn1 NOOP\r\n');
    assert.match(await c.line(), /^i1 OK /);
    assert.match((await c.until('n1')).at(-1)!, /^n1 OK /);
    c.close();
  });

  test('anything but DONE ends IDLE with BAD', async () => {
    const c = await idling(bed);
    c.write('n2 NOOP\r\n');
    assert.match(await c.line(), /^i1 BAD /);
    assert.match((await c.command('n3', 'NOOP')).at(-1)!, /^n3 OK /);
    c.close();
  });

  test('changes pending before IDLE are reported before "+ idling" (RFC 9051 §6.3.13 example)', async () => {
    const c = await RawClient.connect(bed.imapPort);
    await c.line();
    await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
    const sel = await c.command('b', 'SELECT INBOX');
    const exists = Number(/^\* (\d+) EXISTS$/m.exec(sel.join('\n'))![1]);
    bed.store.importMessage(bed.user, 'inbox', MULTIPART);
    c.write('i2 IDLE\r\n');
    assert.equal(await c.line(), `* ${exists + 1} EXISTS`);
    assert.equal(await c.line(), '+ idling');
    c.write('DONE\r\n');
    assert.match(await c.line(), /^i2 OK /);
    c.close();
  });
});
