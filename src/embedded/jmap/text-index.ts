/**
 * The embedded store's full-text index for Email/query's text conditions (RFC 8621 §4.4.1 `text`, `body`, `from`,
 * `to`, `cc`, `bcc`, `subject`): an SQLite FTS5 table with the `trigram` tokenizer over the emails' lower-cased
 * search columns (an inverted index of every 3-character sequence, per column). A row holding a term of 3 or more
 * characters as a substring holds each of the term's trigrams in that column (case_sensitive 1: the columns and
 * the terms are lower-cased by the store itself), so requiring them all narrows a query to candidates without
 * losing a match; email-query.ts then checks each candidate with the same substring test as the full scan, so
 * what a query matches does not change. `detail=column` keeps no positions (a trigram phrase would need them):
 * the index is ~1.3 octets per octet of search text (~17 MB for the 32 MB SpamAssassin corpus; positions would
 * make it ~44 MB), and the candidates of "invoice" there are 61 rows for 23 matches.
 *
 * External content (`content='emails'`, keyed by the emails' rowid, which nothing renumbers: the store never
 * VACUUMs): the text is stored once. Built on first use per database, so a store that never searches pays nothing
 * and a database written before this index existed gets one: rows in ascending rowid, CHUNK rows per transaction,
 * the first chunk at once and the rest in the background between requests (a large store is not frozen for
 * seconds by one search); `email_text_progress.upto` is the highest rowid indexed. Triggers index every insert and
 * delete of an email at or below `upto` (the builder reaches the rest; once done, `upto` is DONE and every row is
 * theirs). Until the build is done `textIndexReady` is false and queries scan, as before.
 */
import type { Db } from '../db.ts';

/** The emails columns a text condition reads (RFC 8621 §4.4.1), in the index's column order. */
export const TEXT_COLUMNS = ['search_from', 'search_to', 'search_cc', 'search_bcc', 'search_subject', 'search_body'] as const;
export type TextColumn = (typeof TEXT_COLUMNS)[number];

/** A trigram needs 3 characters: a shorter term cannot use the index. */
export const MIN_INDEXED_TERM = 3;
/** At most this many of a term's trigrams are required (a long phrase: enough to be selective, the check does the rest). */
const MAX_TRIGRAMS = 24;
/** Rows indexed per build step (~1 MB of search text in the SpamAssassin corpus: tens of ms). */
export const CHUNK = 250;
/** `upto` once every row is indexed. */
const DONE = Number.MAX_SAFE_INTEGER;

const cols = TEXT_COLUMNS.join(', ');
const vals = (row: 'new' | 'old') => TEXT_COLUMNS.map((c) => `${row}.${c}`).join(', ');
const TABLE = `CREATE VIRTUAL TABLE email_text USING fts5(${cols}, content='emails', tokenize='trigram case_sensitive 1', detail=column)`;
const DROP = `DROP TABLE IF EXISTS email_text; DROP TABLE IF EXISTS email_text_progress; DROP TRIGGER IF EXISTS email_text_insert;
DROP TRIGGER IF EXISTS email_text_delete; DROP TRIGGER IF EXISTS email_text_update;`;
const UPTO = '(SELECT upto FROM email_text_progress)';
const SCHEMA = `
${TABLE};
CREATE TABLE email_text_progress (upto INTEGER NOT NULL);
INSERT INTO email_text_progress VALUES (0);
CREATE TRIGGER email_text_insert AFTER INSERT ON emails WHEN new.rowid <= ${UPTO} BEGIN
  INSERT INTO email_text (rowid, ${cols}) VALUES (new.rowid, ${vals('new')}); END;
CREATE TRIGGER email_text_delete AFTER DELETE ON emails WHEN old.rowid <= ${UPTO} BEGIN
  INSERT INTO email_text (email_text, rowid, ${cols}) VALUES ('delete', old.rowid, ${vals('old')}); END;
CREATE TRIGGER email_text_update AFTER UPDATE ON emails WHEN old.rowid <= ${UPTO} BEGIN
  INSERT INTO email_text (email_text, rowid, ${cols}) VALUES ('delete', old.rowid, ${vals('old')});
  INSERT INTO email_text (rowid, ${cols}) VALUES (new.rowid, ${vals('new')}); END;
`;

