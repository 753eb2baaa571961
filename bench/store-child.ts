/**
 * Child process: the embedded JMAP store (src/embedded) loaded with the benchmark corpus, served over HTTP on a free
 * loopback port. Every request passes a counter (requests, octets each way; bench/counting.ts), read by the parent
 * over IPC: the "JMAP requests and bytes per IMAP command" figures. Kept apart from the gateway so each one's memory
 * is its own.
 *
 * argv: DB_PATH USER PASSWORD CORPUS_SPEC_JSON. IPC: sends {ready, url, imported}; answers 'counters'.
 */
import type { AddressInfo } from 'node:net';
import { openEmbeddedStore } from '../src/embedded/index.ts';
import { loadCorpus, type CorpusSpec } from './corpus.ts';
import { RECEIVED_BASE_MS } from './targets.ts';
import { countingServer, type JmapCounters } from './counting.ts';

export type { JmapCounters } from './counting.ts';

const [dbPath, user, password, specJson] = process.argv.slice(2);
const store = openEmbeddedStore({ dbPath: dbPath! });
store.createUser(user!, password!);
const corpus = loadCorpus(JSON.parse(specJson!) as CorpusSpec);
corpus.messages.forEach((raw, i) => store.importMessage(user!, 'INBOX', raw, { receivedAt: new Date(RECEIVED_BASE_MS + i * 1000) }));

/** `bytesSent`: request bodies the gateway sent; `bytesReceived`: response bodies it got back. */
const counters: JmapCounters = { requests: 0, bytesSent: 0, bytesReceived: 0 };
const server = countingServer(store.nodeListener(), counters);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send!({ ready: true, url: `http://127.0.0.1:${port}`, imported: corpus.messages.length });
});
process.on('message', (m) => {
  if (m === 'counters') process.send!({ counters: { ...counters } });
});
process.on('disconnect', () => process.exit(0));
