/**
 * STATUS through the kept mailbox tree over a real JMAP server (src/session/tree-cache.ts): in front of a throwaway
 * Cyrus 3.6, a warm STATUS costs one request (`Mailbox/changes`, `Mailbox/get` of the mailbox, `Email/changes`),
 * LIST-STATUS (RFC 5819) one `Email/changes` for all its mailboxes, a delivery into another mailbox asks no new
 * UNSEEN count (commands/status.ts `carried`), and the answers are Cyrus's own: MESSAGES and
 * UNSEEN as Cyrus IMAP gives them for the same mailbox (its STATUS, RFC 9051 §6.3.11), before and after a
 * webmail's change made in Cyrus over JMAP (a message read, a message delivered, a mailbox renamed).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cyrusAvailable, seedViaJmap, startCyrusBed, type CyrusBed } from '../helpers/cyrus.ts';
import { RawClient } from '../helpers/raw-client.ts';

const message = (i: number) => new TextEncoder().encode(`From: s${i}@example.org\r\nSubject: cyrus status ${i}\r\nMessage-ID: <cs${i}@example.org>\r\n\r\nbody ${i}\r\n`);

if (cyrusAvailable('STATUS through the kept tree over Cyrus')) {
  let bed: CyrusBed;
  let requests: string[][] = [];

  before(async () => {
    bed = await startCyrusBed({
      wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
        const body = typeof init?.body === 'string' ? init.body : '';
        if (body) requests.push((JSON.parse(body) as { methodCalls: Array<[string]> }).methodCalls.map((m) => m[0]));
        return inner(input, init);
      }) as typeof fetch,
    });
    // Four messages, the first one read.
    await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [1, 2, 3, 4].map(message), { keywords: (i) => (i === 0 ? ['$seen'] : []) });
    const create = await bed.jmap.one('Mailbox/set', { create: { k: { name: 'Side' } } });
    assert.ok((create.created as Record<string, unknown> | null)?.k, JSON.stringify(create));
  });
  after(() => bed?.close());

  const login = async (port: number): Promise<RawClient> => {
    const c = await RawClient.connect(port);
    await c.line();
    assert.match((await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`, 20_000)).at(-1)!, /^l OK/);
    return c;
  };
  /** `(MESSAGES n UNSEEN m)` of a STATUS line. */
  const counts = (line: string | undefined) => /\((MESSAGES \d+ UNSEEN \d+)\)$/.exec(line ?? '')?.[1];

  test('Cyrus: warm STATUS in one request and LIST-STATUS with one Email/changes, with the counts Cyrus IMAP gives', async () => {
    const gw = await login(bed.imapPort);
    const direct = await login(bed.cyrus.imapPort);
    const both = async (name: string) => {
      requests = [];
      const through = await gw.command('s', `STATUS ${name} (MESSAGES UNSEEN)`, 20_000);
      const cost = requests;
      const own = await direct.command('d', `STATUS ${name} (MESSAGES UNSEEN)`, 20_000);
      return { gateway: counts(through[0]), cyrus: counts(own[0]), cost };
    };
    try {
      const first = await both('INBOX');
      assert.ok(first.cyrus, 'Cyrus answered');
      assert.equal(first.gateway, first.cyrus);
      const warm = await both('INBOX');
      assert.equal(warm.gateway, warm.cyrus);
      assert.equal(warm.gateway, 'MESSAGES 4 UNSEEN 3');
      assert.deepEqual(warm.cost, [['Mailbox/changes', 'Mailbox/get', 'Email/changes']]);

      // A webmail reads message 2 and a message is delivered: both show at the next STATUS.
      const inbox = await bed.jmap.mailboxIdByRole('inbox');
      const ids = await bed.jmap.idsIn(inbox);
      await bed.jmap.one('Email/set', { update: { [ids[1]!]: { 'keywords/$seen': true } } });
      await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [message(5)], { receivedAt: () => '2024-02-01T00:00:00Z' });
      const after = await both('INBOX');
      assert.equal(after.gateway, after.cyrus);
      assert.equal(after.gateway, 'MESSAGES 5 UNSEEN 3');

      // LIST-STATUS: the tree, then one Email/changes for INBOX and Side.
      await gw.command('w', 'LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN))', 20_000); // Side's first sight
      requests = [];
      const listed = await gw.command('x', 'LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN))', 20_000);
      assert.match(listed.at(-1)!, /^x OK/);
      assert.deepEqual(requests, [['Mailbox/get'], ['Email/changes']], JSON.stringify(requests));
      assert.ok(listed.includes('* STATUS INBOX (MESSAGES 5 UNSEEN 3)'), listed.join('\n'));
      assert.ok(listed.includes('* STATUS Side (MESSAGES 0 UNSEEN 0)'), listed.join('\n'));

      // A delivery into INBOX leaves Side alone: its STATUS asks for no new UNSEEN count (status.ts `carried`).
      await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [message(6)], { receivedAt: () => '2024-02-02T00:00:00Z' });
      const side = await both('Side');
      assert.equal(side.gateway, side.cyrus);
      assert.equal(side.gateway, 'MESSAGES 0 UNSEEN 0');
      assert.ok(!side.cost.some((r) => r.includes('Email/query')), JSON.stringify(side.cost));
      assert.equal((await both('INBOX')).gateway, 'MESSAGES 6 UNSEEN 4');

      // Renamed in JMAP: the old name is gone at once, the new one answers.
      const boxes = (await bed.jmap.one('Mailbox/get', { ids: null, properties: ['name'] })).list as Array<{ id: string; name: string }>;
      await bed.jmap.one('Mailbox/set', { update: { [boxes.find((m) => m.name === 'Side')!.id]: { name: 'Aside' } } });
      assert.match((await gw.command('r', 'STATUS Side (MESSAGES)', 20_000)).at(-1)!, /^r NO \[NONEXISTENT\]/);
      const renamed = await both('Aside');
      assert.equal(renamed.gateway, renamed.cyrus);
      assert.equal(renamed.gateway, 'MESSAGES 0 UNSEEN 0');
    } finally {
      gw.close();
      direct.close();
    }
  });
}
