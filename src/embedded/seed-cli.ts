/**
 * Imports mail into the embedded store:
 *   tsx src/embedded/seed-cli.ts --db PATH --user NAME [--password P] [--mailbox INBOX] [--demo] FILE...
 * Each FILE is an mbox file or a folder of .eml/.txt files. With --password the user is created if missing.
 * With --demo the demo content is seeded (needs --password).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openEmbeddedStore } from './index.ts';
import { splitMbox } from './mbox.ts';

/** Raw messages of one path: a folder of .eml/.txt files, a single .eml, or an mbox file. */
export function messagesOf(path: string): Uint8Array[] {
  if (statSync(path).isDirectory()) {
    return readdirSync(path).filter((n) => /\.(eml|txt)$/i.test(n)).sort()
      .map((n) => new Uint8Array(readFileSync(join(path, n))));
  }
  const data = new Uint8Array(readFileSync(path));
  const isMbox = data[0] === 70 && new TextDecoder().decode(data.subarray(0, 5)) === 'From ';
  return isMbox ? splitMbox(data) : [data];
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: {
    db: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' }, mailbox: { type: 'string', default: 'INBOX' },
    demo: { type: 'boolean', default: false },
  } });
  if (!values.db || !values.user) {
    console.error('usage: seed-cli --db PATH --user NAME [--password P] [--mailbox INBOX] [--demo] FILE...');
    process.exit(2);
  }
  const store = openEmbeddedStore({ dbPath: values.db });
  try {
    if (values.password !== undefined) store.createUser(values.user, values.password);
    if (!store.hasUser(values.user)) { console.error(`no such user ${values.user} (give --password to create it)`); process.exit(1); }
    if (values.demo) {
      if (values.password === undefined) { console.error('--demo needs --password'); process.exit(2); }
      store.seedDemo(values.user, values.password);
      console.log(`seeded demo content for ${values.user}`);
    }
    let total = 0;
    for (const path of positionals) {
      const msgs = messagesOf(path);
      for (const raw of msgs) store.importMessage(values.user, values.mailbox!, raw);
      console.log(`${path}: imported ${msgs.length} message(s) into ${values.mailbox}`);
      total += msgs.length;
    }
    console.log(`total: ${total} message(s) for ${values.user}`);
  } finally {
    store.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
