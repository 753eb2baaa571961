/** Blob upload/download (RFC 8620 §6) and EventSource push (RFC 8620 §7.3). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openEmbeddedStore } from '../../src/embedded/index.ts';
import { BASE, CORE, MAIL, basic, bytes, fixture } from './helpers.ts';

test('upload returns {accountId, blobId, type, size}; download returns the exact bytes (bare LF, 8-bit, NUL)', async () => {
  const fx = fixture({ maxSizeUpload: 100 });
  const data = new Uint8Array([...bytes('Subject: x\nFrom: a@b\n\nline\n'), 0xff, 0x00, 0xe9, 0x0d, 0x0a]);
  const up = await fx.store.fetch(new Request(`${BASE}/jmap/upload/${fx.accountId}/`, { method: 'POST',
    headers: { authorization: fx.auth, 'content-type': 'message/rfc822' }, body: data }));
  assert.equal(up.status, 201);
  const u = await up.json();
  assert.deepEqual([u.accountId, u.type, u.size], [fx.accountId, 'message/rfc822', data.length]);
  const dl = await fx.store.fetch(new Request(`${BASE}/jmap/download/${fx.accountId}/${u.blobId}/m.eml?type=text/plain`, { headers: { authorization: fx.auth } }));
  assert.equal(dl.status, 200);
  assert.equal(dl.headers.get('content-type'), 'text/plain');
  assert.deepEqual(new Uint8Array(await dl.arrayBuffer()), data);
  // The imported message keeps the exact bytes and size.
  const inbox = (await fx.call('Mailbox/get', { ids: null })) [1].list.find((m: { role: string }) => m.role === 'inbox').id;
  const [, imp] = await fx.call('Email/import', { emails: { a: { blobId: u.blobId, mailboxIds: { [inbox]: true } } } });
  assert.equal(imp.created.a.size, data.length);
  const dl2 = await fx.store.fetch(new Request(`${BASE}/jmap/download/${fx.accountId}/${imp.created.a.blobId}/m.eml?type=message/rfc822`, { headers: { authorization: fx.auth } }));
  assert.deepEqual(new Uint8Array(await dl2.arrayBuffer()), data);
  const tooBig = await fx.store.fetch(new Request(`${BASE}/jmap/upload/${fx.accountId}/`, { method: 'POST',
    headers: { authorization: fx.auth }, body: new Uint8Array(101) }));
  assert.equal(tooBig.status, 413);
  assert.equal((await tooBig.json()).limit, 'maxSizeUpload');
  const missing = await fx.store.fetch(new Request(`${BASE}/jmap/download/${fx.accountId}/Gnope/x?type=a/b`, { headers: { authorization: fx.auth } }));
  assert.equal(missing.status, 404);
  const [, nf] = await fx.call('Email/import', { emails: { b: { blobId: 'Gnope', mailboxIds: { [inbox]: true } } } });
  assert.equal(nf.notCreated.b.type, 'blobNotFound');
  fx.store.close();
});

/** Reads server-sent events until `until` returns true. */
async function readEvents(body: ReadableStream<Uint8Array>, until: (events: { event: string; data: string }[]) => boolean,
  ended?: { value: boolean }) {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const events: { event: string; data: string }[] = [];
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i); buf = buf.slice(i + 2);
      const ev = { event: 'message', data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) ev.event = line.slice(7);
        if (line.startsWith('data: ')) ev.data += line.slice(6);
      }
      if (!block.startsWith(':')) events.push(ev);
    }
  }
  if (ended) {
    const timeout = new Promise<{ done: boolean }>((r) => setTimeout(() => r({ done: false }), 2000));
    ended.value = (await Promise.race([reader.read(), timeout])).done;
  }
  await reader.cancel().catch(() => {});
  return events;
}

test('EventSource over a real port: a change by another client pushes a StateChange; closeafter=state ends it', async () => {
  const store = openEmbeddedStore({ dbPath: ':memory:' });
  const { accountId } = store.createUser('dora', 'pw');
  const srv = await store.listen(0);
  try {
    const auth = basic('dora', 'pw');
    const res = await fetch(`${srv.url}/jmap/eventsource/?types=*&closeafter=state&ping=0`, { headers: { authorization: auth } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const ended = { value: false };
    const pending = readEvents(res.body!, (ev) => ev.some((e) => e.event === 'state'), ended);
    await new Promise((r) => setTimeout(r, 50));
    // Another client changes the account through the API.
    const api = await fetch(`${srv.url}/jmap/api`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ using: [CORE, MAIL], methodCalls: [['Mailbox/set', { accountId, create: { n: { name: 'Pushed' } } }, '0'],
        ['Mailbox/get', { accountId, ids: [] }, '1']] }) });
    const mailboxState = (await api.json()).methodResponses[1][1].state;
    const events = await pending;
    const state = events.find((e) => e.event === 'state')!;
    const change = JSON.parse(state.data);
    assert.equal(change['@type'], 'StateChange');
    assert.equal(change.changed[accountId].Mailbox, mailboxState);
    assert.equal(ended.value, true); // closeafter=state: the response ends after the state event
    const unauth = await fetch(`${srv.url}/jmap/eventsource/?types=*&closeafter=no&ping=0`);
    assert.equal(unauth.status, 401);
  } finally {
    await srv.close();
    store.close();
  }
});

test('EventSource pings with {"interval": N} and filters by types (RFC 8620 §7.3)', async () => {
  const store = openEmbeddedStore({ dbPath: ':memory:' });
  const { accountId } = store.createUser('eve', 'pw');
  const res = await store.fetch(new Request(`${BASE}/jmap/eventsource/?types=Email&closeafter=no&ping=1`, { headers: { authorization: basic('eve', 'pw') } }));
  const pending = readEvents(res.body!, (ev) => ev.some((e) => e.event === 'ping') && ev.some((e) => e.event === 'state'));
  store.importMessage('eve', 'inbox', bytes('Subject: hi\r\n\r\nbody\r\n'));
  const events = await pending;
  assert.deepEqual(JSON.parse(events.find((e) => e.event === 'ping')!.data), { interval: 1 });
  const change = JSON.parse(events.find((e) => e.event === 'state')!.data);
  assert.deepEqual(Object.keys(change.changed[accountId]), ['Email']); // only the subscribed type
  store.close();
});