interface Build { done: boolean; finished: Promise<void> }
const builds = new WeakMap<Db, Build>();

/** Indexes the next CHUNK rows (one transaction); true when every row is indexed. */
function step(db: Db): boolean {
  return db.transaction(() => {
    const upto = (db.prepare('SELECT upto FROM email_text_progress').get() as { upto: number }).upto;
    if (upto === DONE) return true;
    const last = db.prepare('SELECT max(rowid) AS m, count(*) AS n FROM (SELECT rowid FROM emails WHERE rowid > ? ORDER BY rowid LIMIT ?)')
      .get(upto, CHUNK) as { m: number | null; n: number };
    if (last.n > 0) {
      db.prepare(`INSERT INTO email_text (rowid, ${cols}) SELECT rowid, ${cols} FROM emails WHERE rowid > ? AND rowid <= ? ORDER BY rowid`)
        .run(upto, last.m);
    }
    const done = last.n < CHUNK;
    db.prepare('UPDATE email_text_progress SET upto = ?').run(done ? DONE : last.m);
    return done;
  }).immediate();
}

/**
 * True when the index covers every email (queries may use it). The first call per database creates the index
 * (or recreates one of another definition) and indexes the first chunk; the rest is built in the background.
 */
export function textIndexReady(db: Db): boolean {
  return (builds.get(db) ?? startBuild(db)).done;
}

/** Resolves when the database's index is complete (starting the build if needed); rejects if building failed. */
export function textIndexBuilt(db: Db): Promise<void> {
  return (builds.get(db) ?? startBuild(db)).finished;
}

/** Next build step after pending I/O (closing the database stops the build; `upto` lets the next use resume). */
const later = (f: () => void): void => { setTimeout(f, 0); };

function startBuild(db: Db): Build {
  db.transaction(() => {
    const have = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'email_text'").get() as { sql: string } | undefined;
    const progress = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'email_text_progress'").get();
    if (have?.sql === TABLE && progress) return;
    db.exec(DROP);
    db.exec(SCHEMA);
  }).immediate();
  const build: Build = { done: step(db), finished: Promise.resolve() };
  if (!build.done) {
    build.finished = new Promise<void>((resolve, reject) => {
      const next = (): void => {
        try {
          if (step(db)) { build.done = true; resolve(); } else later(next);
        } catch (err) {
          builds.delete(db); // e.g. the database was closed: the next use starts again
          reject(err);
        }
      };
      later(next);
    });
    build.finished.catch(() => undefined);
  }
  builds.set(db, build);
  return build;
}

/** The distinct 3-character windows of a term (by code point, as the trigram tokenizer cuts), at most MAX_TRIGRAMS. */
export function trigrams(term: string): string[] {
  const chars = [...term];
  const out = new Set<string>();
  for (let i = 0; i + MIN_INDEXED_TERM <= chars.length && out.size < MAX_TRIGRAMS; i++) out.add(chars.slice(i, i + MIN_INDEXED_TERM).join(''));
  return [...out];
}

/**
 * The FTS5 MATCH expression requiring, for each term of 3 or more characters, all its trigrams (FTS5 strings: `"`
 * doubled) in one of `columns`; null when no term is that long (the caller then scans).
 */
export function matchExpression(terms: string[], columns: readonly TextColumn[]): string | null {
  const scope = columns.length === TEXT_COLUMNS.length ? '' : `{${columns.join(' ')}} : `;
  const parts = terms.map(trigrams).filter((g) => g.length > 0)
    .map((g) => `${scope}(${g.map((t) => `"${t.replaceAll('"', '""')}"`).join(' AND ')})`);
  return parts.length > 0 ? parts.join(' AND ') : null;
}
