/**
 * Warm STATUS, LIST-STATUS (RFC 5819), a Thunderbird-style STATUS sweep and SELECT of a shared (`Other Users/`)
 * mailbox: JMAP requests per command, median wall time and median CPU (gateway + embedded store, one process) over
 * the test bed (test/helpers/gateway.ts). Nothing changes in the store between rounds, so every round is "warm";
 * the last case delivers a message into another folder before each STATUS (the account's Email state moves).
 *
 *   node --import tsx bench/status-profile.ts [--folders 10] [--messages 200] [--rounds 15]
 */
import { parseArgs } from 'node:util';
import { accountIdOf, jmap, startTestBed } from '../test/helpers/gateway.ts';
import { RawClient } from '../test/helpers/raw-client.ts';

const { values } = parseArgs({ options: {
  folders: { type: 'string', default: '10' }, messages: { type: 'string', default: '200' }, rounds: { type: 'string', default: '15' },
} });
const FOLDERS = Number(values.folders);
const ROUNDS = Number(values.rounds);
const BOB = 'bob@example.test';

let requests = 0;
const bed = await startTestBed({
  wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (typeof init?.body === 'string') requests++;
    return inner(input, init);
  }) as typeof fetch,
});
const accountId = await accountIdOf(bed);
bed.store.createUser(BOB, 'bob password');
bed.store.shareAccount(bed.user, BOB);
const enc = new TextEncoder();
for (let f = 0; f < FOLDERS; f++) {
  await jmap(bed, [['Mailbox/set', { accountId, create: { k: { name: `F${f}` } } }, 'c']]);
  for (let i = 0; i < Number(values.messages); i++) {
    bed.store.importMessage(bed.user, `F${f}`, enc.encode(`Subject: ${f}-${i}\r\nMessage-ID: <${f}.${i}@x>\r\n\r\nb\r\n`), { keywords: i % 2 ? ['$seen'] : [] });
  }
}

async function login(user: string, password: string): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('l', `LOGIN "${user}" "${password}"`);
  return c;
}
const own = await login(bed.user, bed.password);
const bob = await login(BOB, 'bob password');
const shared = `"Other Users/${bed.user}/F0"`;

async function ok(c: RawClient, text: string): Promise<void> {
  const lines = await c.command('x', text);
  if (!lines.at(-1)!.startsWith('x OK')) throw new Error(`${text}: ${lines.join(' | ')}`);
}
const cases: Array<[string, () => Promise<void>]> = [
  ['STATUS (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)', () => ok(own, 'STATUS F0 (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)')],
  ['STATUS of a shared mailbox', () => ok(bob, `STATUS ${shared} (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)`)],
  ['EXAMINE of a shared mailbox', () => ok(bob, `EXAMINE ${shared}`)],
  [`LIST-STATUS of ${FOLDERS} folders`, () => ok(own, 'LIST "" "F*" RETURN (STATUS (MESSAGES UIDNEXT UNSEEN))')],
  [`sweep of ${FOLDERS} STATUS commands`, async () => { for (let f = 0; f < FOLDERS; f++) await ok(own, `STATUS F${f} (MESSAGES UIDNEXT UNSEEN)`); }],
];
/** Not warm: a delivery into the last folder (not timed apart), then STATUS of the first (the account's state moved). */
let delivered = 0;
const afterChange: [string, () => Promise<void>] = ['delivery elsewhere + STATUS (MESSAGES UIDNEXT UNSEEN)', async () => {
  bed.store.importMessage(bed.user, `F${FOLDERS - 1}`, enc.encode(`Subject: new ${delivered}\r\nMessage-ID: <new.${delivered++}@x>\r\n\r\nb\r\n`));
  await ok(own, 'STATUS F0 (MESSAGES UIDNEXT UNSEEN)');
}];
cases.push(afterChange);
for (const [, run] of cases) { await run(); await run(); } // first sight, then warm

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [label, run] of cases) {
  const wall: number[] = [];
  const cpu: number[] = [];
  let cost = 0;
  for (let r = 0; r < ROUNDS; r++) {
    requests = 0;
    const t = performance.now();
    const u = process.cpuUsage();
    await run();
    const d = process.cpuUsage(u);
    cpu.push((d.user + d.system) / 1000);
    wall.push(performance.now() - t);
    cost = requests;
  }
  console.log(`${label}: ${cost} requests, ${median(wall).toFixed(2)} ms, CPU ${median(cpu).toFixed(2)} ms`);
}
own.close();
bob.close();
await bed.close();
