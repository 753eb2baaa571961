/**
 * The JMAP floor (issue 8): the same data as an IMAP scenario fetched straight from the gateway's JMAP server with
 * the fewest requests, no gateway in between (bench/jmap.ts: one request per page of maxObjectsInGet, Email/query and
 * Email/get chained by result reference, RFC 8620 §3.7). Timed from the session request on, like a fresh IMAP
 * connection. Runs on the `gateway` target (its JMAP account); the ratio column compares it with the direct IMAP server.
 */
import { BenchJmap } from '../jmap.ts';
import type { Scenario, ScenarioContext } from '../scenario.ts';

/** The Thunderbird listing's data: size, flags, and the 14 header fields, raw (RFC 8621 §4.1.3 `header:Name:asRaw`). */
const LISTING_PROPERTIES = ['id', 'size', 'keywords', 'receivedAt', ...['From', 'To', 'Cc', 'Bcc', 'Subject', 'Date', 'Message-ID',
  'Priority', 'X-Priority', 'References', 'Newsgroups', 'In-Reply-To', 'Content-Type', 'Reply-To'].map((h) => `header:${h}:asRaw`)];

async function open(ctx: ScenarioContext): Promise<{ j: BenchJmap; inbox: string }> {
  if (!ctx.target.jmapAccount) throw new Error(`${ctx.target.name} has no JMAP account`);
  const j = await BenchJmap.connect(ctx.target.jmapAccount);
  return { j, inbox: await j.mailboxId('inbox') };
}

async function listing(ctx: ScenarioContext) {
  const t0 = performance.now();
  const { j, inbox } = await open(ctx);
  const r = await j.listMailbox(inbox, LISTING_PROPERTIES);
  const ms = performance.now() - t0;
  if (r.emails !== ctx.messages) throw new Error(`JMAP floor listing: ${r.emails} emails, expected ${ctx.messages}`);
  return { value: ms, jmap: [], extra: { requests: j.requests } };
}

async function ids(ctx: ScenarioContext) {
  const t0 = performance.now();
  const { j, inbox } = await open(ctx);
  const r = await j.listMailbox(inbox, null);
  const ms = performance.now() - t0;
  if (r.ids.length !== ctx.messages) throw new Error(`JMAP floor ids: ${r.ids.length}, expected ${ctx.messages}`);
  return { value: ms, jmap: [], extra: { requests: j.requests } };
}

/** Every message's blob, 4 downloads in flight (RFC 8620 §6.2); MB/s of message octets, as the IMAP download counts. */
async function download(ctx: ScenarioContext) {
  const { j, inbox } = await open(ctx);
  const { ids: all } = await j.listMailbox(inbox, null);
  const blobs: string[] = [];
  const batch = j.limit('maxObjectsInGet', 500);
  for (let i = 0; i < all.length; i += batch) {
    const list = (await j.one('Email/get', { ids: all.slice(i, i + batch), properties: ['blobId'] })).list as Array<{ blobId: string }>;
    blobs.push(...list.map((e) => e.blobId));
  }
  const t0 = performance.now();
  let bytes = 0;
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < blobs.length) bytes += (await j.download(blobs[next++]!)).length;
  }));
  const seconds = (performance.now() - t0) / 1000;
  return { value: bytes / 1e6 / seconds, jmap: [], extra: { requests: j.requests } };
}

const floor = (id: string, title: string, unit: Scenario['unit'], better: Scenario['better'], compareWith: string, run: Scenario['run']): Scenario => ({
  id, title: `JMAP floor: ${title}`, unit, better, cold: false, goal: 'none (reference)', targets: ['gateway'], compareWith, run,
});

export const floorListing = floor('floor-listing', 'listing data (session, Mailbox/get, Email/query + Email/get of the 14 headers, size, keywords)', 'ms', 'lower', 'listing-warm', listing);
export const floorIds = floor('floor-ids', 'all INBOX ids (session, Mailbox/get, Email/query pages): a first SELECT\'s data', 'ms', 'lower', 'select-cold', ids);
export const floorDownload = floor('floor-download', 'every blob downloaded, 4 in flight (MB/s)', 'MB/s', 'higher', 'download', download);
