// Sequence sets (RFC 9051 §9 sequence-set, §6.4.1; RFC 4315 §3 compact sets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containsNumber, expandSequence, formatSequence, matchUids, sequenceToString } from '../../src/protocol/sequence.ts';

const r = (from: number | '*', to: number | '*' = from) => ({ from, to });

test('expandSequence resolves * to the largest number and accepts ranges in either order', () => {
  // RFC 9051 §9: "2:4" and "4:2" are the same; "*" is the largest number in use.
  assert.deepEqual(expandSequence([r(2, 4)], 10), [2, 3, 4]);
  assert.deepEqual(expandSequence([r(4, 2)], 10), [2, 3, 4]);
  assert.deepEqual(expandSequence([r(8, '*')], 10), [8, 9, 10]);
  assert.deepEqual(expandSequence([r('*')], 10), [10]);
  assert.deepEqual(expandSequence([r(5), r(1, 3), r(2)], 10), [1, 2, 3, 5], 'sorted, no duplicates');
  assert.deepEqual(expandSequence([r(11, 20)], 10), [], 'beyond the mailbox');
  assert.deepEqual(expandSequence([r(1, '*')], 0), []);
  assert.deepEqual(expandSequence([r(1, 4294967295)], 3), [1, 2, 3], 'bounded by max, not by the range');
  assert.throws(() => expandSequence('$', 3), /saved search result/);
});

test('containsNumber', () => {
  assert.equal(containsNumber([r(1, 3), r(7, '*')], 2, 10), true);
  assert.equal(containsNumber([r(1, 3), r(7, '*')], 5, 10), false);
  assert.equal(containsNumber([r(1, 3), r(7, '*')], 10, 10), true);
  assert.equal(containsNumber([r('*', 7)], 8, 10), true);
});

test('matchUids picks existing UIDs; n:* includes the last UID even when n is larger (RFC 9051 §6.4.9)', () => {
  const uids = [3, 5, 9, 100, 4000];
  assert.deepEqual(matchUids([r(1, 10)], uids), [3, 5, 9]);
  assert.deepEqual(matchUids([r(5000, '*')], uids), [4000]);
  assert.deepEqual(matchUids([r('*')], uids), [4000]);
  assert.deepEqual(matchUids([r(1, 4294967295)], uids), uids);
  assert.deepEqual(matchUids([r(9), r(4, 6), r(5)], uids), [5, 9]);
  assert.deepEqual(matchUids([r(1, '*')], []), []);
});

test('formatSequence compacts runs, keeps the given order (RFC 4315 §3 COPYUID)', () => {
  assert.equal(formatSequence([1, 2, 3, 5]), '1:3,5');
  assert.equal(formatSequence([304, 319, 320]), '304,319:320');
  assert.equal(formatSequence([3956, 3957, 3958]), '3956:3958');
  assert.equal(formatSequence([7]), '7');
  assert.equal(formatSequence([]), '');
  assert.equal(formatSequence([5, 4, 3]), '5,4,3');
});

test('sequenceToString', () => {
  assert.equal(sequenceToString([r(1, 3), r(5), r(7, '*')]), '1:3,5,7:*');
  assert.equal(sequenceToString('$'), '$');
});
