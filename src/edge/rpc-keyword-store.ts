/**
 * The keyword and UNSEEN count stores of each account's UidStoreDO (do-keyword-store.ts) called over Durable Object
 * RPC: what the Worker's sessions use (through account-keywords.ts) and what the HTTP API (api.ts) serves to Node
 * gateways. One RPC per call; a stub per call (stubs are cheap).
 */
import type { KeywordAccess } from './account-keywords.ts';
import type { DurableObjectNamespace } from './cf.ts';
import { accountObjectName, type UidStoreRpc } from './do-uid-store.ts';

export function rpcKeywordAccess(ns: DurableObjectNamespace): KeywordAccess {
  const stub = (account: string): UidStoreRpc => ns.get(ns.idFromName(accountObjectName(account))) as unknown as UidStoreRpc;
  return {
    load: (account, key) => stub(account).keywordsLoad(key),
    write: (account, key, w, maxRows) => stub(account).keywordsWrite(key, w, maxRows),
    unseenGet: (account, key) => stub(account).unseenGet(key),
    unseenSet: (account, key, count, max) => stub(account).unseenSet(key, count, max),
  };
}
