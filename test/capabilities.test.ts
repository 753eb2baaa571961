/**
 * "Advertise only what is proven": every capability the gateway announces, before and after login, maps to the
 * tests that prove it. A capability without an entry here, or an entry whose test is gone, fails this test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestBed, type TestBed } from './helpers/gateway.ts';
import { RawClient } from './helpers/raw-client.ts';

/** Capability -> [test file (relative to test/), a test title in it]. */
const PROOF: Record<string, Array<[string, string]>> = {
  IMAP4rev1: [
    ['e2e/imapflow.test.ts', 'folder listing FETCH'],
    ['e2e/imaplib.test.ts', 'imaplib over'],
    ['e2e/fetch-raw.test.ts', "Thunderbird's folder listing command"],
    ['e2e/bad-input.test.ts', 'a command in the wrong state is BAD'],
    ['protocol/parse.test.ts', ''],
  ],
  IMAP4rev2: [
    ['transcripts/rfc-rev2.test.ts', 'RFC 9051 §6.3.1: ENABLE IMAP4rev2'],
    ['transcripts/rfc-rev2.test.ts', 'RFC 9051 §6.3.2 SELECT: LIST instead of RECENT'],
    ['transcripts/rfc-rev2.test.ts', 'RFC 9051 §6.3.3 EXAMINE'],
    ['transcripts/rfc-rev2.test.ts', 'RFC 9051 §6.4.4 SEARCH examples: ESEARCH answers'],
    ['transcripts/rfc-rev2.test.ts', 'RFC 9051 §6.3.11 STATUS example'],
    ['transcripts/rfc-rev2.test.ts', 'after ENABLE ${enable}: LIST, SELECT, STATUS and CREATE use UTF-8 names'],
    ['e2e/rev2-clients.test.ts', 'imapflow enables IMAP4rev2 and UTF8=ACCEPT'],
    ['e2e/rev2-clients.test.ts', 'Python imaplib (rev1, no ENABLE) beside an imapflow rev2 session'],
    ['capabilities.test.ts', 'docs/rev2.md goes through every item of RFC 9051 Appendix E'],
  ],
  'UTF8=ACCEPT': [
    ['transcripts/rfc-rev2.test.ts', 'after ENABLE ${enable}: LIST, SELECT, STATUS and CREATE use UTF-8 names'],
    ['transcripts/rfc-rev2.test.ts', 'RFC 6855 §3: SEARCH with a CHARSET is BAD'],
    ['transcripts/rfc-rev2.test.ts', 'RFC 6855 §4 APPEND UTF8 (~{n})'],
    ['transcripts/rfc-rev2.test.ts', 'RFC 6855 §4: without ENABLE UTF8=ACCEPT the UTF8 APPEND form is BAD'],
    ['e2e/rev2-clients.test.ts', 'imapflow enables IMAP4rev2 and UTF8=ACCEPT'],
  ],
  CONDSTORE: [
    ['transcripts/rfc-condstore.test.ts', 'RFC 7162 §3.1.2 STATUS (HIGHESTMODSEQ) and §3.1.2.1 / §3.1.8 SELECT (CONDSTORE)'],
    ['transcripts/rfc-condstore.test.ts', 'RFC 7162 §3.1.3 Example 5'],
    ['transcripts/rfc-condstore.test.ts', 'RFC 7162 §3.1.3 Examples 3, 6, 7 and §3.1.4.1 FETCH (CHANGEDSINCE)'],
    ['transcripts/rfc-condstore.test.ts', 'RFC 7162 §3.1.5 SEARCH MODSEQ'],
    ['transcripts/rfc-condstore.test.ts', 'ENABLE CONDSTORE, then SELECT reports HIGHESTMODSEQ'],
    ['e2e/condstore.test.ts', 'FETCH (CHANGEDSINCE) sees a STORE by another session and a keyword change made directly in JMAP'],
    ['e2e/condstore.test.ts', 'STORE (UNCHANGEDSINCE) loses to a change racing in through JMAP'],
    ['e2e/condstore.test.ts', 'HIGHESTMODSEQ grows with each change and survives a gateway restart'],
    ['uidmap/contract.ts', 'mod-sequences (RFC 7162 §3.1)'],
  ],
  QRESYNC: [
    ['transcripts/rfc-qresync.test.ts', 'RFC 7162 §3.2.3 / §3.2.5 / §3.2.6: QRESYNC forms are BAD before ENABLE QRESYNC'],
    ['transcripts/rfc-qresync.test.ts', 'RFC 7162 §3.2.5.1 example'],
    ['transcripts/rfc-qresync.test.ts', 'RFC 7162 §3.2.5.1: known UIDs limit both'],
    ['transcripts/rfc-qresync.test.ts', 'RFC 7162 §3.2.5: a UIDVALIDITY that does not match'],
    ['transcripts/rfc-qresync.test.ts', 'RFC 7162 §3.2.5.2: sequence match data'],
    ['transcripts/rfc-qresync.test.ts', 'RFC 7162 §3.2.6 example'],
    ['transcripts/rfc-qresync.test.ts', 'RFC 7162 §3.2.7 / §3.2.9 / §3.2.10.2 and RFC 6851 §4.4'],
    ['e2e/qresync.test.ts', 'after 1,000 changes (JMAP and another IMAP session), SELECT (QRESYNC)'],
    ['e2e/qresync.test.ts', 'the expunge history is complete'],
    ['e2e/qresync.test.ts', 'reaches the other as VANISHED at NOOP and in IDLE'],
    ['e2e/qresync.test.ts', 'comes with a lower HIGHESTMODSEQ'],
    ['e2e/qresync.test.ts', 'SELECT (QRESYNC) of an unchanged mailbox costs what a plain SELECT costs'],
    ['differential/qresync-dovecot.test.ts', 'SELECT (QRESYNC) in its forms, UID FETCH (CHANGEDSINCE VANISHED), bad forms'],
    ['differential/qresync-dovecot.test.ts', 'EXPUNGE and UID EXPUNGE answer VANISHED and HIGHESTMODSEQ'],
    ['interop/cyrus-qresync.test.ts', 'Cyrus: after 200 changes, SELECT (QRESYNC)'],
  ],
  'LITERAL+': [['e2e/bad-input.test.ts', 'a non-synchronizing literal over the limit is read, discarded and refused']],
  'SASL-IR': [['e2e/bad-input.test.ts', 'AUTHENTICATE PLAIN with SASL-IR']],
  'AUTH=PLAIN': [['e2e/bad-input.test.ts', 'AUTHENTICATE PLAIN with SASL-IR, with a continuation, cancelled, and with bad base64']],
  'AUTH=LOGIN': [
    ['e2e/auth-sasl.test.ts', 'AUTHENTICATE LOGIN: "Username:" and "Password:" challenges'],
    ['e2e/auth-sasl.test.ts', 'AUTHENTICATE LOGIN with SASL-IR'],
    ['e2e/auth-sasl.test.ts', 'AUTHENTICATE LOGIN cancelled with *, and with bad base64'],
  ],
  'AUTH=OAUTHBEARER': [
    ['auth/sasl.test.ts', 'RFC 7628 §4.1 OAUTHBEARER initial response'],
    ['auth/tokens.test.ts', 'token attacks are refused'],
    ['e2e/auth-oauth.test.ts', 'imapflow with accessToken logs in over TLS (OAUTHBEARER)'],
    ['e2e/auth-oauth.test.ts', 'RFC 7628 §4.3 failure exchange'],
    ['clients/oauth.test.ts', 'neomutt in tmux, ${mech} over TLS: a valid token opens INBOX'],
  ],
  'AUTH=XOAUTH2': [
    ['auth/sasl.test.ts', 'XOAUTH2: the Google example'],
    ['e2e/auth-oauth.test.ts', 'Python imaplib AUTHENTICATE ${mech}'],
    ['e2e/auth-oauth.test.ts', 'curl --oauth2-bearer'],
    ['clients/oauth.test.ts', 'neomutt in tmux, ${mech} over TLS: a valid token opens INBOX'],
    ['clients/oauth.test.ts', 'mbsync XOAUTH2 over TLS'],
    ['clients/oauth.test.ts', 'offlineimap XOAUTH2 over TLS'],
  ],
  ID: [['transcripts/rfc.test.ts', 'RFC 2971']],
  ENABLE: [['transcripts/rfc.test.ts', 'RFC 5161']],
  UNSELECT: [['transcripts/rfc.test.ts', 'RFC 3691']],
  NAMESPACE: [
    ['transcripts/rfc-mailbox.test.ts', 'RFC 9051 §6.3.10 NAMESPACE'],
    ['transcripts/rfc-namespace.test.ts', 'RFC 2342 §5 example 5.7'],
    ['e2e/shared-accounts.test.ts', 'NAMESPACE: other users only for a user with shared accounts'],
    ['e2e/shared-accounts.test.ts', 'SELECT and FETCH as bob'],
    ['interop/cyrus-shared.test.ts', 'NAMESPACE, LIST, SELECT with the owner'],
  ],
  CHILDREN: [
    ['transcripts/rfc-mailbox.test.ts', 'RFC 5258 §5 examples 3 and 4'],
    ['transcripts/rfc-mailbox.test.ts', 'RFC 9051 §6.3.4 CREATE'],
  ],
  'LIST-EXTENDED': [
    ['transcripts/rfc-mailbox.test.ts', 'RFC 5258 §5 example 1'],
    ['transcripts/rfc-mailbox.test.ts', 'RFC 5258 §5 examples 2 and 5'],
    ['transcripts/rfc-mailbox.test.ts', 'RFC 5258 §5 example 6'],
    ['transcripts/rfc-mailbox.test.ts', 'RFC 5258 §5 example 7'],
    ['transcripts/rfc-mailbox.test.ts', 'RFC 5258 §5 example 8'],
    ['transcripts/rfc-mailbox.test.ts', 'RFC 5258 §5 example 9'],
    ['transcripts/rfc-mailbox.test.ts', 'RFC 5258 §3.1: RECURSIVEMATCH alone'],
    ['e2e/mailbox-commands.test.ts', 'subscriptions are JMAP isSubscribed'],
  ],
  'LIST-STATUS': [
    ['transcripts/rfc-mailbox.test.ts', 'RFC 5819 §3'],
    ['e2e/mailbox-commands.test.ts', 'list with statusQuery and listTree'],
  ],
  'SPECIAL-USE': [['transcripts/rfc-mailbox.test.ts', 'RFC 6154 §5.1/§5.2']],
  'CREATE-SPECIAL-USE': [['transcripts/rfc-mailbox.test.ts', 'RFC 6154 §5.3 CREATE with USE']],
  IDLE: [
    ['e2e/idle.test.ts', 'new mail, a flag change and a deletion made in JMAP arrive as EXISTS, FETCH (UID FLAGS) and EXPUNGE'],
    ['e2e/idle.test.ts', 'anything but DONE ends IDLE with BAD'],
  ],
  STARTTLS: [
    ['e2e/bad-input.test.ts', 'STARTTLS: plaintext pipelined after it is discarded'],
    ['e2e/imapflow.test.ts', 'STARTTLS'],
  ],
  LOGINDISABLED: [['e2e/bad-input.test.ts', 'LOGINDISABLED until STARTTLS']],
  UIDPLUS: [
    ['transcripts/rfc-write.test.ts', 'RFC 4315 §2.1 UID EXPUNGE'],
    ['transcripts/rfc-write.test.ts', 'RFC 4315 §3 APPENDUID and COPYUID'],
    ['e2e/write-raw.test.ts', 'COPYUID maps source to new destination UIDs'],
    ['e2e/write-imapflow.test.ts', 'imapflow: append, flags add/remove/set, copy, move and delete'],
  ],
  MOVE: [
    ['transcripts/rfc-write.test.ts', 'RFC 6851 §3.3 UID MOVE'],
    ['e2e/write-raw.test.ts', 'untagged OK [COPYUID] before the EXPUNGEs'],
    ['e2e/write-raw.test.ts', 'MOVE to the selected mailbox gives the message a new UID'],
    ['e2e/write-imapflow.test.ts', 'imapflow: append, flags add/remove/set, copy, move and delete'],
  ],
  MULTIAPPEND: [['e2e/write-raw.test.ts', 'MULTIAPPEND: one APPENDUID set; all or none when a later message is refused']],
  ESEARCH: [
    ['transcripts/rfc-search.test.ts', 'RFC 4731 §3.1 / RFC 9051 §6.4.4 ESEARCH examples'],
    ['e2e/search-keys.test.ts', 'ESEARCH (RFC 4731): MIN MAX COUNT ALL, RETURN () = ALL, UID indicator, empty results'],
  ],
  SEARCHRES: [
    ['transcripts/rfc-search.test.ts', 'RFC 5182 §4 SEARCHRES examples 1-5'],
    ['e2e/search-keys.test.ts', 'SEARCHRES (RFC 5182): SAVE, $ in FETCH / SEARCH / UID SEARCH'],
  ],
  SORT: [
    ['transcripts/rfc-search.test.ts', 'RFC 5256 §3 SORT examples'],
    ['e2e/search-keys.test.ts', 'SORT (RFC 5256 §3, RFC 5957): every criterion'],
    ['search/units.test.ts', 'RFC 5256 §2.1 base subject'],
  ],
  'SORT=DISPLAY': [['e2e/search-keys.test.ts', 'SORT (RFC 5256 §3, RFC 5957): every criterion']],
  'THREAD=ORDEREDSUBJECT': [
    ['transcripts/rfc-search.test.ts', 'RFC 5256 §3 THREAD examples'],
    ['search/units.test.ts', 'THREAD ORDEREDSUBJECT: groups by base subject'],
  ],
  'THREAD=REFERENCES': [
    ['transcripts/rfc-search.test.ts', 'RFC 5256 §3 THREAD examples'],
    ['e2e/search-keys.test.ts', 'THREAD ORDEREDSUBJECT and REFERENCES (RFC 5256 §3)'],
    ['search/units.test.ts', 'THREAD REFERENCES: a truncated References chain, a reference loop'],
  ],
  'STATUS=SIZE': [
    ['transcripts/rfc-quota.test.ts', 'RFC 8438 §3 STATUS SIZE'],
    ['e2e/mailbox-commands.test.ts', 'STATUS DELETED, SIZE, MAILBOXID, RECENT'],
  ],
  BINARY: [
    ['e2e/fetch-structure.test.ts', 'RFC 3516 BINARY: decoded base64 with NUL as literal8'],
    ['e2e/fetch-structure.test.ts', 'RFC 3516 §4.3: an unknown Content-Transfer-Encoding fails with NO [UNKNOWN-CTE]'],
    ['e2e/fetch-structure.test.ts', 'BINARY without .PEEK sets'],
    ['e2e/fetch-structure.test.ts', 'RFC 3516 §4.4: a message with NUL octets APPENDed as literal8'],
    ['mime/bodystructure.test.ts', 'decodeTransfer: base64, quoted-printable'],
  ],
  PREVIEW: [
    ['e2e/fetch-structure.test.ts', 'RFC 8970 PREVIEW: at most 256 characters'],
    ['transcripts/rfc-fetch.test.ts', 'RFC 8970 §3.2 and §4.1 examples'],
  ],
  // After login; the value is the embedded store's maxSizeUpload (below the gateway's 64 MiB literal limit).
  'APPENDLIMIT=50000000': [
    ['transcripts/rfc-quota.test.ts', 'RFC 7889 §2/§3.2 APPENDLIMIT'],
    ['e2e/bad-args.test.ts', 'APPEND over APPENDLIMIT'],
  ],
  QUOTA: [
    ['transcripts/rfc-quota.test.ts', 'RFC 9208 §4.1.2 GETQUOTAROOT INBOX'],
    ['transcripts/rfc-quota.test.ts', 'RFC 9208 §4.1.1 GETQUOTA'],
    ['transcripts/rfc-quota.test.ts', 'RFC 9208 §4.1.3 SETQUOTA'],
    ['transcripts/rfc-quota.test.ts', 'RFC 9208 §4.3.1 example 1: APPEND over quota'],
  ],
  'QUOTA=RES-STORAGE': [
    ['transcripts/rfc-quota.test.ts', 'RFC 9208 §4.1.2 GETQUOTAROOT INBOX'],
    ['transcripts/rfc-quota.test.ts', 'RFC 9208 §4.1.4 STATUS DELETED and DELETED-STORAGE'],
  ],
  'QUOTA=RES-MESSAGE': [
    ['transcripts/rfc-quota.test.ts', 'RFC 9208 §4.1.2 GETQUOTAROOT INBOX'],
    ['transcripts/rfc-quota.test.ts', 'RFC 9208 §4.1.4 STATUS DELETED and DELETED-STORAGE'],
  ],
  JMAPACCESS: [['transcripts/rfc-quota.test.ts', 'RFC 9698 GETJMAPACCESS']],
  OBJECTID: [
    ['transcripts/rfc-objectid.test.ts', 'RFC 8474 §4.1-§4.3: CREATE, SELECT and STATUS agree on MAILBOXID'],
    ['e2e/objectid-copy.test.ts', 'RFC 8474 §5.1: a COPY into the same mailbox keeps the source EMAILID and THREADID'],
    ['e2e/objectid-copy.test.ts', 'RFC 8474 §5.1: MOVE within the mailbox and COPY to another mailbox keep EMAILID'],
    ['uidmap/origins.test.ts', 'SQLite store: origins are write-once, per account, and survive reopening the file'],
    ['uidmap/contract.ts', 'origins (RFC 8474 §5.1) are write-once, per account, and outlive a mailbox reset'],
    ['edge/do-uid-store.test.ts', "runUidStoreContract('UidStoreDO over HTTP (workerd)'"], // the contract above, on the DO
    ['edge/workerd-tcp.test.ts', 'workerd: OBJECTID is advertised; a COPY into the same mailbox (an import) keeps the source EMAILID/THREADID'],
    ['edge/node-do-flags.test.ts', 'Node with --do-store-url/--do-cache: UIDs and cache in the Durable Objects, nothing local; a second gateway sees the same UIDs and EMAILIDs'],
  ],
};

