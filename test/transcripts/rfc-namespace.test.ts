/**
 * Golden C:/S: transcript of RFC 2342 §5 example 5.7 (a server listing the other users' mailboxes the logged-in
 * user may reach): NAMESPACE answers `(("" "/")) (("Other Users/" "/")) NIL`, and LIST "" "Other Users/%" names
 * each user that granted access, by the name they log in with (§5: "<username> ... as per the IMAP4 LOGIN").
 * The one difference from the RFC's lines: the user levels are not mailboxes, so they carry `\Noselect` and
 * `\HasChildren` (RFC 9051 §7.3.1; the RFC's example shows `()`). Also example 5.1 for a user with no shares.
 * Written from the RFC text, never from our own output.
 */
import { after, before, test } from 'node:test';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { playLoggedIn } from './replay.ts';

let bed: TestBed;
const PW = 'transcript password';

before(async () => {
  bed = await startTestBed();
  for (const u of ['Mike', 'Karen', 'Tesa']) bed.store.createUser(u, PW);
  bed.store.createUser('Matthew', PW);
  bed.store.createUser('reader', PW);
  for (const u of ['Karen', 'Matthew', 'Mike', 'Tesa']) bed.store.shareAccount(u, 'reader', { readOnly: u === 'Tesa' });
});
after(() => bed.close());

test('RFC 2342 §5 example 5.7: Other Users/ namespace and LIST of the users who granted access', async () => {
  await playLoggedIn(bed.imapPort, 'reader', PW, `
    C: A001 NAMESPACE
    S: * NAMESPACE (("" "/")) (("Other Users/" "/")) NIL
    S: A001 OK …
    C: A002 LIST "" "Other Users/%"
    S: * LIST (\\Noselect \\HasChildren) "/" "Other Users/Karen"
    S: * LIST (\\Noselect \\HasChildren) "/" "Other Users/Matthew"
    S: * LIST (\\Noselect \\HasChildren) "/" "Other Users/Mike"
    S: * LIST (\\Noselect \\HasChildren) "/" "Other Users/Tesa"
    S: A002 OK …
    C: A003 LIST "Other Users/Mike/" INBOX
    S: * LIST (\\HasNoChildren) "/" "Other Users/Mike/INBOX"
    S: A003 OK …
  `);
});

test('RFC 2342 §5 example 5.1: a user with no shared accounts has only the personal namespace', async () => {
  await playLoggedIn(bed.imapPort, 'Mike', PW, `
    C: A001 NAMESPACE
    S: * NAMESPACE (("" "/")) NIL NIL
    S: A001 OK …
    C: A002 LIST "" "Other Users/%"
    S: A002 OK …
  `);
});
