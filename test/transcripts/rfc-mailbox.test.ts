/**
 * Golden C:/S: transcripts of the mailbox commands, from the RFCs' own examples: RFC 5258 §5 (LIST-EXTENDED),
 * RFC 5819 §3 (LIST-STATUS), RFC 6154 §5 (SPECIAL-USE, CREATE-SPECIAL-USE), RFC 9051 §6.3.4-6.3.11 and
 * RFC 3501 §6.3.9 (LSUB). Adapted to a JMAP store, keeping each example's rules:
 * - every name in a JMAP hierarchy exists, so the RFCs' subscribed-but-missing names (`Fruit/Peach`) and
 *   missing parents (`qux2`) are left out or exist as plain mailboxes;
 * - this server always sends \HasChildren / \HasNoChildren (RFC 5258 §4 allows it) and never \Marked or
 *   \NoInferiors; LIST attributes are compared as sets (their order carries no meaning, RFC 9051 §7.3.1);
 * - responses come in the tree's order (INBOX, then by JMAP sortOrder and name), which RFC 5258 leaves free.
 * `…` in an S: line matches any text (human-readable text, UIDVALIDITY).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { jmap, jmapCreate, jmapMailboxes, jmapSubscribe } from '../helpers/mailbox-jmap.ts';
import { MULTIPART, SIMPLE } from '../fixtures/messages.ts';

/** Sort the attribute list of a LIST/LSUB line, so attribute order does not matter. */
function normalize(line: string): string {
  const m = /^(\* (?:LIST|LSUB) \()([^)]*)(\).*)$/.exec(line);
  if (!m) return line;
  return m[1] + m[2]!.split(' ').filter(Boolean).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())).join(' ') + m[3];
}

/** Replay a transcript: send C: lines, expect S: lines in order (`…` matches any text). */
async function replay(bed: TestBed, transcript: string): Promise<void> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line(); // greeting
  try {
    c.write(`login LOGIN "${bed.user}" "${bed.password}"\r\n`);
    await c.until('login');
    for (const raw of transcript.trim().split('\n').map((l) => l.trim())) {
      if (raw.startsWith('C: ')) c.write(raw.slice(3) + '\r\n');
      else if (raw.startsWith('S: ')) {
        const want = normalize(raw.slice(3));
        const pattern = new RegExp('^' + want.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?') + '$');
        const got = normalize(await c.line());
        assert.match(got, pattern, `expected ${raw}`);
      }
    }
  } finally {
    c.close();
  }
}

/** Destroy every mailbox but INBOX, so the tree is the RFC example's. */
async function onlyInbox(bed: TestBed): Promise<void> {
  const accountId = (await jmapMailboxes(bed)).length ? await primaryAccount(bed) : '';
  const doomed = (await jmapMailboxes(bed)).filter((m) => m.role !== 'inbox').map((m) => m.id);
  await jmap(bed, [['Mailbox/set', { accountId, destroy: doomed, onDestroyRemoveEmails: true }, 'd']]);
}

async function primaryAccount(bed: TestBed): Promise<string> {
  const auth = 'Basic ' + Buffer.from(`${bed.user}:${bed.password}`).toString('base64');
  const s = await (await fetch(`${bed.jmapUrl}/.well-known/jmap`, { headers: { authorization: auth } })).json() as { primaryAccounts: Record<string, string> };
  return s.primaryAccounts['urn:ietf:params:jmap:mail']!;
}

