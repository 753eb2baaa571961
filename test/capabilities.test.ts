/**
 * "Advertise only what is proven": every capability the gateway announces, before and after login, maps to the
 * tests that prove it. A capability without an entry here, or an entry whose test is gone, fails this test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestBed, type TestBed } from './helpers/gateway.ts';
import { RawClient } from './helpers/raw-client.ts';

/** Capability -> [test file (relative to test/), a test title in it]. */
const PROOF: Record<string, Array<[string, string]>> = {
  IMAP4rev1: [
    ['e2e/imapflow.test.ts', 'folder listing FETCH'],
    ['e2e/imaplib.test.ts', 'imaplib over'],
    ['e2e/fetch-raw.test.ts', "Thunderbird's folder listing command"],
    ['e2e/bad-input.test.ts', 'a command in the wrong state is BAD'],
    ['protocol/parse.test.ts', ''],
  ],
  'LITERAL+': [['e2e/bad-input.test.ts', 'a non-synchronizing literal over the limit is read, discarded and refused']],
  'SASL-IR': [['e2e/bad-input.test.ts', 'AUTHENTICATE PLAIN with SASL-IR']],
  'AUTH=PLAIN': [['e2e/bad-input.test.ts', 'AUTHENTICATE PLAIN with SASL-IR, with a continuation, cancelled, and with bad base64']],
  ID: [['transcripts/rfc.test.ts', 'RFC 2971']],
  ENABLE: [['transcripts/rfc.test.ts', 'RFC 5161']],
  UNSELECT: [['transcripts/rfc.test.ts', 'RFC 3691']],
  IDLE: [
    ['e2e/idle.test.ts', 'new mail, a flag change and a deletion made in JMAP arrive as EXISTS, FETCH (UID FLAGS) and EXPUNGE'],
    ['e2e/idle.test.ts', 'anything but DONE ends IDLE with BAD'],
  ],
  STARTTLS: [
    ['e2e/bad-input.test.ts', 'STARTTLS: plaintext pipelined after it is discarded'],
    ['e2e/imapflow.test.ts', 'STARTTLS'],
  ],
  LOGINDISABLED: [['e2e/bad-input.test.ts', 'LOGINDISABLED until STARTTLS']],
};

let bed: TestBed;
before(async () => {
  bed = await startTestBed({ gateway: { loopbackIsSecure: false } });
});
after(() => bed.close());

function capsOf(line: string): string[] {
  return line.replace(/^\* CAPABILITY /, '').split(' ');
}

test('every advertised capability, in every state, is mapped to tests that exist', async () => {
  const advertised = new Set<string>();
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  capsOf((await c.command('a', 'CAPABILITY'))[0]!).forEach((x) => advertised.add(x));
  await c.command('b', 'STARTTLS');
  await c.startTls();
  capsOf((await c.command('c', 'CAPABILITY'))[0]!).forEach((x) => advertised.add(x));
  await c.command('d', `LOGIN "${bed.user}" "${bed.password}"`);
  capsOf((await c.command('e', 'CAPABILITY'))[0]!).forEach((x) => advertised.add(x));
  c.close();
  const unmapped = [...advertised].filter((cap) => !PROOF[cap]);
  assert.deepEqual(unmapped, [], 'capabilities advertised without proof');
  for (const cap of advertised) {
    for (const [file, title] of PROOF[cap]!) {
      const text = readFileSync(new URL(file, new URL('./', import.meta.url)), 'utf8');
      assert.ok(text.includes(title), `${cap}: ${file} has no test "${title}"`);
    }
  }
});

test('IMAP4rev2 is not advertised until RFC 9051 is complete (Appendix E)', async () => {
  const c = await RawClient.connect(bed.imapsPort, { tls: true });
  const greeting = await c.line();
  assert.doesNotMatch(greeting, /IMAP4rev2/);
  assert.match(greeting, /IMAP4rev1/);
  c.close();
});
