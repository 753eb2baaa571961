export { ByteLru } from '../../cache/lru.ts';

/** Rough in-memory size of strings (UTF-16 code units) for budgeting. */
export function stringBytes(...parts: string[]): number {
  let n = 0;
  for (const p of parts) n += p.length * 2;
  return n;
}
