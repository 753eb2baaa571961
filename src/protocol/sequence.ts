/**
 * Sequence sets (RFC 9051 §9 `sequence-set`, §6.4.1 message numbers and UIDs): resolving `*`, membership,
 * compact formatting for COPYUID / APPENDUID / ESEARCH ALL / VANISHED (RFC 4315 §3, RFC 4731 §3.2).
 * Everything is bounded by the real messages: `1:4294967295` never becomes a 4-billion element array.
 * `$` (RFC 5182 SEARCHRES) is resolved by the session from its saved result before calling these.
 */
import type { SeqNumber, SeqRange, SequenceSet } from './types.ts';

export type { SeqNumber, SeqRange, SequenceSet } from './types.ts';

/** `[low, high]` of a range with `*` resolved to `max` (RFC 9051 §9: `n:m` and `m:n` are the same range). */
export function resolveRange(range: SeqRange, max: number): [number, number] {
  const a = resolve(range.from, max);
  const b = resolve(range.to, max);
  return a <= b ? [a, b] : [b, a];
}

function resolve(n: SeqNumber, max: number): number {
  return n === '*' ? max : n;
}

function rangesOf(set: SequenceSet): SeqRange[] {
  if (set === '$') throw new TypeError('The saved search result `$` must be resolved by the caller');
  return set;
}

/**
 * Message sequence numbers of the set among 1..max, ascending and without duplicates; numbers over `max` are
 * dropped (the caller decides whether that is an error). `*` is `max` (RFC 9051 §6.4.1: the largest number in use).
 */
export function expandSequence(set: SequenceSet, max: number): number[] {
  const ranges = rangesOf(set).map((r) => resolveRange(r, max)).sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  let next = 1;
  for (const [lo, hi] of ranges) {
    for (let n = Math.max(lo, next); n <= Math.min(hi, max); n++) out.push(n);
    next = Math.max(next, Math.min(hi, max) + 1);
  }
  return out;
}

/** Does the set contain `n` (with `*` = max)? */
export function containsNumber(set: SequenceSet, n: number, max: number): boolean {
  return rangesOf(set).some((r) => {
    const [lo, hi] = resolveRange(r, max);
    return n >= lo && n <= hi;
  });
}

/**
 * The UIDs of `sortedUids` (ascending) that the UID set names. `*` is the largest existing UID, so `n:*` always
 * includes the last message even when n is larger (RFC 9051 §6.4.8 / §9 note on `seq-range`). Cost is
 * O(ranges * log(uids) + result).
 */
export function matchUids(set: SequenceSet, sortedUids: readonly number[]): number[] {
  const max = sortedUids.length > 0 ? sortedUids[sortedUids.length - 1]! : 0;
  const ranges = rangesOf(set).map((r) => resolveRange(r, max)).sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  let from = 0; // index into sortedUids: everything before it is already taken
  for (const [lo, hi] of ranges) {
    let i = Math.max(from, lowerBound(sortedUids, lo));
    while (i < sortedUids.length && sortedUids[i]! <= hi) out.push(sortedUids[i++]!);
    from = Math.max(from, i);
  }
  return out;
}

/** Index of the first element of ascending `a` that is >= x (a.length when none). */
export function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Compact form of numbers in the given order, merging consecutive runs: `[1,2,3,5]` -> `"1:3,5"`. The order is
 * kept (COPYUID pairs source and destination UIDs by position, RFC 4315 §3); sort first for a canonical set.
 * Only ascending runs are merged: a range names a set, read in ascending order.
 */
export function formatSequence(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    const start = numbers[i]!;
    let j = i;
    while (numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(j > i ? `${start}:${numbers[j]}` : String(start));
    i = j + 1;
  }
  return parts.join(',');
}

/** A sequence set as it is written on the wire (`1:3,5,7:*`, `$`). */
export function sequenceToString(set: SequenceSet): string {
  if (set === '$') return '$';
  return set.map((r) => (r.from === r.to ? String(r.from) : `${r.from}:${r.to}`)).join(',');
}
