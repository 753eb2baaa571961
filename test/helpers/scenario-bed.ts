/**
 * A backend-neutral test bed for the scenario suite (test/scenarios/): the gateway on a free loopback port in front
 * of a JMAP store, and a webmail-like JMAP client on the same account to make changes directly in the store. Two
 * factories: the embedded store (./gateway.ts startTestBed) and a throwaway Cyrus 3.6 (./cyrus.ts startCyrusBed).
 * Both accounts end up with the same mailboxes (RFC 8621 §2 roles inbox, sent, drafts, trash, junk, archive).
 * What a backend does differently is stated in `quirks`, so a scenario asserts the documented behaviour of each.
 */
import { startTestBed } from './gateway.ts';
import { startCyrusBed, seedViaJmap, TestJmap, toCrlf, type SeedOptions } from './cyrus.ts';

/** Documented backend differences (docs/interop.md). */
export interface BackendQuirks {
  /** Email ids derived from content: importing identical bytes again yields the existing Email (Cyrus). */
  contentIds: boolean;
  /** Email/import refuses bare LF line ends (`invalidEmail`, Cyrus). */
  refusesBareLf: boolean;
  /** JMAP push (EventSource, RFC 8620 §7.3) works; without it IDLE relies on the gateway's polling. */
  push: boolean;
}

