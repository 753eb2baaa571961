/**
 * Durability of the embedded store (src/embedded/db.ts), as Dovecot's default `mail_fsync = optimized`: a new
 * message is committed with SQLite `synchronous = FULL` (fsynced before the answer); every other commit runs at
 * `NORMAL` (WAL: never corrupt, survives a crash of the process). SQLite reports the level with
 * `PRAGMA synchronous`: 2 = FULL, 1 = NORMAL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/embedded/db.ts';
import { ChangeLog } from '../../src/embedded/changes.ts';
import { Repo } from '../../src/embedded/repo.ts';
import { openEmbeddedStore } from '../../src/embedded/index.ts';
import Database from 'better-sqlite3';
import { BASE, CORE, MAIL, basic, bytes } from './helpers.ts';

const FULL = 2;
const NORMAL = 1;

function openRepo() {
  const dir = mkdtempSync(join(os.tmpdir(), 'embedded-durability-'));
  const { db, epoch } = openDb(join(dir, 'store.sqlite'));
  const repo = new Repo(db, new ChangeLog(db, epoch, () => {}));
  const level = () => db.pragma('synchronous', { simple: true });
  return { db, repo, level, done: () => { db.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('ordinary commits run at NORMAL; durableTx commits at FULL and restores NORMAL, also when it throws', () => {
  const { repo, level, done } = openRepo();
  try {
    assert.equal(level(), NORMAL);
    assert.equal(repo.tx(() => level()), NORMAL);
    assert.equal(repo.durableTx(() => level()), FULL);
    assert.equal(level(), NORMAL);
    assert.throws(() => repo.durableTx(() => { throw new Error('refused'); }), /refused/);
    assert.equal(level(), NORMAL);
  } finally {
    done();
  }
});

test('Email/import (RFC 8621 §4.8) writes the new email inside a FULL commit; the connection is back at NORMAL after', async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'embedded-durability-'));
  const proto = Database.prototype as { prepare: (sql: string) => unknown; pragma: (s: string, o?: object) => unknown };
  const original = proto.prepare;
  const seen: number[] = [];
  // Statements are prepared once per SQL text, at first use: the email INSERT is prepared inside the import's transaction.
  proto.prepare = function (this: typeof proto, sql: string) {
    if (/^INSERT INTO emails /.test(sql.trim())) seen.push(Number(proto.pragma.call(this, 'synchronous', { simple: true })));
    return original.call(this, sql);
  };
  const store = openEmbeddedStore({ dbPath: join(dir, 'store.sqlite') });
  try {
    const { accountId } = store.createUser('alice', 'secret');
    const auth = basic('alice', 'secret');
    const post = async (path: string, body: BodyInit, type: string) => (await store.fetch(new Request(`${BASE}${path}`,
      { method: 'POST', headers: { authorization: auth, 'content-type': type }, body }))).json();
    const up = await post(`/jmap/upload/${accountId}/`, bytes('Subject: x\r\n\r\nbody\r\n'), 'message/rfc822');
    const mb = await post('/jmap/api', JSON.stringify({ using: [CORE, MAIL], methodCalls: [['Mailbox/get', { accountId, ids: null }, 'm']] }), 'application/json');
    const inbox = mb.methodResponses[0][1].list.find((m: { role: string }) => m.role === 'inbox').id;
    const r = await post('/jmap/api', JSON.stringify({ using: [CORE, MAIL], methodCalls: [['Email/import',
      { accountId, emails: { a: { blobId: up.blobId, mailboxIds: { [inbox]: true } } } }, 'i']] }), 'application/json');
    assert.ok(r.methodResponses[0][1].created.a.id);
    assert.deepEqual(seen, [FULL]);
    const sync = await post('/jmap/api', JSON.stringify({ using: [CORE, MAIL], methodCalls: [['Email/set',
      { accountId, update: { [r.methodResponses[0][1].created.a.id]: { 'keywords/$flagged': true } } }, 's']] }), 'application/json');
    assert.equal(Object.keys(sync.methodResponses[0][1].updated).length, 1);
  } finally {
    proto.prepare = original;
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
