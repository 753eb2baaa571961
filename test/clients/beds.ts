/**
 * The two backends the real-client suites run against (issue 6, "against the gateway on both backends"): the gateway
 * over the embedded JMAP store (startTestBed) and over a throwaway Cyrus 3.6 JMAP server (startCyrusBed), behind one
 * interface: IMAP ports + the gateway's certificate for the client, and a webmail-like JMAP view of the same account
 * (RFC 8620 §3 method calls as the user) to seed and to check against.
 */
import { after, before, describe, test } from 'node:test';
import { accountIdOf, jmap, startTestBed } from '../helpers/gateway.ts';
import { cyrusAvailable, startCyrusBed } from '../helpers/cyrus.ts';

export type Backend = 'embedded' | 'cyrus';
export type MethodResponse = [string, Record<string, unknown>, string];

export interface ClientBed {
  backend: Backend;
  /** Gateway listeners: cleartext (STARTTLS) and implicit TLS. */
  imapPort: number;
  imapsPort: number;
  /** The gateway's self-signed certificate (PEM), for the clients to trust. */
  certPath: string;
  user: string;
  password: string;
  /** Deliver messages into a mailbox by name (`INBOX`, `Archive`, ...) with keywords, as an MTA/webmail would. */
  seed(mailbox: string, raws: Uint8Array[], keywords?: (i: number) => string[]): Promise<void>;
  /** JMAP method calls as the user, straight to the store (not through the gateway). */
  jmap(methodCalls: unknown[]): Promise<MethodResponse[]>;
  accountId: string;
  /** A blob's bytes (RFC 8620 §6.2 download): what the store holds. */
  download(blobId: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** The mailboxes every bed has: the embedded store makes them per user; on Cyrus they are created with their roles. */
export const FOLDERS = ['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk', 'Archive'];

/** Backends a client suite runs on: always the embedded store; Cyrus when installed (loud notice / CI failure if not). */
export function backends(suite: string): Backend[] {
  return cyrusAvailable(`${suite} over Cyrus`) ? ['embedded', 'cyrus'] : ['embedded'];
}

/**
 * Register one client test on a backend. The bed starts in a `before` hook with a long timeout of its own (20 min): a
 * Cyrus start may wait for the machine-wide Cyrus lock (test/helpers/cyrus.ts) while other suites hold theirs, so
 * `timeoutMs` bounds only the client's own work.
 */
export function clientTest(title: string, backend: Backend, timeoutMs: number, body: (bed: ClientBed) => Promise<void>): void {
  describe(`${backend} backend`, () => {
    let bed: ClientBed | undefined;
    before(async () => { bed = await startClientBed(backend); }, { timeout: 20 * 60_000 });
    after(async () => { await bed?.close(); });
    test(title, { timeout: timeoutMs }, () => body(bed!));
  });
}

export async function startClientBed(backend: Backend): Promise<ClientBed> {
  return backend === 'embedded' ? embeddedBed() : cyrusBed();
}

async function embeddedBed(): Promise<ClientBed> {
  const bed = await startTestBed();
  return {
    backend: 'embedded', imapPort: bed.imapPort, imapsPort: bed.imapsPort, certPath: bed.gateway.tls.certPath,
    user: bed.user, password: bed.password, accountId: await accountIdOf(bed),
    async seed(mailbox, raws, keywords) {
      raws.forEach((raw, i) => bed.store.importMessage(bed.user, mailbox, raw, { keywords: keywords?.(i) ?? [] }));
    },
    jmap: (calls) => jmap(bed, calls),
    async download(blobId) {
      const auth = { Authorization: 'Basic ' + btoa(`${bed.user}:${bed.password}`) };
      const session = await (await fetch(`${bed.jmapUrl}/.well-known/jmap`, { headers: auth })).json() as { downloadUrl: string };
      return fetchBytes(new URL(expand(session.downloadUrl, await accountIdOf(bed), blobId), bed.jmapUrl).href, auth);
    },
    close: () => bed.close(),
  };
}

/**
 * Cyrus: the gateway gets an implicit-TLS listener too, and polls JMAP every 500 ms (Cyrus's EventSource answers
 * 204: no push, docs/interop.md). Cyrus makes only INBOX for a new user: the other folders are created with roles.
 */
async function cyrusBed(): Promise<ClientBed> {
  const bed = await startCyrusBed({ gateway: { imapsPort: 0, watch: { pollIntervalMs: 500 } } });
  try {
    const create = Object.fromEntries(FOLDERS.slice(1).map((name) => [name, { name, role: name.toLowerCase() }]));
    const made = await bed.jmap.one('Mailbox/set', { create });
    const notCreated = made.notCreated as Record<string, unknown> | null;
    if (notCreated && Object.keys(notCreated).length) throw new Error(`Cyrus Mailbox/set: ${JSON.stringify(notCreated)}`);
    const created = Object.entries(made.created as Record<string, { id: string }>).map(([n, c]) => [n, c.id] as [string, string]);
    const ids = new Map<string, string>([['INBOX', await bed.jmap.mailboxIdByRole('inbox')], ...created]);
    const batch = Math.max(1, Math.min(bed.jmap.limit('maxObjectsInSet') || 50, 50));
    return {
      backend: 'cyrus', imapPort: bed.imapPort, imapsPort: bed.gateway.imapsPort!, certPath: bed.gateway.tls.certPath,
      user: bed.user, password: bed.password, accountId: bed.jmap.accountId,
      async seed(mailbox, raws, keywords) {
        // RFC 8620 §6.1 upload, then RFC 8621 §4.8 Email/import in batches; receivedAt keeps the seeding order.
        const blobIds: string[] = [];
        for (const raw of raws) blobIds.push(await bed.jmap.upload(raw));
        const base = Date.now() - raws.length * 1000;
        for (let start = 0; start < raws.length; start += batch) {
          const emails: Record<string, unknown> = {};
          for (let i = start; i < Math.min(raws.length, start + batch); i++) {
            emails[`m${i}`] = {
              blobId: blobIds[i], mailboxIds: { [ids.get(mailbox)!]: true },
              receivedAt: new Date(base + i * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
              keywords: Object.fromEntries((keywords?.(i) ?? []).map((k) => [k, true])),
            };
          }
          const r = await bed.jmap.one('Email/import', { emails });
          const refused = r.notCreated as Record<string, unknown> | null;
          if (refused && Object.keys(refused).length) throw new Error(`Cyrus Email/import refused: ${JSON.stringify(refused).slice(0, 500)}`);
        }
      },
      jmap: (calls) => bed.jmap.call(calls),
      download: (blobId) => fetchBytes(new URL(expand(bed.jmap.session.downloadUrl, bed.jmap.accountId, blobId), bed.jmap.session.apiUrl).href,
        { Authorization: 'Basic ' + btoa(`${bed.user}:${bed.password}`) }),
      close: () => bed.close(),
    };
  } catch (err) {
    await bed.close();
    throw err;
  }
}

/** RFC 8620 §2 downloadUrl template (RFC 6570 level 1 variables). */
function expand(template: string, accountId: string, blobId: string): string {
  const v: Record<string, string> = { accountId, blobId, type: 'application/octet-stream', name: 'message.eml' };
  return template.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(v[k] ?? ''));
}

async function fetchBytes(url: string, headers: Record<string, string>): Promise<Uint8Array> {
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`download ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
