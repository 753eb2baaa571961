/**
 * Shared accounts over a real JMAP server: Cyrus 3.6 lists a user's mailboxes that another user may read (IMAP ACL,
 * RFC 4314 SETACL by the admin) as an account of that other user's JMAP session with `isPersonal: false`, named by
 * the owner's userid (RFC 8620 §2). Through the gateway, bob then finds `Other Users/testuser/INBOX` (RFC 2342 §5),
 * with the same UIDs testuser's own gateway session shows, and can flag and append there; testuser sees it. An `lr`
 * ACL gives an `isReadOnly` account: carol's SELECT is [READ-ONLY] and her writes NO [NOPERM] (RFC 5530).
 * Cyrus quirks seen here: the shared account carries the owner's full mail capabilities, and its myRights follow the
 * ACL (mayRename/mayDelete false on INBOX, a non-standard `mayAdmin`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { cyrusAvailable, seedViaJmap, startCyrusBed, type CyrusBed } from '../helpers/cyrus.ts';
import { RawClient } from '../helpers/raw-client.ts';

const BOB = { user: 'bob', password: 'bob-interop-pw' };
const CAROL = { user: 'carol', password: 'carol-interop-pw' };
const enc = new TextEncoder();
const message = (subject: string) => enc.encode(`From: x@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replaceAll(' ', '.')}@example.org>\r\n\r\nbody\r\n`);

async function login(port: number, user: string, password: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.line();
  assert.match((await c.command('L', `LOGIN "${user}" "${password}"`)).at(-1)!, /^L OK/);
  return c;
}

async function subjects(c: RawClient): Promise<Array<[number, string]>> {
  const lines = await c.command('F', 'UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
  const out: Array<[number, string]> = [];
  lines.forEach((l, i) => {
    const m = /^\* \d+ FETCH \(UID (\d+) BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}$/.exec(l);
    if (m) out.push([Number(m[1]), lines[i + 1]!]);
  });
  return out;
}

if (cyrusAvailable('cyrus-shared')) {
  describe('Cyrus 3.6: a mailbox shared by ACL is an Other Users account through the gateway', () => {
    let bed: CyrusBed;
    before(async () => {
      bed = await startCyrusBed();
      const { cyrus } = bed;
      for (const u of [BOB, CAROL]) execFileSync('/usr/sbin/saslpasswd2', ['-p', '-c', '-f', join(cyrus.dir, 'sasldb2'), '-u', 'localhost', u.user], { input: `${u.password}\n` });
      execFileSync('chown', ['cyrus:mail', join(cyrus.dir, 'sasldb2')]);
      const admin = await login(cyrus.imapPort, 'cyrus', 'cyrus-admin-pw');
      assert.match((await admin.command('a', `CREATE user/${BOB.user}`)).at(-1)!, /^a OK/);
      assert.match((await admin.command('b', `SETACL user/${cyrus.user} ${BOB.user} lrswitedn`)).at(-1)!, /^b OK/);
      assert.match((await admin.command('c', `CREATE user/${CAROL.user}`)).at(-1)!, /^c OK/);
      // RFC 4314 `lr`: lookup and read only; Cyrus then marks the account isReadOnly in carol's JMAP session.
      assert.match((await admin.command('d', `SETACL user/${cyrus.user} ${CAROL.user} lr`)).at(-1)!, /^d OK/);
      admin.close();
      await seedViaJmap(cyrus.jmapSessionUrl, cyrus.user, cyrus.password, [message('shared one'), message('shared two')]);
    });
    after(() => bed?.close());

    test('NAMESPACE, LIST, SELECT with the owner\'s UIDs, STORE and APPEND seen by the owner', async () => {
      const bob = await login(bed.imapPort, BOB.user, BOB.password);
      assert.equal((await bob.command('N', 'NAMESPACE'))[0], '* NAMESPACE (("" "/")) (("Other Users/" "/")) NIL');
      const listed = await bob.command('A', 'LIST "" "Other Users/*"');
      assert.ok(listed.includes('* LIST (\\Noselect \\HasChildren) "/" "Other Users/testuser"'), listed.join('\n'));
      assert.ok(listed.includes('* LIST (\\HasNoChildren) "/" "Other Users/testuser/INBOX"'), listed.join('\n'));
      const owner = await login(bed.imapPort, bed.user, bed.password);
      await owner.command('S', 'SELECT INBOX');
      const own = await subjects(owner);
      assert.deepEqual(own.map(([, s]) => s), ['Subject: shared one', 'Subject: shared two']);
      const sel = await bob.command('S', 'SELECT "Other Users/testuser/INBOX"');
      assert.match(sel.at(-1)!, /^S OK \[READ-WRITE\]/);
      assert.deepEqual(await subjects(bob), own, 'the same UIDs as the owner\'s session (one UID map per account)');
      assert.match((await bob.command('T', `UID STORE ${own[0]![0]} +FLAGS.SILENT (\\Flagged)`)).at(-1)!, /^T OK/);
      const raw = message('from bob');
      bob.write(`P APPEND "Other Users/testuser/INBOX" {${raw.length}+}\r\n`);
      bob.write(raw);
      bob.write('\r\n');
      const appended = (await bob.until('P')).at(-1)!;
      const m = /^P OK \[APPENDUID \d+ (\d+)\]/.exec(appended);
      assert.ok(m, appended);
      const noop = await owner.command('O', 'NOOP');
      assert.ok(noop.includes('* 3 EXISTS'), noop.join('\n'));
      assert.equal((await owner.command('G', `UID FETCH ${own[0]![0]} (FLAGS)`))[0], `* 1 FETCH (UID ${own[0]![0]} FLAGS (\\Flagged))`);
      assert.deepEqual((await subjects(owner)).at(-1), [Number(m[1]), 'Subject: from bob']);
      owner.close();
      bob.close();
    });

    test('read-only ACL (lr): [READ-ONLY] on SELECT, NO [NOPERM] on STORE and APPEND', async () => {
      const carol = await login(bed.imapPort, CAROL.user, CAROL.password);
      const sel = await carol.command('S', 'SELECT "Other Users/testuser/INBOX"');
      assert.match(sel.at(-1)!, /^S OK \[READ-ONLY\]/);
      assert.match((await carol.command('T', 'STORE 1 +FLAGS (\\Seen)')).at(-1)!, /^T NO \[NOPERM\]/);
      const raw = message('from carol');
      carol.write(`P APPEND "Other Users/testuser/INBOX" {${raw.length}+}\r\n`);
      carol.write(raw);
      carol.write('\r\n');
      assert.match((await carol.until('P')).at(-1)!, /^P NO \[NOPERM\]/);
      carol.close();
    });
  });
}
