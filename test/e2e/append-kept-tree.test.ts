/**
 * APPEND's use of the kept mailbox tree (src/session/commands/append.ts, tree-cache.ts): a next APPEND to the same
 * mailbox checks the tree it resolved the name in with `Mailbox/changes`, in the same request as the upload (RFC 9404
 * `Blob/upload`) and the import, instead of reading the whole tree again. The name must still mean what it means NOW (RFC 9051
 * §6.3.12: APPEND to the named mailbox; a missing one is NO [TRYCREATE]): a mailbox renamed or deleted by another
 * client in between must not receive the message. The octets must arrive exactly (base64 in JSON now).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jmap, startTestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const enc = new TextEncoder();

test('APPEND to the same mailbox again: one request, exact octets; a rename or delete in between is seen', async () => {
  let requests = 0;
  const bed = await startTestBed({ wrapFetch: (inner) => (input, init) => { requests++; return inner(input, init); } });
  const c = await RawClient.connect(bed.imapPort);
  try {
    await c.line();
    assert.match((await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`)).at(-1)!, /^a OK/);
    assert.match((await c.command('b', 'CREATE Work')).at(-1)!, /^b OK/);
    const append = async (tag: string, body: Uint8Array) => {
      const before = requests;
      c.write(Buffer.concat([Buffer.from(`${tag} APPEND Work {${body.length}+}\r\n`), Buffer.from(body), Buffer.from('\r\n')]));
      const lines = await c.until(tag);
      return { status: lines.at(-1)!, requests: requests - before };
    };
    const msg = (n: number) => new Uint8Array([...enc.encode(`Subject: m${n}\r\nFrom: a@example.org\r\n\r\ncaf`), 0xe9, ...enc.encode(` ${n}\r\n`)]);
    assert.match((await append('c1', msg(1))).status, /^c1 OK \[APPENDUID \d+ 1\]/);
    const second = await append('c2', msg(2));
    assert.match(second.status, /^c2 OK \[APPENDUID \d+ 2\]/);
    assert.equal(second.requests, 1, 'Mailbox/changes, Mailbox/get, Blob/upload and Email/import in one request');

    // The message's octets, as stored (8-bit byte included).
    const boxes = await jmap(bed, [['Mailbox/get', { accountId: await accountId(bed), ids: null, properties: ['name'] }, 'm']]);
    const work = (boxes[0]![1].list as Array<{ id: string; name: string }>).find((m) => m.name === 'Work')!.id;
    assert.deepEqual(await messagesIn(bed, work), [msg(1), msg(2)].map((m) => Buffer.from(m).toString('latin1')).sort());

    // Another client renames Work and creates a new Work: the next APPEND goes to the new one.
    const acct = await accountId(bed);
    // (two calls: RFC 8620 §5.3 processes a call's creates before its updates, and the name is still taken then)
    const set = await jmap(bed, [['Mailbox/set', { accountId: acct, update: { [work]: { name: 'Old' } } }, 'r'],
      ['Mailbox/set', { accountId: acct, create: { n: { name: 'Work', parentId: null } } }, 's']]);
    const fresh = (set[1]![1].created as Record<string, { id: string }>).n!.id;
    assert.match((await append('c3', msg(3))).status, /^c3 OK \[APPENDUID \d+ 1\]/);
    assert.deepEqual(await messagesIn(bed, fresh), [Buffer.from(msg(3)).toString('latin1')]);
    assert.equal((await messagesIn(bed, work)).length, 2, 'the renamed mailbox got nothing');

    // Another client deletes it: NO [TRYCREATE] (RFC 9051 §6.3.12), nothing stored.
    await jmap(bed, [['Mailbox/set', { accountId: acct, destroy: [fresh], onDestroyRemoveEmails: true }, 'd']]);
    assert.match((await append('c4', msg(4))).status, /^c4 NO \[TRYCREATE\]/);
    assert.equal((await messagesIn(bed, work)).length, 2);
  } finally {
    c.write('z LOGOUT\r\n');
    await bed.close();
  }
});

async function accountId(bed: Awaited<ReturnType<typeof startTestBed>>): Promise<string> {
  const res = await fetch(`${bed.jmapUrl}/.well-known/jmap`, { headers: { Authorization: 'Basic ' + btoa(`${bed.user}:${bed.password}`) } });
  return ((await res.json()) as { primaryAccounts: Record<string, string> }).primaryAccounts['urn:ietf:params:jmap:mail']!;
}

/** The raw octets (latin1 strings, sorted) of every message in a mailbox, read over JMAP. */
async function messagesIn(bed: Awaited<ReturnType<typeof startTestBed>>, mailboxId: string): Promise<string[]> {
  const acct = await accountId(bed);
  const r = await jmap(bed, [
    ['Email/query', { accountId: acct, filter: { inMailbox: mailboxId } }, 'q'],
    ['Email/get', { accountId: acct, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['blobId'] }, 'g'],
  ]);
  const out: string[] = [];
  for (const e of r[1]![1].list as Array<{ blobId: string }>) {
    const res = await fetch(`${bed.jmapUrl}/jmap/download/${acct}/${e.blobId}/m.eml?type=message/rfc822`,
      { headers: { Authorization: 'Basic ' + btoa(`${bed.user}:${bed.password}`) } });
    out.push(Buffer.from(await res.arrayBuffer()).toString('latin1'));
  }
  return out.sort();
}
