/**
 * The JMAP round-trip budget (DESIGN.md rule 8) over a real JMAP server: the suite of ../helpers/budget-suite.ts
 * (also run over the embedded store by test/e2e/budget.test.ts) against the gateway in front of a throwaway Cyrus
 * 3.6, every request counted at the gateway's fetch. The bounds come from the limits Cyrus announces in its JMAP
 * session (RFC 8620 §2). The gateway runs with `headerSource: 'raw'` as it must over Cyrus (docs/interop.md), so
 * the first header FETCH downloads each message once and the second is held to ceil(N / maxObjectsInGet) + 1
 * requests and no download (the suite's header explains why).
 */
import { cyrusAvailable, seedViaJmap, startCyrusBed, type TestJmap } from '../helpers/cyrus.ts';
import { budgetMessage, budgetSuite } from '../helpers/budget-suite.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Seeds `messages` (7-bit, CRLF) into a mailbox over JMAP in seconds rather than a minute: Cyrus 3.6 takes ~40 ms
 * per blob upload, serialized per account (measured: 100 uploads 5.2 s one by one, 6.2 s all at once), so the
 * messages travel as message/rfc822 parts of ONE uploaded multipart/mixed (RFC 8620 §6.1), `Email/parse`
 * (RFC 8621 §4.9) names each part's blobId, and `Email/import` (§4.8) takes those blobIds, maxObjectsInSet at a
 * time. Each imported Email's blob is exactly the part's bytes (Cyrus's part blobIds are content hashes: the same
 * id a direct upload of the message gets). receivedAt: 2024-01-01T00:00:00Z plus i minutes, so UIDs follow `messages`.
 */
async function seedBundled(j: TestJmap, mailboxId: string, messages: Uint8Array[]): Promise<void> {
  const boundary = 'budget-bundle-boundary';
  const parts = messages.map((m) => {
    const text = dec.decode(m);
    if (text.includes(boundary)) throw new Error('a message contains the bundle boundary');
    return `--${boundary}\r\nContent-Type: message/rfc822\r\n\r\n${text}\r\n`;
  });
  const bundle = enc.encode(`From: seed@example.org\r\nSubject: bundle\r\nMIME-Version: 1.0\r\n`
    + `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n${parts.join('')}--${boundary}--\r\n`);
  const blobId = await j.upload(bundle);
  const parsed = await j.one('Email/parse', { blobIds: [blobId], properties: ['attachments'], bodyProperties: ['blobId', 'type', 'size'] });
  const atts = (parsed.parsed as Record<string, { attachments: Array<{ blobId: string; type: string; size: number }> }> | null)?.[blobId]?.attachments ?? [];
  if (atts.length !== messages.length || atts.some((a, i) => a.type !== 'message/rfc822' || a.size !== messages[i]!.length)) {
    throw new Error(`Email/parse of the bundle: ${JSON.stringify(parsed).slice(0, 500)}`);
  }
  const batch = Math.max(1, Math.min(j.limit('maxObjectsInSet'), 100));
  for (let start = 0; start < atts.length; start += batch) {
    const emails = Object.fromEntries(atts.slice(start, start + batch).map((a, k) => [`m${start + k}`, {
      blobId: a.blobId, mailboxIds: { [mailboxId]: true },
      receivedAt: new Date(Date.UTC(2024, 0, 1) + (start + k) * 60_000).toISOString().replace('.000Z', 'Z'),
    }]));
    const r = await j.one('Email/import', { emails });
    // TestJmap retries a request whose connection Cyrus reset; a retried import meets the Emails the first attempt
    // made: `alreadyExists` (RFC 8621 §4.8; Cyrus's ids are content hashes, so it is the same message) counts as made.
    const refused = Object.entries((r.notCreated ?? {}) as Record<string, { type: string }>).filter(([, e]) => e.type !== 'alreadyExists');
    if (refused.length > 0) throw new Error(`Email/import: ${JSON.stringify(refused).slice(0, 500)}`);
  }
}

if (cyrusAvailable('round-trip budget over Cyrus')) {
  budgetSuite('Cyrus 3.6 (its own limits, headerSource raw)', async (wrapFetch, count) => {
    const bed = await startCyrusBed({ wrapFetch });
    try {
      const { jmapSessionUrl } = bed.cyrus;
      await seedBundled(bed.jmap, await bed.jmap.mailboxIdByRole('inbox'), Array.from({ length: count }, (_, i) => budgetMessage(i + 1)));
      const made = await bed.jmap.one('Mailbox/set', { create: { a: { name: 'Archive', role: 'archive' } } });
      if (!(made.created as Record<string, unknown> | null)?.a) throw new Error(`Mailbox/set: ${JSON.stringify(made.notCreated)}`);
      await seedViaJmap(jmapSessionUrl, bed.user, bed.password, [new TextEncoder().encode('Subject: x\r\n\r\nx\r\n')], { role: 'archive' });
      const limit = (name: string) => bed.jmap.limit(name);
      return {
        imapPort: bed.imapPort, user: bed.user, password: bed.password, rawHeaders: true,
        limits: { maxObjectsInGet: limit('maxObjectsInGet'), maxObjectsInSet: limit('maxObjectsInSet'), maxCallsInRequest: limit('maxCallsInRequest') },
        close: () => bed.close(),
      };
    } catch (err) {
      await bed.close();
      throw err;
    }
  });
}
