/**
 * Measurement Worker for measure-edge.ts (not deployed): the latency of a UID allocation over Durable Object RPC
 * from inside workerd, i.e. what the Worker's own IMAP sessions pay (no HTTP). GET /rpc-latency?n=300 assigns n new
 * ids one after the other and answers the wall time in ms. Workers clocks advance only at I/O, which each RPC is,
 * so the total over n sequential calls is exact to the millisecond; the mean per call is reported.
 */
import { UidStoreDO, accountObjectName, type UidStoreRpc } from '../../src/edge/do-uid-store.ts';
import type { EdgeEnv } from '../../src/edge/env.ts';

export { UidStoreDO };

export default {
  async fetch(request: Request, env: EdgeEnv): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/health') return Response.json({ ok: true });
    const n = Number(url.searchParams.get('n') ?? 300);
    const stub = env.UID_STORE.get(env.UID_STORE.idFromName(accountObjectName('bench-rpc'))) as unknown as UidStoreRpc;
    const run = `${Date.now()}`;
    for (let i = 0; i < 20; i++) await stub.assign('inbox', [`warm-${run}-${i}`]);
    const t0 = Date.now();
    for (let i = 0; i < n; i++) await stub.assign('inbox', [`m-${run}-${i}`]);
    return Response.json({ n, totalMs: Date.now() - t0 });
  },
};