describe('RFC 5258 §5 examples 1-7 and RFC 5819 §3 (hierarchy of example 1)', () => {
  let bed: TestBed;
  before(async () => {
    bed = await startTestBed();
    await onlyInbox(bed);
    await jmapCreate(bed, ['Fruit', 'Fruit/Apple', 'Fruit/Banana', 'Tofu', 'Vegetable', 'Vegetable/Broccoli', 'Vegetable/Corn'],
      ['Fruit/Banana', 'Vegetable', 'Vegetable/Broccoli']);
    bed.store.importMessage(bed.user, 'inbox', SIMPLE, { keywords: ['$seen'] });
    bed.store.importMessage(bed.user, 'inbox', MULTIPART);
    bed.store.importMessage(bed.user, 'Fruit', SIMPLE);
  });
  after(() => bed.close());

  test('RFC 5258 §5 example 1: LIST "" "*" shows the whole hierarchy', () => replay(bed, String.raw`
    C: A01 LIST "" "*"
    S: * LIST (\HasNoChildren) "/" INBOX
    S: * LIST (\HasChildren) "/" Fruit
    S: * LIST (\HasNoChildren) "/" Fruit/Apple
    S: * LIST (\HasNoChildren) "/" Fruit/Banana
    S: * LIST (\HasNoChildren) "/" Tofu
    S: * LIST (\HasChildren) "/" Vegetable
    S: * LIST (\HasNoChildren) "/" Vegetable/Broccoli
    S: * LIST (\HasNoChildren) "/" Vegetable/Corn
    S: A01 OK …
  `));

  test('RFC 5258 §5 examples 2 and 5: LIST (SUBSCRIBED) and (REMOTE SUBSCRIBED) list subscribed names with \\Subscribed', () => replay(bed, String.raw`
    C: A02 LIST (SUBSCRIBED) "" "*"
    S: * LIST (\HasNoChildren \Subscribed) "/" INBOX
    S: * LIST (\HasNoChildren \Subscribed) "/" Fruit/Banana
    S: * LIST (\HasChildren \Subscribed) "/" Vegetable
    S: * LIST (\HasNoChildren \Subscribed) "/" Vegetable/Broccoli
    S: A02 OK …
    C: A05 LIST (REMOTE SUBSCRIBED) "" "*"
    S: * LIST (\HasNoChildren \Subscribed) "/" INBOX
    S: * LIST (\HasNoChildren \Subscribed) "/" Fruit/Banana
    S: * LIST (\HasChildren \Subscribed) "/" Vegetable
    S: * LIST (\HasNoChildren \Subscribed) "/" Vegetable/Broccoli
    S: A05 OK …
  `));

  test('RFC 5258 §5 examples 3 and 4: RETURN (CHILDREN), with and without REMOTE', () => replay(bed, String.raw`
    C: A03 LIST () "" "%" RETURN (CHILDREN)
    S: * LIST (\HasNoChildren) "/" INBOX
    S: * LIST (\HasChildren) "/" Fruit
    S: * LIST (\HasNoChildren) "/" Tofu
    S: * LIST (\HasChildren) "/" Vegetable
    S: A03 OK …
    C: A04 LIST (REMOTE) "" "%" RETURN (CHILDREN)
    S: * LIST (\HasNoChildren) "/" INBOX
    S: * LIST (\HasChildren) "/" Fruit
    S: * LIST (\HasNoChildren) "/" Tofu
    S: * LIST (\HasChildren) "/" Vegetable
    S: A04 OK …
  `));

  test('RFC 5258 §5 example 6: RETURN (SUBSCRIBED) marks the subscribed among all names', () => replay(bed, String.raw`
    C: A06 LIST (REMOTE) "" "*" RETURN (SUBSCRIBED)
    S: * LIST (\HasNoChildren \Subscribed) "/" INBOX
    S: * LIST (\HasChildren) "/" Fruit
    S: * LIST (\HasNoChildren) "/" Fruit/Apple
    S: * LIST (\HasNoChildren \Subscribed) "/" Fruit/Banana
    S: * LIST (\HasNoChildren) "/" Tofu
    S: * LIST (\HasChildren \Subscribed) "/" Vegetable
    S: * LIST (\HasNoChildren \Subscribed) "/" Vegetable/Broccoli
    S: * LIST (\HasNoChildren) "/" Vegetable/Corn
    S: A06 OK …
  `));

  test('RFC 5258 §5 example 7: several patterns, each name once', () => replay(bed, String.raw`
    C: BBB LIST "" ("INBOX" "Tofu" "Fruit/%" "Fru*")
    S: * LIST (\HasNoChildren) "/" INBOX
    S: * LIST (\HasChildren) "/" Fruit
    S: * LIST (\HasNoChildren) "/" Fruit/Apple
    S: * LIST (\HasNoChildren) "/" Fruit/Banana
    S: * LIST (\HasNoChildren) "/" Tofu
    S: BBB OK …
  `));

  test('RFC 5819 §3: LIST RETURN (STATUS ...) sends STATUS after each selectable listed mailbox', () => replay(bed, String.raw`
    C: A01 LIST "" % RETURN (STATUS (MESSAGES UNSEEN))
    S: * LIST (\HasNoChildren) "/" INBOX
    S: * STATUS INBOX (MESSAGES 2 UNSEEN 1)
    S: * LIST (\HasChildren) "/" Fruit
    S: * STATUS Fruit (MESSAGES 1 UNSEEN 1)
    S: * LIST (\HasNoChildren) "/" Tofu
    S: * STATUS Tofu (MESSAGES 0 UNSEEN 0)
    S: * LIST (\HasChildren) "/" Vegetable
    S: * STATUS Vegetable (MESSAGES 0 UNSEEN 0)
    S: A01 OK …
    C: A02 LIST (SUBSCRIBED RECURSIVEMATCH) "" % RETURN (STATUS (MESSAGES))
    S: * LIST (\HasNoChildren \Subscribed) "/" INBOX
    S: * STATUS INBOX (MESSAGES 2)
    S: * LIST (\HasChildren) "/" Fruit ("CHILDINFO" ("SUBSCRIBED"))
    S: * LIST (\HasChildren \Subscribed) "/" Vegetable ("CHILDINFO" ("SUBSCRIBED"))
    S: * STATUS Vegetable (MESSAGES 0)
    S: A02 OK …
  `));

  test('RFC 5258 §3.1: RECURSIVEMATCH alone (or with REMOTE only) is BAD; unknown options are BAD', () => replay(bed, String.raw`
    C: b1 LIST (RECURSIVEMATCH) "" "%"
    S: b1 BAD …
    C: b2 LIST (REMOTE RECURSIVEMATCH) "" "%"
    S: b2 BAD …
    C: b3 LIST (X-UNKNOWN) "" "%"
    S: b3 BAD …
    C: b4 LIST "" "%" RETURN (X-UNKNOWN)
    S: b4 BAD …
  `));

  test('RFC 3501 §6.3.9 LSUB: subscribed names; a parent of a subscribed name that only it matches is \\Noselect', () => replay(bed, String.raw`
    C: A002 LSUB "" "*"
    S: * LSUB () "/" INBOX
    S: * LSUB () "/" Fruit/Banana
    S: * LSUB () "/" Vegetable
    S: * LSUB () "/" Vegetable/Broccoli
    S: A002 OK …
    C: A003 LSUB "" "%"
    S: * LSUB () "/" INBOX
    S: * LSUB (\Noselect) "/" Fruit
    S: * LSUB () "/" Vegetable
    S: A003 OK …
    C: A004 LSUB "Fruit/" "%"
    S: * LSUB () "/" Fruit/Banana
    S: A004 OK …
  `));
});

