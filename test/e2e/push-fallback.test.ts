/**
 * A push channel that breaks (RFC 8620 §7.3 EventSource stream cut by a proxy or a server restart) must not lose
 * updates: the watcher falls back to polling at once and an idling client still gets the change.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { MULTIPART, SIMPLE } from '../fixtures/messages.ts';

let bed: TestBed;
let streamsOpened = 0;

/** Lets every EventSource stream live 300 ms, then cuts it (the body errors, as on a dropped connection). */
function cutStreams(inner: typeof fetch): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await inner(input, init);
    if (!String(input).includes('/eventsource') || !res.body) return res;
    streamsOpened++;
    const reader = res.body.getReader();
    const cut = new ReadableStream<Uint8Array>({
      start(controller) {
        setTimeout(() => {
          controller.error(new Error('connection reset'));
          void reader.cancel();
        }, 300);
      },
      async pull(controller) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        controller.enqueue(value!);
      },
    });
    return new Response(cut, { status: res.status, headers: res.headers });
  }) as typeof fetch;
}

before(async () => {
  bed = await startTestBed({ wrapFetch: cutStreams, gateway: { watch: { pollIntervalMs: 250, pushRetryMs: 60_000 } } });
  bed.store.importMessage(bed.user, 'inbox', SIMPLE);
});
after(() => bed.close());

test('after the push stream is cut, a change made right after still reaches the idling client (polling)', async () => {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  await c.command('b', 'SELECT INBOX');
  c.write('i IDLE\r\n');
  assert.equal(await c.line(), '+ idling');
  const deadline = Date.now() + 3000;
  while (streamsOpened === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(streamsOpened, 1, 'the watcher opened a push stream');
  await new Promise((r) => setTimeout(r, 500)); // the stream is cut at 300 ms
  bed.store.importMessage(bed.user, 'inbox', MULTIPART);
  assert.equal(await c.line(3000), '* 2 EXISTS');
  assert.equal(streamsOpened, 1, 'push is retried only after its back-off: the update came by polling');
  c.write('DONE\r\n');
  assert.match(await c.line(), /^i OK /);
  c.close();
});
