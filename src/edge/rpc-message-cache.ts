/**
 * The immutable-data cache (src/cache/message-cache.ts) kept in each account's UidStoreDO (do-cache.ts), called
 * over Durable Object RPC: what the Worker's sessions use (through AccountMessageCache) and what the HTTP API
 * (api.ts) serves to Node gateways.
 */
import type { AccountCacheAccess } from './account-cache.ts';
import type { DurableObjectNamespace } from './cf.ts';
import { accountObjectName, type UidStoreRpc } from './do-uid-store.ts';

export function accountCacheAccess(ns: DurableObjectNamespace): AccountCacheAccess {
  const stub = (account: string): UidStoreRpc => ns.get(ns.idFromName(accountObjectName(account))) as unknown as UidStoreRpc;
  return {
    get: (account, emailIds) => stub(account).cacheGet(emailIds),
    put: (account, messages, maxBytes) => stub(account).cachePut(messages, maxBytes),
    size: (account) => stub(account).cacheSize(),
  };
}
