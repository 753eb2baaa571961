// Framer: lines, literals (RFC 9051 §4.3, §7.5), LITERAL+ (RFC 7888), literal8 (RFC 3516), limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Framer, type FramerEvent } from '../../src/protocol/framer.ts';
import { withLimits } from '../../src/protocol/limits.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Events with frame bytes shown as text, for readable comparisons. */
function show(events: FramerEvent[]) {
  return events.map((e) => (e.type === 'frame' ? { type: 'frame', text: dec.decode(e.bytes) } : e));
}
const push = (f: Framer, s: string) => show(f.push(enc.encode(s)));

test('one frame per command line, CRLF kept; bare LF accepted', () => {
  const f = new Framer();
  assert.deepEqual(push(f, 'a1 NOOP\r\na2 CAPABILITY\n'), [
    { type: 'frame', text: 'a1 NOOP\r\n' },
    { type: 'frame', text: 'a2 CAPABILITY\n' },
  ]);
});

test('CRLF and commands split across chunks', () => {
  const f = new Framer();
  assert.deepEqual(push(f, 'a1 NO'), []);
  assert.deepEqual(push(f, 'OP\r'), []);
  assert.deepEqual(push(f, '\na2'), [{ type: 'frame', text: 'a1 NOOP\r\n' }]);
  assert.deepEqual(push(f, ' LOGOUT\r\n'), [{ type: 'frame', text: 'a2 LOGOUT\r\n' }]);
});

test('synchronizing literal: continue event, then the bytes are read as data (RFC 9051 §7.5)', () => {
  const f = new Framer();
  assert.deepEqual(push(f, 'A001 LOGIN {11}\r\n'), [{ type: 'continue' }]);
  // A CRLF inside literal data is data, not a line end.
  assert.deepEqual(push(f, 'FRED\r\nBAR!! {7}\r\n'), [{ type: 'continue' }]);
  assert.deepEqual(push(f, 'fat man\r\n'), [
    { type: 'frame', text: 'A001 LOGIN {11}\r\nFRED\r\nBAR!! {7}\r\nfat man\r\n' },
  ]);
});

test('{0} literal still gets a continuation; literal8 ~{n} is a literal', () => {
  const f = new Framer();
  assert.deepEqual(push(f, 'a LOGIN {0}\r\n'), [{ type: 'continue' }]);
  assert.deepEqual(push(f, ' x\r\n'), [{ type: 'frame', text: 'a LOGIN {0}\r\n x\r\n' }]);
  assert.deepEqual(push(f, 'b APPEND x ~{3}\r\n'), [{ type: 'continue' }]);
  assert.deepEqual(show(f.push(new Uint8Array([0, 10, 13, 13, 10]))), [
    { type: 'frame', text: 'b APPEND x ~{3}\r\n\0\n\r\r\n' },
  ]);
});

test('non-synchronizing literal {n+} / {n-}: no continuation (RFC 7888)', () => {
  const f = new Framer();
  assert.deepEqual(push(f, 'a LOGIN {3+}\r\nbob {2-}\r\npw\r\n'), [
    { type: 'frame', text: 'a LOGIN {3+}\r\nbob {2-}\r\npw\r\n' },
  ]);
});

test('over-limit synchronizing literal is refused before its bytes, without continuation', () => {
  const f = new Framer(withLimits({ maxLiteralSize: 100 }));
  assert.deepEqual(push(f, 'A1 APPEND INBOX {101}\r\n'), [
    { type: 'reject', tag: 'A1', text: 'Literal too large (limit 100 octets)', code: 'TOOBIG' },
  ]);
  // The client does not send the literal; the next line is a new command.
  assert.deepEqual(push(f, 'A2 NOOP\r\n'), [{ type: 'frame', text: 'A2 NOOP\r\n' }]);
});

