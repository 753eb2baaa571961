/**
 * The embedded store's text index (src/embedded/jmap/text-index.ts) is built in chunks, the first at once and the
 * rest in the background, while emails keep arriving and going: when the build is done it must hold exactly the
 * emails that exist (FTS5's own `integrity-check` compares the index with the emails table), find every email
 * holding a word, and keep doing so for emails inserted and deleted afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDb } from '../../src/embedded/db.ts';
import { CHUNK, matchExpression, textIndexBuilt, textIndexReady, TEXT_COLUMNS } from '../../src/embedded/jmap/text-index.ts';

test('built in the background while emails are inserted and deleted; complete and consistent when done', async () => {
  const { db } = openDb(':memory:');
  const insert = db.prepare(`INSERT INTO emails (id, account_id, blob_id, thread_id, size, received_at, has_attachment, preview,
    subject_sort, from_sort, to_sort, search_from, search_to, search_cc, search_bcc, search_subject, search_body)
    VALUES (?, 'A', 'b', 't', 1, 0, 0, '', '', '', '', 'a@x.test', '', '', '', ?, ?)`);
  const has = new Set<string>(); // ids of the emails whose body holds "needle"
  const add = (id: string, needle: boolean) => {
    insert.run(id, `subject ${id}`, needle ? `a needle in ${id}` : `hay ${id}`);
    if (needle) has.add(id);
  };
  const remove = (id: string) => {
    db.prepare('DELETE FROM emails WHERE id = ?').run(id);
    has.delete(id);
  };
  const n = CHUNK * 2 + 50;
  for (let i = 0; i < n; i++) add(`M${i}`, i % 9 === 0);
  const found = () => {
    const match = matchExpression(['needle'], ['search_body'])!;
    return new Set((db.prepare(`SELECT id FROM emails WHERE rowid IN (SELECT rowid FROM email_text WHERE email_text MATCH ?)`)
      .all(match) as Array<{ id: string }>).map((r) => r.id));
  };
  const consistent = () => db.prepare("INSERT INTO email_text (email_text) VALUES ('integrity-check')").run();

  assert.equal(textIndexReady(db), false, `${n} rows: more than one chunk`);
  add('late1', true); // after the indexed part: the builder reaches it
  remove('M0'); // in the indexed part: the trigger takes it out
  remove(`M${n - 1 - ((n - 1) % 9)}`); // not indexed yet: never indexed
  await textIndexBuilt(db);
  assert.equal(textIndexReady(db), true);
  consistent();
  assert.deepEqual(found(), has);

  add('late2', true);
  remove('M9');
  consistent();
  assert.deepEqual(found(), has);
  assert.ok(has.has('late1') && has.has('late2') && !has.has('M0') && !has.has('M9'));

  // The index answers per column: "subject" is in every subject and in no body.
  const bySubject = db.prepare('SELECT count(*) AS c FROM email_text WHERE email_text MATCH ?');
  assert.equal((bySubject.get(matchExpression(['subject'], ['search_body'])!) as { c: number }).c, 0);
  assert.equal((bySubject.get(matchExpression(['subject'], TEXT_COLUMNS)!) as { c: number }).c, db.prepare('SELECT count(*) AS c FROM emails').pluck().get());
  db.close();
});