export interface ScenarioBed {
  backend: 'embedded' | 'cyrus';
  imapPort: number;
  user: string;
  pass: string;
  quirks: BackendQuirks;
  /** JMAP client on the same account (HTTP Basic as the test user). */
  jmap: TestJmap;
  /** Mailbox ids by role (inbox, sent, drafts, trash, junk, archive). */
  roles: Record<string, string>;
  /** Upload + Email/import (deduplicated, CRLF line ends); returns the Email ids in order. */
  importMessages(raws: Uint8Array[], opts?: SeedOptions & { mailboxId?: string }): Promise<string[]>;
  /**
   * Seed a mailbox by role (default inbox) like importMessages, leaving out what the server refuses (RFC 8621 §4.8
   * `invalidEmail`): returns the messages stored, in order, and the refused ones with the server's error.
   */
  seed(raws: Uint8Array[], opts?: SeedOptions): Promise<{ messages: Uint8Array[]; refused: Array<{ message: Uint8Array; error: unknown }> }>;
  /** Email/set: replace the keywords of an email. */
  setKeywords(id: string, keywords: string[]): Promise<void>;
  /** Email/set: replace the mailboxIds of an email (a move). */
  move(id: string, mailboxIds: string[]): Promise<void>;
  /** Email/set destroy. */
  destroy(id: string): Promise<void>;
  /** How the gateway's watcher of this account learns of changes (`push`, `poll`), once an IDLE started it. */
  watchMode(): string | undefined;
  /** Emails whose Subject is exactly `subject`: id, keywords, mailboxIds, size. */
  bySubject(subject: string): Promise<JmapEmail[]>;
  /** Mailbox id by name (top level), or undefined. */
  mailboxByName(name: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export interface JmapEmail { id: string; subject: string; keywords: Record<string, boolean>; mailboxIds: Record<string, boolean>; size: number }

export const ROLES = ['inbox', 'sent', 'drafts', 'trash', 'junk', 'archive'] as const;
const NAMES: Record<string, string> = { sent: 'Sent', drafts: 'Drafts', trash: 'Trash', junk: 'Junk', archive: 'Archive' };

/** Bed factory options: the gateway's IDLE poll interval (Cyrus has no push). */
export interface BedOptions { pollIntervalMs?: number }

export async function embeddedBed(o: BedOptions = {}): Promise<ScenarioBed> {
  const bed = await startTestBed({ gateway: { watch: { pollIntervalMs: o.pollIntervalMs ?? 400 } } });
  const sessionUrl = `${bed.jmapUrl}/.well-known/jmap`;
  return common('embedded', bed.imapPort, bed.user, bed.password, sessionUrl,
    { contentIds: false, refusesBareLf: false, push: true }, () => bed.close(),
    (accountId) => bed.gateway.config.changeHub.modeOf(`test/${accountId}`));
}

export async function cyrusBed(o: BedOptions = {}): Promise<ScenarioBed> {
  const bed = await startCyrusBed({ gateway: { watch: { pollIntervalMs: o.pollIntervalMs ?? 400 } } });
  return common('cyrus', bed.imapPort, bed.user, bed.password, bed.cyrus.jmapSessionUrl,
    { contentIds: true, refusesBareLf: true, push: false }, () => bed.close(),
    () => bed.gateway.config.changeHub.modeOf(bed.accountKey));
}

async function common(
  backend: ScenarioBed['backend'], imapPort: number, user: string, pass: string, sessionUrl: string,
  quirks: BackendQuirks, close: () => Promise<void>, watchMode: (accountId: string) => string | undefined,
): Promise<ScenarioBed> {
  const jmap = await TestJmap.connect(sessionUrl, user, pass);
  try {
    const r = await jmap.one('Mailbox/get', { ids: null, properties: ['id', 'role'] });
    const have = new Map((r.list as Array<{ id: string; role: string | null }>).map((m) => [m.role, m.id] as const));
    const missing = ROLES.filter((role) => !have.has(role));
    if (missing.length) {
      const s = await jmap.one('Mailbox/set', { create: Object.fromEntries(missing.map((role) => [role, { name: NAMES[role], role }])) });
      for (const role of missing) have.set(role, (s.created as Record<string, { id: string }>)[role]!.id);
    }
    const roles = Object.fromEntries(ROLES.map((role) => [role, have.get(role)!]));
    const set = async (args: Record<string, unknown>) => {
      const res = await jmap.one('Email/set', args);
      for (const k of ['notUpdated', 'notDestroyed']) if (res[k]) throw new Error(`Email/set: ${JSON.stringify(res[k])}`);
    };
    return {
      backend, imapPort, user, pass, quirks, jmap, roles,
      async importMessages(raws, opts = {}) {
        const role = opts.mailboxId ? Object.entries(roles).find(([, id]) => id === opts.mailboxId)?.[0] : opts.role;
        if (opts.mailboxId && !role) return importInto(jmap, opts.mailboxId, raws.map(toCrlf), opts);
        return (await seedViaJmap(sessionUrl, user, pass, raws.map(toCrlf), { ...opts, ...(role ? { role } : {}) })).ids;
      },
      async seed(raws, opts = {}) {
        const r = await seedViaJmap(sessionUrl, user, pass, raws.map(toCrlf), { ...opts, skipRefused: true });
        return { messages: r.messages, refused: r.refused };
      },
      setKeywords: (id, keywords) => set({ update: { [id]: { keywords: Object.fromEntries(keywords.map((k) => [k, true])) } } }),
      move: (id, mailboxIds) => set({ update: { [id]: { mailboxIds: Object.fromEntries(mailboxIds.map((m) => [m, true])) } } }),
      destroy: (id) => set({ destroy: [id] }),
      watchMode: () => watchMode(jmap.accountId),
      async bySubject(subject) {
        const q = await jmap.one('Email/query', { filter: { header: ['Subject', subject] } });
        const ids = q.ids as string[];
        if (!ids.length) return [];
        const g = await jmap.one('Email/get', { ids, properties: ['id', 'subject', 'keywords', 'mailboxIds', 'size'] });
        return (g.list as JmapEmail[]).filter((e) => e.subject === subject);
      },
      async mailboxByName(name) {
        const g = await jmap.one('Mailbox/get', { ids: null, properties: ['id', 'name', 'parentId'] });
        return (g.list as Array<{ id: string; name: string; parentId: string | null }>).find((m) => m.name === name && !m.parentId)?.id;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** receivedAt for importInto: one minute apart across calls, so UID order (receivedAt order) is fixed. */
let clock = Date.UTC(2024, 5, 1);

/** Import into a mailbox without a role (seedViaJmap takes roles only). */
async function importInto(j: TestJmap, mailboxId: string, raws: Uint8Array[], opts: SeedOptions): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, raw] of raws.entries()) {
    const blobId = await j.upload(raw);
    const r = await j.one('Email/import', { emails: { m: {
      blobId, mailboxIds: { [mailboxId]: true }, keywords: Object.fromEntries((opts.keywords?.(i) ?? []).map((k) => [k, true])),
      receivedAt: opts.receivedAt ? opts.receivedAt(i) : new Date(clock += 60_000).toISOString().replace('.000Z', 'Z'),
    } } });
    const c = (r.created as Record<string, { id: string }> | null)?.m;
    if (!c) throw new Error(`Email/import refused: ${JSON.stringify(r.notCreated)}`);
    ids.push(c.id);
  }
  return ids;
}
