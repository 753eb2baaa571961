/**
 * Many sessions, many processes (issue 4, DESIGN.md rules 1, 2, 7): two gateway processes sharing one SQLite UID
 * store in front of one JMAP store.
 *
 * - 20 clients APPEND at once, 10 through each process: every APPENDUID (RFC 4315 §3) is distinct; one that was
 *   sent after another's tagged OK arrived is greater (RFC 9051 §2.3.1.1: UIDs ascend in arrival order); STATUS
 *   UIDNEXT is the next one; no message is lost; a session on the other process sees them all with one EXISTS.
 * - What one process's client does (STORE, EXPUNGE, MOVE) and what a webmail does through JMAP reaches a client of
 *   the other process at its next NOOP (RFC 9051 §7.5.1: EXPUNGE / EXISTS / FETCH FLAGS), with EXISTS carrying
 *   the total and never `* 0 EXISTS` churn.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawClient } from '../helpers/raw-client.ts';
import { accountId, checkMapInvariants, dumpMap, jmapCall, jmapIds, login, mailboxIdOf, message, startCluster, type Cluster, type Gateway } from '../sync/procs.ts';

let cluster: Cluster;
let gA: Gateway;
let gB: Gateway;

before(async () => {
  cluster = await startCluster();
  [gA, gB] = await Promise.all([cluster.gateway(), cluster.gateway()]);
});
after(() => cluster.close());

async function append(c: RawClient, tag: string, mailbox: string, body: string): Promise<string[]> {
  c.write(`${tag} APPEND ${mailbox} {${body.length}}\r\n`);
  const cont = await c.line();
  assert.match(cont, /^\+/);
  c.write(body + '\r\n');
  return c.until(tag, 10_000);
}

const appendUid = (lines: string[]): number => Number(/APPENDUID \d+ (\d+)/.exec(lines.at(-1)!)![1]);

test('20 clients appending at once through two gateway processes: distinct, ascending APPENDUIDs, right UIDNEXT, nothing lost', async () => {
  const watcher = await login(gB.port);
  const sel = await watcher.command('s', 'SELECT INBOX');
  assert.ok(sel.includes('* 0 EXISTS'));
  const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => login(i % 2 ? gB.port : gA.port)));
  const results: Array<{ uid: number; sent: number; done: number }> = [];
  let clock = 0; // a logical clock: order of events as this test observed them
  await Promise.all(clients.map(async (c, i) => {
    for (let k = 0; k < 2; k++) {
      const sent = ++clock;
      const lines = await append(c, `a${k}`, 'INBOX', message(`c${i}-${k}`));
      assert.match(lines.at(-1)!, /^a\d OK \[APPENDUID /, lines.join('\n'));
      results.push({ uid: appendUid(lines), sent, done: ++clock });
    }
  }));
  const uids = results.map((r) => r.uid);
  assert.equal(new Set(uids).size, 40, 'all UIDs distinct');
  for (const a of results) {
    for (const b of results) if (a.done < b.sent) assert.ok(b.uid > a.uid, `APPENDUID ${b.uid} sent after ${a.uid} completed must be greater`);
  }
  const status = await clients[0]!.command('t', 'STATUS INBOX (MESSAGES UIDNEXT)');
  assert.ok(status.includes(`* STATUS INBOX (MESSAGES 40 UIDNEXT ${Math.max(...uids) + 1})`), status.join('\n'));
  assert.equal((await jmapIds(cluster, 'inbox')).size, 40, 'every message is in JMAP');
  const noop = await watcher.command('n', 'NOOP');
  assert.deepEqual(noop.filter((l) => /EXISTS/.test(l)), ['* 40 EXISTS'], 'one EXISTS with the total');
  const fetched = await watcher.command('f', 'UID FETCH 1:* (UID)');
  assert.deepEqual(fetched.filter((l) => l.startsWith('* ')).map((l) => Number(/UID (\d+)/.exec(l)![1])), [...uids].sort((x, y) => x - y));
  checkMapInvariants(dumpMap(cluster.uidmap));
  for (const c of [...clients, watcher]) c.close();
});

test('changes made through one process or through JMAP reach a client of the other process at NOOP', async () => {
  const a = await login(gA.port);
  const b = await login(gB.port);
  const b2 = await login(gB.port); // a third session, on the same process as b
  const total = 40; // from the test above
  for (const c of [a, b, b2]) assert.ok((await c.command('s', 'SELECT INBOX')).includes(`* ${total} EXISTS`));

  // STORE on A -> FETCH FLAGS on B and B2.
  await a.command('f1', 'STORE 1 +FLAGS (\\Flagged)');
  for (const c of [b, b2]) {
    const lines = await c.command('n1', 'NOOP');
    assert.ok(lines.some((l) => /^\* 1 FETCH \(.*FLAGS \(\\Flagged\)/.test(l)), lines.join('\n'));
    assert.ok(!lines.some((l) => /EXISTS|EXPUNGE/.test(l)), 'a flag change is no EXISTS/EXPUNGE');
  }

  // A webmail marks message 2 seen through JMAP -> FETCH FLAGS everywhere.
  const inbox = await mailboxIdOf(cluster, 'inbox');
  const uids = (await a.command('u', 'FETCH 1:* (UID)')).filter((l) => l.startsWith('* ')).map((l) => Number(/UID (\d+)/.exec(l)![1]));
  assert.equal((await jmapIds(cluster, 'inbox')).size, uids.length);
  // Message 2 in IMAP order: the JMAP email the shared map gives its UID.
  const second = dumpMap(cluster.uidmap).mailboxes.get(inbox)!.live.get(uids[1]!)!;
  await jmapCall(cluster, [['Email/set', { accountId: await accountId(cluster), update: { [second]: { 'keywords/$seen': true } } }, 'k']]);
  for (const c of [a, b]) {
    const lines = await c.command('n2', 'NOOP');
    assert.ok(lines.some((l) => /^\* 2 FETCH \(.*FLAGS \(\\Seen\)/.test(l)), lines.join('\n'));
  }

  // EXPUNGE on B -> `* 1 EXPUNGE` on A (not during FETCH: only at NOOP).
  await b.command('d', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
  const ex = await b.command('e', 'EXPUNGE');
  assert.ok(ex.includes('* 1 EXPUNGE'));
  const during = await a.command('f2', 'FETCH 1 (FLAGS)');
  assert.ok(!during.some((l) => /EXPUNGE/.test(l)), 'RFC 9051 §7.5.1: no EXPUNGE during FETCH');
  const atNoop = await a.command('n3', 'NOOP');
  assert.deepEqual(atNoop.filter((l) => /EXPUNGE|EXISTS/.test(l)), ['* 1 EXPUNGE']);

  // MOVE on A to Archive -> EXPUNGE on B; then a JMAP import -> `* n EXISTS` with the total on both.
  const mv = await a.command('m', 'MOVE 1 Archive');
  assert.match(mv.at(-1)!, /^m OK/);
  const afterMove = await b.command('n4', 'NOOP');
  assert.deepEqual(afterMove.filter((l) => /EXPUNGE|EXISTS/.test(l)), ['* 1 EXPUNGE']);
  cluster.store.importMessage('alice@example.test', 'inbox', new TextEncoder().encode(message('webmail-new')));
  for (const c of [a, b, b2]) {
    const lines = (await c.command('n5', 'NOOP')).filter((l) => /EXPUNGE|EXISTS/.test(l));
    // b2 missed both removals (original messages 1 and 2): highest first, each number valid when read (§7.5.1).
    if (c === b2) assert.deepEqual(lines, ['* 2 EXPUNGE', '* 1 EXPUNGE', `* ${total - 1} EXISTS`], 'b2 catches up on everything at once');
    else assert.deepEqual(lines, [`* ${total - 1} EXISTS`]);
  }
  checkMapInvariants(dumpMap(cluster.uidmap));
  for (const c of [a, b, b2]) c.close();
});
