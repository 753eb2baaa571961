/**
 * Read-back after an `Email/import` whose outcome is unknown (DESIGN.md rule 10: "After a timeout, read the state
 * back before answering; never ... store an APPEND twice"): the request timed out or the connection dropped, so
 * the store may or may not have created the emails.
 *
 * JMAP has no idempotency key for `Email/import` (RFC 8621 §4.8) and no `blobId` filter, so an import is found by
 * what it fixes: the destination mailbox, `receivedAt` (to the second) and `blobId` (the imported blob; the
 * created Email's `blobId` is that blob when the store keeps the raw message as uploaded). One request: per
 * distinct (mailbox, receivedAt), `Email/query {inMailbox, after: t, before: t + 1 s}` and an `Email/get` of
 * `blobId`/`receivedAt` by result reference. Emails the caller already knew in the destination (its UID map) are
 * never taken for an import, so a COPY next to its source, or an earlier copy, is not mistaken for the new one.
 * Left: an email with the same bytes and INTERNALDATE that reached the mailbox through JMAP and is not in the UID
 * map yet would be taken for the import (the user then sees one such message, not two).
 */
import type { BlobImport } from '../backend.ts';
import { responseOf, type JmapClient } from './client.ts';
import { CORE, MAIL, type MethodCall } from './types.ts';
import { BLOB } from './blobs.ts';

/** For each import (by index) the id of the email found for it; imports without `receivedAt` are never found. */
export async function findImported(client: JmapClient, accountId: string, emails: BlobImport[], known: Set<string>): Promise<Map<number, string>> {
  const keys = [...new Set(emails.flatMap((e) => (e.receivedAt && e.mailboxIds[0] ? [JSON.stringify([e.mailboxIds[0], e.receivedAt])] : [])))];
  if (keys.length === 0) return new Map();
  const calls = keys.flatMap((k, n): MethodCall[] => {
    const [mailbox, at] = JSON.parse(k) as [string, string];
    const before = new Date(Date.parse(at) + 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    return [
      ['Email/query', { accountId, filter: { inMailbox: mailbox, after: at, before }, collapseThreads: false }, `q${n}`],
      ['Email/get', { accountId, '#ids': { resultOf: `q${n}`, name: 'Email/query', path: '/ids' }, properties: ['blobId', 'receivedAt'] }, `g${n}`],
    ];
  });
  const responses = await client.call(calls);
  const candidates = new Map<string, Array<{ id: string; blobId: string }>>();
  keys.forEach((k, n) => {
    const list = (responseOf(responses, `g${n}`, 'Email/get').list ?? []) as Array<Record<string, unknown>>;
    candidates.set(k, list.map((e) => ({ id: String(e.id), blobId: String(e.blobId) })).filter((e) => !known.has(e.id)));
  });
  const found = new Map<number, string>();
  const taken = new Set<string>();
  emails.forEach((e, i) => {
    if (!e.receivedAt || !e.mailboxIds[0]) return;
    const hit = candidates.get(JSON.stringify([e.mailboxIds[0], e.receivedAt]))?.find((c) => c.blobId === e.blobId && !taken.has(c.id));
    if (hit) { taken.add(hit.id); found.set(i, hit.id); }
  });
  return found;
}

/**
 * The read-back of a one-request APPEND (`importInOne`: `Blob/upload` and `Email/import` of `#b` together) whose
 * outcome is unknown: the blobId is unknown too, so the email is found by its content instead. One request:
 * `Email/query {inMailbox, after: t, before: t + 1 s}`, `Email/get` of `blobId`, and RFC 9404 §4.2 `Blob/get` of
 * those blobs' `digest:<alg>` (base64 of the digest) by result reference (RFC 8620 §3.7); the match is the one whose
 * digest equals `digest`, never one of `known`. Null when none.
 */
export async function findImportedByDigest(client: JmapClient, accountId: string, mailboxId: string, receivedAt: string,
  alg: 'sha' | 'sha-256', digest: string, known: Set<string>): Promise<string | null> {
  const before = new Date(Date.parse(receivedAt) + 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const prop = `digest:${alg}`;
  const responses = await client.call([
    ['Email/query', { accountId, filter: { inMailbox: mailboxId, after: receivedAt, before }, collapseThreads: false }, 'q'],
    ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['blobId'] }, 'g'],
    ['Blob/get', { accountId, '#ids': { resultOf: 'g', name: 'Email/get', path: '/list/*/blobId' }, properties: [prop] }, 'b'],
  ], [CORE, MAIL, BLOB]);
  const digests = new Map(((responseOf(responses, 'b', 'Blob/get').list ?? []) as Array<Record<string, unknown>>)
    .map((b) => [String(b.id), b[prop]] as const));
  const emails = (responseOf(responses, 'g', 'Email/get').list ?? []) as Array<Record<string, unknown>>;
  const hit = emails.find((e) => !known.has(String(e.id)) && digests.get(String(e.blobId)) === digest);
  return hit ? String(hit.id) : null;
}
