/**
 * JMAP Quotas (RFC 9425): `Quota/get` (§4.2) of the account's quotas. One quota per limited resource type, scope
 * `account`, applying to Mail; `used` is computed live (octets: the sum of Email sizes, count: the Emails).
 */
import { type Args, type Handler, account, getIds, getProperties, onlyArgs } from './context.ts';

/** RFC 9425 §4.1 Quota properties. */
const PROPERTIES = ['id', 'resourceType', 'used', 'hardLimit', 'scope', 'name', 'types', 'warnLimit', 'softLimit', 'description'];
const NAMES = { octets: 'Mail storage', count: 'Mail messages' } as const;

const get: Handler = (args, ctx) => {
  onlyArgs(args, ['accountId', 'ids', 'properties']);
  const accountId = account(args, ctx);
  const ids = getIds(args, ctx);
  const props = getProperties(args, (p) => PROPERTIES.includes(p)) ?? PROPERTIES;
  const all = ctx.repo.quotas(accountId).map((q): Args => ({
    id: `q-${q.resource}`, resourceType: q.resource, used: q.used, hardLimit: q.hardLimit, scope: 'account',
    name: NAMES[q.resource], types: ['Mail'], warnLimit: null, softLimit: null, description: null,
  }));
  const pick = (q: Args): Args => Object.fromEntries(['id', ...props].map((p) => [p, q[p]]));
  const list = ids === null ? all : all.filter((q) => ids.includes(String(q.id)));
  const notFound = ids === null ? [] : ids.filter((id) => !all.some((q) => q.id === id));
  // The state changes whenever usage may change: every Email change (RFC 9425 §4.1 `used`).
  return { accountId, state: `q${ctx.repo.log.stateString(accountId, 'Email')}`, list: list.map(pick), notFound };
};

export const quotaMethods: Record<string, Handler> = { 'Quota/get': get };
