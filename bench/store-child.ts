/**
 * Child process: the embedded JMAP store (src/embedded) loaded with the benchmark corpus, served over HTTP on a free
 * loopback port. Every request passes a counter (requests, octets each way), read by the parent over IPC: the
 * "JMAP requests and bytes per IMAP command" figures. Kept apart from the gateway so each one's memory is its own.
 *
 * argv: DB_PATH USER PASSWORD CORPUS_SPEC_JSON. IPC: sends {ready, url, imported}; answers 'counters'.
 */
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { openEmbeddedStore } from '../src/embedded/index.ts';
import { loadCorpus, type CorpusSpec } from './corpus.ts';
import { RECEIVED_BASE_MS } from './targets.ts';

export interface JmapCounters { requests: number; bytesSent: number; bytesReceived: number }

const [dbPath, user, password, specJson] = process.argv.slice(2);
const store = openEmbeddedStore({ dbPath: dbPath! });
store.createUser(user!, password!);
const corpus = loadCorpus(JSON.parse(specJson!) as CorpusSpec);
corpus.messages.forEach((raw, i) => store.importMessage(user!, 'INBOX', raw, { receivedAt: new Date(RECEIVED_BASE_MS + i * 1000) }));

/** `bytesSent`: request bodies the gateway sent; `bytesReceived`: response bodies it got back. */
const counters: JmapCounters = { requests: 0, bytesSent: 0, bytesReceived: 0 };
const counting = async (req: Request): Promise<Response> => {
  counters.requests++;
  counters.bytesSent += Number(req.headers.get('content-length') ?? 0);
  const res = await store.fetch(req);
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) return res; // a push stream never ends
  const body = await res.arrayBuffer();
  counters.bytesReceived += body.byteLength;
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
};
serve({ fetch: counting, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
  process.send!({ ready: true, url: `http://127.0.0.1:${info.port}`, imported: corpus.messages.length });
});
process.on('message', (m) => {
  if (m === 'counters') process.send!({ counters: { ...counters } });
});
process.on('disconnect', () => process.exit(0));