describe('RFC 5258 §5 examples 8 and 9: SUBSCRIBED with RECURSIVEMATCH and CHILDINFO', () => {
  let bed: TestBed;
  before(async () => {
    bed = await startTestBed();
    await onlyInbox(bed);
    await jmapSubscribe(bed, ['Inbox'], false);
    await jmapCreate(bed, ['Foo', 'Foo/Bar', 'Foo/Baz', 'Moo'], ['Foo/Baz']);
    await jmapCreate(bed, ['xfoo2', 'xfoo2/bar1', 'xfoo2/bar2', 'xbaz2', 'xbaz2/bar2', 'xbaz2/bar22', 'xbaz2/bar222', 'xeps2',
      'xeps2/mamba', 'xqux2', 'xqux2/bar2'],
    ['xfoo2/bar1', 'xfoo2/bar2', 'xbaz2/bar2', 'xbaz2/bar22', 'xbaz2/bar222', 'xeps2', 'xeps2/mamba', 'xqux2/bar2']);
  });
  after(() => bed.close());

  test('RFC 5258 §5 example 8: \\HasChildren versus CHILDINFO as subscriptions change', () => replay(bed, String.raw`
    C: CA3 LIST "" "%" RETURN (CHILDREN)
    S: * LIST (\HasNoChildren) "/" INBOX
    S: * LIST (\HasChildren) "/" Foo
    S: * LIST (\HasNoChildren) "/" Moo
    S: * LIST …
    S: * LIST …
    S: * LIST …
    S: * LIST …
    S: CA3 OK …
    C: C02 LIST (SUBSCRIBED) "" "Foo*"
    S: * LIST (\HasNoChildren \Subscribed) "/" Foo/Baz
    S: C02 OK …
    C: C03 LIST (SUBSCRIBED) "" "%oo"
    S: C03 OK …
    C: C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%oo"
    S: * LIST (\HasChildren) "/" Foo ("CHILDINFO" ("SUBSCRIBED"))
    S: C04 OK …
    C: s1 SUBSCRIBE Foo
    S: s1 OK …
    C: C05 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%oo"
    S: * LIST (\HasChildren \Subscribed) "/" Foo ("CHILDINFO" ("SUBSCRIBED"))
    S: C05 OK …
    C: s2 UNSUBSCRIBE Foo
    S: s2 OK …
    C: s3 UNSUBSCRIBE Foo/Baz
    S: s3 OK …
    C: C06 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%oo"
    S: C06 OK …
    C: s4 SUBSCRIBE Foo
    S: s4 OK …
    C: s5 SUBSCRIBE Moo
    S: s5 OK …
    C: C07 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%oo" RETURN (CHILDREN)
    S: * LIST (\HasChildren \Subscribed) "/" Foo
    S: * LIST (\HasNoChildren \Subscribed) "/" Moo
    S: C07 OK …
  `));

  test('RFC 5258 §5 example 9: CHILDINFO whether or not the subscribed children match the pattern', () => replay(bed, String.raw`
    C: D03 LIST (RECURSIVEMATCH SUBSCRIBED) "" "x*2"
    S: * LIST (\HasNoChildren \Subscribed) "/" xbaz2/bar2
    S: * LIST (\HasNoChildren \Subscribed) "/" xbaz2/bar22
    S: * LIST (\HasNoChildren \Subscribed) "/" xbaz2/bar222
    S: * LIST (\HasChildren \Subscribed) "/" xeps2 ("CHILDINFO" ("SUBSCRIBED"))
    S: * LIST (\HasChildren) "/" xfoo2 ("CHILDINFO" ("SUBSCRIBED"))
    S: * LIST (\HasNoChildren \Subscribed) "/" xfoo2/bar2
    S: * LIST (\HasNoChildren \Subscribed) "/" xqux2/bar2
    S: D03 OK …
  `));
});

