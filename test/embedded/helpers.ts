/** Shared helpers of the embedded-store tests: a fresh in-memory store and a tiny JMAP client over store.fetch. */
import { openEmbeddedStore, type EmbeddedStore, type EmbeddedLimits } from '../../src/embedded/index.ts';

export const CORE = 'urn:ietf:params:jmap:core';
export const MAIL = 'urn:ietf:params:jmap:mail';
export const BASE = 'http://jmap.test:8080';
export const basic = (u: string, p: string) => 'Basic ' + btoa(`${u}:${p}`);
export const crlf = (...lines: string[]) => lines.join('\r\n');
export const bytes = (s: string) => new TextEncoder().encode(s);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON responses are inspected field by field in tests.
export type Json = any;

export interface Fixture {
  store: EmbeddedStore; accountId: string; auth: string;
  api(calls: unknown[], using?: string[], extra?: object): Promise<Json>;
  call(name: string, args: object): Promise<Json>;
}

export function fixture(limits?: Partial<EmbeddedLimits>, fetcher?: (r: Request) => Promise<Response>): Fixture {
  const store = openEmbeddedStore({ dbPath: ':memory:', ...(limits ? { limits } : {}) });
  const { accountId } = store.createUser('alice', 'secret');
  const auth = basic('alice', 'secret');
  const f = fetcher ?? ((r: Request) => store.fetch(r));
  const api = async (calls: unknown[], using = [CORE, MAIL], extra = {}) => {
    const res = await f(new Request(`${BASE}/jmap/api`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ using, methodCalls: calls, ...extra }) }));
    return res.json();
  };
  const call = async (name: string, args: object) => {
    const r = await api([[name, { accountId, ...args }, 'c']]);
    return r.methodResponses[0];
  };
  return { store, accountId, auth, api, call };
}

/** Mailbox id by role. */
export async function roleId(fx: Fixture, role: string): Promise<string> {
  const [, r] = await fx.call('Mailbox/get', { ids: null, properties: ['id', 'role'] });
  return r.list.find((m: Json) => m.role === role).id;
}
