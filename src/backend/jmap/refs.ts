/** Helpers for RFC 8620 §3.7 result references: pass one call's result into a later call of the same request. */
import type { ResultReference } from './types.ts';

/** A ResultReference to `path` in the response named `name` of call `resultOf`. */
export function ref(resultOf: string, name: string, path: string): ResultReference {
  return { resultOf, name, path };
}

/** `{ '#argName': reference }`: spread into a call's arguments (RFC 8620 §3.7, e.g. `#ids`). */
export function refArg(argName: string, reference: ResultReference): Record<string, ResultReference> {
  return { [`#${argName}`]: reference };
}

/** The callIds a call's arguments refer to (top-level `#name` arguments only, as RFC 8620 §3.7 defines). */
export function referencedCallIds(args: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(args)) {
    if (k.startsWith('#') && v && typeof v === 'object' && typeof (v as ResultReference).resultOf === 'string') {
      out.push((v as ResultReference).resultOf);
    }
  }
  return out;
}

/** Escape one JSON Pointer reference token (RFC 6901 §3), for patch paths like `keywords/<kw>`. */
export function pointerToken(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}
