/**
 * A minimal JMAP client for the benchmark (RFC 8620 §2 session, §3 API requests, HTTP Basic): what a webmail would
 * send, independent of the gateway's own client. Used for the JMAP floor (the same data as an IMAP command, fetched
 * with the fewest requests) and for changes made "elsewhere" while a client idles.
 */
import type { JmapAccount } from './targets.ts';

type MethodResponse = [string, Record<string, unknown>, string];
const USING = ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'];

export class BenchJmap {
  requests = 0;
  private constructor(
    private readonly auth: string,
    readonly apiUrl: string,
    readonly accountId: string,
    private readonly core: Record<string, unknown>,
    private readonly downloadUrl: string,
  ) {}

  static async connect(a: JmapAccount): Promise<BenchJmap> {
    const auth = 'Basic ' + Buffer.from(`${a.user}:${a.password}`).toString('base64');
    const res = await fetch(a.sessionUrl, { headers: { Authorization: auth } });
    if (res.status !== 200) throw new Error(`JMAP session: HTTP ${res.status}`);
    const s = (await res.json()) as { apiUrl: string; downloadUrl: string; primaryAccounts: Record<string, string>; capabilities: Record<string, Record<string, unknown>> };
    const j = new BenchJmap(auth, new URL(s.apiUrl, a.sessionUrl).href, s.primaryAccounts['urn:ietf:params:jmap:mail']!, s.capabilities['urn:ietf:params:jmap:core'] ?? {}, s.downloadUrl);
    j.requests = 1;
    return j;
  }

  /** RFC 8620 §2 core limit, e.g. maxObjectsInGet. */
  limit(name: string, fallback: number): number {
    return Number(this.core[name] ?? fallback) || fallback;
  }

  async call(methodCalls: Array<[string, Record<string, unknown>, string]>): Promise<MethodResponse[]> {
    this.requests++;
    const res = await fetch(this.apiUrl, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: this.auth },
      body: JSON.stringify({ using: USING, methodCalls: methodCalls.map(([n, args, id]) => [n, { accountId: this.accountId, ...args }, id]) }),
    });
    if (!res.ok) throw new Error(`JMAP ${res.status}: ${await res.text()}`);
    const out = ((await res.json()) as { methodResponses: MethodResponse[] }).methodResponses;
    const err = out.find((r) => r[0] === 'error');
    if (err) throw new Error(`JMAP method error: ${JSON.stringify(err)}`);
    return out;
  }

  async one(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    return (await this.call([[name, args, '0']]))[0]![1];
  }

  /** Downloads a blob (RFC 8620 §6.2, the downloadUrl template). */
  async download(blobId: string): Promise<Uint8Array> {
    this.requests++;
    const url = this.downloadUrl.replace('{accountId}', encodeURIComponent(this.accountId)).replace('{blobId}', encodeURIComponent(blobId))
      .replace('{type}', 'message%2Frfc822').replace('{name}', 'm.eml');
    const res = await fetch(new URL(url, this.apiUrl), { headers: { Authorization: this.auth } });
    if (!res.ok) throw new Error(`download ${blobId}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** The id of the mailbox with this role (RFC 8621 §2) or, failing that, this name. */
  async mailboxId(roleOrName: string): Promise<string> {
    const list = (await this.one('Mailbox/get', { ids: null, properties: ['id', 'name', 'role'] })).list as Array<{ id: string; name: string; role: string | null }>;
    const m = list.find((x) => x.role === roleOrName.toLowerCase()) ?? list.find((x) => x.name === roleOrName);
    if (!m) throw new Error(`no mailbox ${roleOrName}`);
    return m.id;
  }

  /**
   * Email/query over a mailbox (receivedAt ascending) page by page, each page's ids fed by result reference
   * (RFC 8620 §3.7) to an Email/get of `properties` in the same request when given: one request per page.
   */
  async listMailbox(mailboxId: string, properties: string[] | null): Promise<{ ids: string[]; emails: number }> {
    const page = this.limit('maxObjectsInGet', 500);
    const ids: string[] = [];
    let emails = 0;
    for (let position = 0; ; position += page) {
      const calls: Array<[string, Record<string, unknown>, string]> = [['Email/query', {
        filter: { inMailbox: mailboxId }, sort: [{ property: 'receivedAt', isAscending: true }], position, limit: page }, 'q']];
      if (properties) calls.push(['Email/get', { '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties }, 'g']);
      const r = await this.call(calls);
      const got = (r[0]![1].ids as string[]);
      ids.push(...got);
      if (properties) emails += (r[1]![1].list as unknown[]).length;
      if (got.length < page) return { ids, emails };
    }
  }
}
