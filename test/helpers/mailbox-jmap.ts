/**
 * Test helpers for mailbox commands: JMAP calls straight to the embedded store over HTTP (to set up a hierarchy
 * and to check effects independently of the gateway), and a raw IMAP session.
 */
import type { TestBed } from './gateway.ts';
import { RawClient } from './raw-client.ts';

export interface JmapMailbox {
  id: string;
  name: string;
  parentId: string | null;
  role: string | null;
  isSubscribed: boolean;
  totalEmails: number;
  unreadEmails: number;
}

/** One JMAP request with the test user's Basic credentials; returns the methodResponses. */
export async function jmap(bed: TestBed, calls: unknown[]): Promise<Array<[string, Record<string, unknown>, string]>> {
  const auth = 'Basic ' + Buffer.from(`${bed.user}:${bed.password}`).toString('base64');
  const session = await (await fetch(`${bed.jmapUrl}/.well-known/jmap`, { headers: { authorization: auth } })).json() as { apiUrl: string };
  const res = await fetch(session.apiUrl, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'], methodCalls: calls }),
  });
  if (!res.ok) throw new Error(`JMAP ${res.status}`);
  return ((await res.json()) as { methodResponses: Array<[string, Record<string, unknown>, string]> }).methodResponses;
}

async function accountId(bed: TestBed): Promise<string> {
  const auth = 'Basic ' + Buffer.from(`${bed.user}:${bed.password}`).toString('base64');
  const session = await (await fetch(`${bed.jmapUrl}/.well-known/jmap`, { headers: { authorization: auth } })).json() as { primaryAccounts: Record<string, string> };
  return session.primaryAccounts['urn:ietf:params:jmap:mail']!;
}

/** All mailboxes as JMAP sees them. */
export async function jmapMailboxes(bed: TestBed): Promise<JmapMailbox[]> {
  const [[, args]] = (await jmap(bed, [['Mailbox/get', { accountId: await accountId(bed), ids: null }, 'g']])) as [[string, { list: JmapMailbox[] }, string]];
  return args.list;
}

/** JMAP full path (`a/b`) of each mailbox, by id. */
export async function jmapPaths(bed: TestBed): Promise<Map<string, JmapMailbox & { path: string }>> {
  const list = await jmapMailboxes(bed);
  const byId = new Map(list.map((m) => [m.id, m]));
  const path = (m: JmapMailbox): string => (m.parentId && byId.has(m.parentId) ? `${path(byId.get(m.parentId)!)}\u0000${m.name}` : m.name);
  return new Map(list.map((m) => [path(m), { ...m, path: path(m) }]));
}

/**
 * Create mailboxes by JMAP (not through the gateway): `paths` like `Fruit`, `Fruit/Apple` (parents first), with
 * the subscribed ones listed in `subscribed`.
 */
export async function jmapCreate(bed: TestBed, paths: string[], subscribed: string[] = []): Promise<void> {
  const acc = await accountId(bed);
  for (const p of paths) {
    const levels = p.split('/');
    const all = await jmapPaths(bed);
    const parent = levels.length > 1 ? all.get(levels.slice(0, -1).join('\u0000'))!.id : null;
    const r = await jmap(bed, [['Mailbox/set', { accountId: acc, create: { k: { name: levels.at(-1), parentId: parent, isSubscribed: subscribed.includes(p) } } }, 's']]);
    if (!(r[0]![1].created as Record<string, unknown> | null)?.k) throw new Error(`could not create ${p}: ${JSON.stringify(r)}`);
  }
}

/** Set isSubscribed of the mailboxes at these JMAP paths. */
export async function jmapSubscribe(bed: TestBed, paths: string[], isSubscribed: boolean): Promise<void> {
  const acc = await accountId(bed);
  const all = await jmapPaths(bed);
  const update = Object.fromEntries(paths.map((p) => [all.get(p.split('/').join('\u0000'))!.id, { isSubscribed }]));
  await jmap(bed, [['Mailbox/set', { accountId: acc, update }, 's']]);
}

/** A logged-in raw IMAP session. */
export async function loggedIn(bed: TestBed): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  const r = await c.command('login', `LOGIN "${bed.user}" "${bed.password}"`);
  if (!r.at(-1)!.startsWith('login OK')) throw new Error(r.join('\n'));
  return c;
}
