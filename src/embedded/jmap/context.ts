/**
 * Shared shapes of the JMAP method layer: method-level errors (RFC 8620 §3.6.2), the per-request context and
 * argument helpers.
 */
import type { Repo, UserRow } from '../repo.ts';
import type { EmbeddedLimits } from '../types.ts';

/** A method-level error response `["error", {type, ...}, callId]` (RFC 8620 §3.6.2). */
export class MethodError extends Error {
  constructor(readonly type: string, readonly extra: Record<string, unknown> = {}) {
    super(type);
  }
}

/** Per request: the authenticated user and creation ids made so far (RFC 8620 §3.3 createdIds, §5.3). */
export interface Ctx {
  repo: Repo;
  limits: EmbeddedLimits;
  user: UserRow;
  createdIds: Map<string, string>;
}

export type Args = Record<string, unknown>;
/** A method handler returns its response arguments (the response name equals the method name). */
export type Handler = (args: Args, ctx: Ctx) => Args;

export const invalid = (description: string) => new MethodError('invalidArguments', { description });

/**
 * Checks `accountId`: the user's own account or one shared with the user (RFC 8620 §3.6.2 accountNotFound).
 * A method that modifies state (`write`) on a read-only shared account is `accountReadOnly` (RFC 8620 §3.6.2).
 */
export function account(args: Args, ctx: Ctx, write = false): string {
  if (typeof args.accountId !== 'string') throw invalid('accountId must be a string');
  const access = ctx.repo.access(ctx.user, args.accountId);
  if (access === null) throw new MethodError('accountNotFound');
  if (write && access === 'ro') throw new MethodError('accountReadOnly');
  return args.accountId;
}

/** Allows only the listed argument names (RFC 8620 §3.6.2 invalidArguments). */
export function onlyArgs(args: Args, allowed: string[]): void {
  for (const k of Object.keys(args)) if (!allowed.includes(k)) throw invalid(`unknown argument ${k}`);
}

/** Resolves `#creationId` references to ids created earlier in the request (RFC 8620 §5.3). */
export function resolveId(id: string, ctx: Ctx): string {
  return id.startsWith('#') ? ctx.createdIds.get(id.slice(1)) ?? id : id;
}

export const isObj = (v: unknown): v is Args => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isIdArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Validates `ids` of a /get (RFC 8620 §5.1): null or an array within maxObjectsInGet. */
export function getIds(args: Args, ctx: Ctx): string[] | null {
  const ids = args.ids;
  if (ids === undefined || ids === null) return null;
  if (!isIdArray(ids)) throw invalid('ids must be null or an array of ids');
  if (ids.length > ctx.limits.maxObjectsInGet) throw new MethodError('requestTooLarge');
  return ids.map((id) => resolveId(id, ctx));
}

/** Validates `properties` against the known ones; null means the defaults. */
export function getProperties(args: Args, known: (p: string) => boolean): string[] | null {
  const p = args.properties;
  if (p === undefined || p === null) return null;
  if (!isIdArray(p)) throw invalid('properties must be an array of strings');
  for (const name of p) if (!known(name)) throw invalid(`unknown property ${name}`);
  return p;
}

/** Validates a /set request's sizes and `ifInState` (RFC 8620 §5.3 requestTooLarge, stateMismatch). */
export function setPreamble(args: Args, ctx: Ctx, currentState: string): {
  create: Record<string, Args>; update: Record<string, Args>; destroy: string[];
} {
  const create = args.create ?? {}, update = args.update ?? {}, destroy = args.destroy ?? [];
  if (!isObj(create) || !Object.values(create).every(isObj)) throw invalid('create must be a map of objects');
  if (!isObj(update) || !Object.values(update).every(isObj)) throw invalid('update must be a map of patch objects');
  if (!isIdArray(destroy)) throw invalid('destroy must be an array of ids');
  const n = Object.keys(create).length + Object.keys(update).length + destroy.length;
  if (n > ctx.limits.maxObjectsInSet) throw new MethodError('requestTooLarge');
  if (args.ifInState !== undefined && args.ifInState !== null && args.ifInState !== currentState) throw new MethodError('stateMismatch');
  return { create: create as Record<string, Args>, update: update as Record<string, Args>, destroy };
}

/** Standard /changes arguments (RFC 8620 §5.2). */
export function changesArgs(args: Args): { sinceState: string; maxChanges: number | null } {
  if (typeof args.sinceState !== 'string') throw invalid('sinceState must be a string');
  const max = args.maxChanges;
  if (max !== undefined && max !== null && !(Number.isInteger(max) && (max as number) > 0)) throw invalid('maxChanges must be a positive integer');
  return { sinceState: args.sinceState, maxChanges: (max as number | null | undefined) ?? null };
}