describe('RFC 6154 §5 SPECIAL-USE and RFC 9051 §6.3.4-6.3.11 (standard mailboxes of a new account)', () => {
  let bed: TestBed;
  before(async () => {
    bed = await startTestBed();
  });
  after(() => bed.close());

  test('RFC 6154 §5.1/§5.2: special-use attributes in LIST, RETURN (SPECIAL-USE), and the SPECIAL-USE selection option', () => replay(bed, String.raw`
    C: t1 LIST "" "%"
    S: * LIST (\HasNoChildren) "/" INBOX
    S: * LIST (\HasNoChildren \Sent) "/" Sent
    S: * LIST (\Drafts \HasNoChildren) "/" Drafts
    S: * LIST (\HasNoChildren \Trash) "/" Trash
    S: * LIST (\HasNoChildren \Junk) "/" Junk
    S: * LIST (\Archive \HasNoChildren) "/" Archive
    S: t1 OK …
    C: t2 LIST "" "%" RETURN (SPECIAL-USE)
    S: * LIST (\HasNoChildren) "/" INBOX
    S: * LIST (\HasNoChildren \Sent) "/" Sent
    S: * LIST (\Drafts \HasNoChildren) "/" Drafts
    S: * LIST (\HasNoChildren \Trash) "/" Trash
    S: * LIST (\HasNoChildren \Junk) "/" Junk
    S: * LIST (\Archive \HasNoChildren) "/" Archive
    S: t2 OK …
    C: t3 LIST (SPECIAL-USE) "" "*"
    S: * LIST (\HasNoChildren \Sent) "/" Sent
    S: * LIST (\Drafts \HasNoChildren) "/" Drafts
    S: * LIST (\HasNoChildren \Trash) "/" Trash
    S: * LIST (\HasNoChildren \Junk) "/" Junk
    S: * LIST (\Archive \HasNoChildren) "/" Archive
    S: t3 OK …
  `));

  test('RFC 6154 §5.3 CREATE with USE: one special use is set; an unsupported or taken one is NO [USEATTR] and creates nothing', () => replay(bed, String.raw`
    C: t2 CREATE MySpecial (USE (\Drafts \Sent))
    S: t2 NO [USEATTR] …
    C: t3 CREATE Everything (USE (\Important))
    S: t3 NO [USEATTR] …
    C: t4 CREATE MoreSent (USE (\Sent))
    S: t4 NO [USEATTR] …
    C: t5 CREATE Everything (USE (\All))
    S: t5 OK …
    C: t6 LIST (SPECIAL-USE) "" "Every*"
    S: * LIST (\All \HasNoChildren) "/" Everything
    S: t6 OK …
    C: t7 LIST "" "M*"
    S: t7 OK …
  `));

  test('RFC 9051 §6.3.4 CREATE: a trailing delimiter is dropped, parents are created; INBOX and extant names are refused', () => replay(bed, String.raw`
    C: A003 CREATE owatagusiam/
    S: A003 OK …
    C: A004 CREATE owatagusiam/blurdybloop
    S: A004 OK …
    C: A005 CREATE a1/b1/c1
    S: A005 OK …
    C: A006 LIST "" "owatagusiam*"
    S: * LIST (\HasChildren) "/" owatagusiam
    S: * LIST (\HasNoChildren) "/" owatagusiam/blurdybloop
    S: A006 OK …
    C: A007 LIST "" "a1*"
    S: * LIST (\HasChildren) "/" a1
    S: * LIST (\HasChildren) "/" a1/b1
    S: * LIST (\HasNoChildren) "/" a1/b1/c1
    S: A007 OK …
    C: A008 CREATE inbox
    S: A008 NO [ALREADYEXISTS] …
    C: A009 CREATE owatagusiam
    S: A009 NO [ALREADYEXISTS] …
  `));

  test('RFC 9051 §6.3.5 DELETE: INBOX and names with inferiors are refused (HASCHILDREN), the rest is deleted', () => replay(bed, String.raw`
    C: c1 CREATE blurdybloop
    S: c1 OK …
    C: c2 CREATE foo/bar
    S: c2 OK …
    C: A683 DELETE blurdybloop
    S: A683 OK …
    C: A684 DELETE foo
    S: A684 NO [HASCHILDREN] …
    C: A685 DELETE foo/bar
    S: A685 OK …
    C: A686 LIST "" "foo*"
    S: * LIST (\HasNoChildren) "/" foo
    S: A686 OK …
    C: A687 DELETE foo
    S: A687 OK …
    C: A688 DELETE INBOX
    S: A688 NO …
    C: A689 DELETE blurdybloop
    S: A689 NO [NONEXISTENT] …
  `));

  test('RFC 9051 §6.3.6 RENAME: inferiors follow; RENAME INBOX moves its messages and leaves INBOX and INBOX/bar', async () => {
    bed.store.importMessage(bed.user, 'inbox', SIMPLE);
    await replay(bed, String.raw`
      C: c1 CREATE blurdybloop
      S: c1 OK …
      C: c2 CREATE foo/bar
      S: c2 OK …
      C: c3 CREATE INBOX/bar
      S: c3 OK …
      C: A683 RENAME blurdybloop sarasoop
      S: A683 OK …
      C: A684 RENAME foo zowie
      S: A684 OK …
      C: A685 LIST "" ("sarasoop" "zowie*")
      S: * LIST (\HasNoChildren) "/" sarasoop
      S: * LIST (\HasChildren) "/" zowie
      S: * LIST (\HasNoChildren) "/" zowie/bar
      S: A685 OK …
      C: Z433 RENAME INBOX old-mail
      S: Z433 OK …
      C: Z434 LIST "" ("INBOX*" "old-mail") RETURN (STATUS (MESSAGES))
      S: * LIST (\HasChildren) "/" INBOX
      S: * STATUS INBOX (MESSAGES 0)
      S: * LIST (\HasNoChildren) "/" INBOX/bar
      S: * STATUS INBOX/bar (MESSAGES 0)
      S: * LIST (\HasNoChildren) "/" old-mail
      S: * STATUS old-mail (MESSAGES 1)
      S: Z434 OK …
      C: Z435 STATUS old-mail (MESSAGES)
      S: * STATUS old-mail (MESSAGES 1)
      S: Z435 OK …
    `);
  });

  test('RFC 9051 §6.3.10 NAMESPACE: one personal namespace, no other users, no shared', () => replay(bed, String.raw`
    C: A001 NAMESPACE
    S: * NAMESPACE (("" "/")) NIL NIL
    S: A001 OK …
  `));

  test('RFC 9051 §6.3.11 STATUS: items in the order asked; HIGHESTMODSEQ (RFC 7162 §3.1.2)', () => replay(bed, String.raw`
    C: c1 CREATE blurdybloop2
    S: c1 OK …
    C: A042 STATUS blurdybloop2 (UIDNEXT MESSAGES)
    S: * STATUS blurdybloop2 (UIDNEXT 1 MESSAGES 0)
    S: A042 OK …
    C: A043 STATUS blurdybloop2 (HIGHESTMODSEQ)
    S: * STATUS blurdybloop2 (HIGHESTMODSEQ …)
    S: A043 OK …
    C: A044 STATUS nosuchbox (MESSAGES)
    S: A044 NO [NONEXISTENT] …
  `));
});
