/**
 * The write commands through a real client (imapflow): flags add/remove/set, append (APPENDUID), copy and move
 * (COPYUID, MOVE), delete (STORE \Deleted + UID EXPUNGE); every result checked again through JMAP itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';

let bed: TestBed;
let accountId: string;
const enc = new TextEncoder();
const msg = (n: string) => enc.encode(`From: a@example.org\r\nSubject: ${n}\r\nMessage-ID: <${n}@example.org>\r\n\r\nBody ${n}\r\n`);

before(async () => {
  bed = await startTestBed();
  accountId = await accountIdOf(bed);
});
after(() => bed.close());

function client(): ImapFlow {
  return new ImapFlow({ host: bed.host, port: bed.imapPort, secure: false, doSTARTTLS: false, auth: { user: bed.user, pass: bed.password }, logger: false });
}

async function mailboxId(name: string): Promise<string> {
  const [, r] = (await jmap(bed, [['Mailbox/get', { accountId, properties: ['name'] }, '0']]))[0]!;
  return (r.list as Array<{ id: string; name: string }>).find((m) => m.name === name)!.id;
}

async function emailsIn(mailbox: string): Promise<Array<{ subject: string; keywords: string[]; mailboxIds: string[] }>> {
  const [, r] = (await jmap(bed, [
    ['Email/query', { accountId, filter: { inMailbox: mailbox }, sort: [{ property: 'receivedAt', isAscending: true }] }, 'q'],
    ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['subject', 'keywords', 'mailboxIds'] }, 'g'],
  ]))[1]!;
  return (r.list as Array<{ subject: string; keywords: Record<string, true>; mailboxIds: Record<string, true> }>)
    .map((e) => ({ subject: e.subject, keywords: Object.keys(e.keywords).sort(), mailboxIds: Object.keys(e.mailboxIds).sort() }));
}

test('imapflow: append, flags add/remove/set, copy, move and delete reach the JMAP store', async () => {
  const c = client();
  await c.connect();
  try {
    await c.mailboxCreate('Work').catch(() => undefined); // CREATE may not be served yet: make it through JMAP then
    if (!(await c.list()).some((m) => m.path === 'Work')) await jmap(bed, [['Mailbox/set', { accountId, create: { w: { name: 'Work' } } }, '0']]);
    const inbox = await mailboxId('Inbox');
    const work = await mailboxId('Work');

    const a1 = await c.append('INBOX', msg('one'), ['\\Seen'], new Date('2024-02-01T10:00:00Z'));
    const a2 = await c.append('INBOX', msg('two'));
    const a3 = await c.append('INBOX', msg('three'), ['$Label1']);
    assert.ok(a1 && a2 && a3, 'APPENDUID answered');
    assert.deepEqual([a1.uid, a2.uid, a3.uid], [1, 2, 3]);
    assert.equal(a1.uidValidity, a3.uidValidity);

    await c.mailboxOpen('INBOX');
    assert.ok(await c.messageFlagsAdd('1:2', ['\\Flagged', '$Forwarded'], { uid: true }));
    assert.ok(await c.messageFlagsRemove('1', ['\\Seen'], { uid: true }));
    assert.ok(await c.messageFlagsSet('3', ['\\Answered'], { uid: true }));
    const flags = new Map<number, string[]>();
    for await (const m of c.fetch('1:*', { uid: true, flags: true })) flags.set(m.uid, [...(m.flags ?? [])].sort());
    assert.deepEqual([...flags], [[1, ['$Forwarded', '\\Flagged']], [2, ['$Forwarded', '\\Flagged']], [3, ['\\Answered']]]);
    assert.deepEqual((await emailsIn(inbox)).map((e) => [e.subject, e.keywords]), [
      ['one', ['$flagged', '$forwarded']], ['two', ['$flagged', '$forwarded']], ['three', ['$answered']],
    ]);

    const copied = await c.messageCopy('1', 'Work', { uid: true });
    assert.ok(copied);
    assert.deepEqual([...copied.uidMap!], [[1, 1]]);
    const moved = await c.messageMove('2', 'Work', { uid: true });
    assert.ok(moved);
    assert.deepEqual([...moved.uidMap!], [[2, 2]]);
    assert.deepEqual((await emailsIn(work)).map((e) => [e.subject, e.mailboxIds]), [
      ['one', [inbox, work].sort()], ['two', [work]],
    ]);

    assert.ok(await c.messageDelete('3', { uid: true }));
    assert.deepEqual((await emailsIn(inbox)).map((e) => e.subject), ['one']);
    assert.equal(c.mailbox && c.mailbox.exists, 1);

    const status = await c.mailboxOpen('Work');
    assert.equal(status.exists, 2);
  } finally {
    await c.logout();
  }
});