let bed: TestBed;
before(async () => {
  bed = await startTestBed({ gateway: { loopbackIsSecure: false } });
});
after(() => bed.close());

function capsOf(line: string): string[] {
  return line.replace(/^\* CAPABILITY /, '').split(' ');
}

test('every advertised capability, in every state, is mapped to tests that exist', async () => {
  const advertised = new Set<string>();
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  capsOf((await c.command('a', 'CAPABILITY'))[0]!).forEach((x) => advertised.add(x));
  await c.command('b', 'STARTTLS');
  await c.startTls();
  capsOf((await c.command('c', 'CAPABILITY'))[0]!).forEach((x) => advertised.add(x));
  await c.command('d', `LOGIN "${bed.user}" "${bed.password}"`);
  capsOf((await c.command('e', 'CAPABILITY'))[0]!).forEach((x) => advertised.add(x));
  c.close();
  const unmapped = [...advertised].filter((cap) => !PROOF[cap]);
  assert.deepEqual(unmapped, [], 'capabilities advertised without proof');
  for (const cap of advertised) {
    for (const [file, title] of PROOF[cap]!) {
      const text = readFileSync(new URL(file, new URL('./', import.meta.url)), 'utf8');
      assert.ok(text.includes(title), `${cap}: ${file} has no test "${title}"`);
    }
  }
});

test('IMAP4rev2 is advertised beside IMAP4rev1 (RFC 9051 Appendix A), so rev1 clients keep working', async () => {
  const c = await RawClient.connect(bed.imapsPort, { tls: true });
  const greeting = await c.line();
  assert.match(greeting, / IMAP4rev1 /);
  assert.match(greeting, / IMAP4rev2 /);
  c.close();
});

test('docs/rev2.md goes through every item of RFC 9051 Appendix E (1-30), each with how it is met', () => {
  const doc = readFileSync(new URL('../docs/rev2.md', import.meta.url), 'utf8');
  for (let item = 1; item <= 30; item++) {
    const row = doc.split('\n').find((l) => l.startsWith(`| ${item} |`));
    assert.ok(row, `Appendix E item ${item} is missing from docs/rev2.md`);
    assert.ok(row.split('|').filter((cell) => cell.trim() !== '').length >= 3, `item ${item} says how it is met`);
  }
});