test('over-limit non-synchronizing literal is read and discarded, then the command is refused', () => {
  const f = new Framer(withLimits({ maxLiteralSize: 10, maxNonSyncLiteral: 10 }));
  assert.deepEqual(push(f, 'A1 APPEND INBOX {20+}\r\n'), []);
  // The 20 octets (with CRLF inside) and the rest of the command are dropped; the reject comes at its end.
  assert.deepEqual(push(f, '0123456789\r\n012345'), []);
  assert.deepEqual(push(f, '67\r\nA2 NOOP\r\n'), [
    { type: 'reject', tag: 'A1', text: 'Literal too large (limit 10 octets)', code: 'TOOBIG' },
    { type: 'frame', text: 'A2 NOOP\r\n' },
  ]);
});

test('absurd non-synchronizing literal is fatal; so is an over-long line', () => {
  const f = new Framer(withLimits({ maxDiscardLiteral: 1000 }));
  assert.deepEqual(push(f, 'A1 APPEND INBOX {1001+}\r\n'), [{ type: 'fatal', text: 'Literal too large' }]);
  assert.deepEqual(push(f, 'A2 NOOP\r\n'), [], 'nothing after fatal');

  const g = new Framer(withLimits({ maxLineLength: 50 }));
  assert.deepEqual(push(g, `a NOOP ${'x'.repeat(30)}`), []);
  assert.deepEqual(push(g, 'x'.repeat(30)), [{ type: 'fatal', text: 'Command line too long' }]);
});

test('the line limit counts all lines of a command, not literal data', () => {
  const f = new Framer(withLimits({ maxLineLength: 40 }));
  assert.deepEqual(push(f, 'a LOGIN {30}\r\n'), [{ type: 'continue' }]);
  assert.deepEqual(push(f, `${'p'.repeat(30)} x\r\n`), [{ type: 'frame', text: `a LOGIN {30}\r\n${'p'.repeat(30)} x\r\n` }]);
});

test('command size and literal count limits refuse the command', () => {
  const f = new Framer(withLimits({ maxCommandSize: 50 }));
  assert.deepEqual(push(f, 'a APPEND x {40}\r\n'), [
    { type: 'reject', tag: 'a', text: 'Command too large (limit 50 octets)', code: 'TOOBIG' },
  ]);
  const g = new Framer(withLimits({ maxLiteralsPerCommand: 1 }));
  assert.deepEqual(push(g, 'a LOGIN {1+}\r\nx {1}\r\n'), [
    { type: 'reject', tag: 'a', text: 'Too many literals in one command (limit 1)', code: 'LIMIT' },
  ]);
  assert.deepEqual(push(g, 'b NOOP\r\n'), [{ type: 'frame', text: 'b NOOP\r\n' }]);
});

test('reject without a readable tag has tag null', () => {
  const f = new Framer(withLimits({ maxLiteralSize: 1 }));
  assert.deepEqual(push(f, '{5}\r\n'), [{ type: 'reject', tag: null, text: 'Literal too large (limit 1 octets)', code: 'TOOBIG' }]);
});

test('reset() drops buffered bytes (STARTTLS, RFC 9051 §6.2.1)', () => {
  const f = new Framer();
  assert.deepEqual(push(f, 'a STARTTLS\r\nb LOGIN inj'), [{ type: 'frame', text: 'a STARTTLS\r\n' }]);
  f.reset();
  assert.deepEqual(push(f, 'c NOOP\r\n'), [{ type: 'frame', text: 'c NOOP\r\n' }]);
});

test('continuation lines (AUTHENTICATE, IDLE DONE) are frames too', () => {
  const f = new Framer();
  assert.deepEqual(push(f, 'dGVzdA==\r\nDONE\r\n\r\n'), [
    { type: 'frame', text: 'dGVzdA==\r\n' },
    { type: 'frame', text: 'DONE\r\n' },
    { type: 'frame', text: '\r\n' },
  ]);
});

test('a frame does not alias the caller buffer', () => {
  const f = new Framer();
  const chunk = enc.encode('a NOOP\r\n');
  const [ev] = f.push(chunk);
  chunk.fill(0);
  assert.equal(ev?.type === 'frame' && dec.decode(ev.bytes), 'a NOOP\r\n');
});
