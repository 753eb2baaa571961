/**
 * The JMAP API endpoint (RFC 8620 §3): Request validation, request-level problem errors (§3.6.1), method
 * dispatch with method-level errors (§3.6.2) and result references (§3.7).
 */
import type { Repo, UserRow } from '../repo.ts';
import type { EmbeddedLimits } from '../types.ts';
import { type Args, type Ctx, type Handler, MethodError, isObj } from './context.ts';
import { mailboxMethods } from './mailbox.ts';
import { emailMethods } from './email.ts';
import { queryMethods } from './email-query.ts';
import { quotaMethods } from './quota.ts';
import { BLOB, blobMethods } from './blob.ts';

export const CORE = 'urn:ietf:params:jmap:core';
export const MAIL = 'urn:ietf:params:jmap:mail';
/** RFC 9425 §2 */
export const QUOTA = 'urn:ietf:params:jmap:quota';
export const CAPABILITIES = [CORE, MAIL, QUOTA, BLOB];

/** Method name -> capability it belongs to (must be in `using`, RFC 8620 §3.3) and handler. */
const METHODS: Record<string, { capability: string; handler: Handler }> = {
  'Core/echo': { capability: CORE, handler: (args) => args },
};
for (const [name, handler] of Object.entries({ ...mailboxMethods, ...emailMethods, ...queryMethods })) METHODS[name] = { capability: MAIL, handler };
for (const [name, handler] of Object.entries(quotaMethods)) METHODS[name] = { capability: QUOTA, handler };
for (const [name, handler] of Object.entries(blobMethods)) METHODS[name] = { capability: BLOB, handler };

/** An HTTP answer of the API endpoint. */
export interface ApiResult { status: number; body: unknown; problem: boolean }

const problem = (type: string, detail: string, extra: Args = {}): ApiResult =>
  ({ status: 400, problem: true, body: { type: `urn:ietf:params:jmap:error:${type}`, status: 400, detail, ...extra } });

/** Evaluates a JSON Pointer with the `*` array extension of RFC 8620 §3.7; undefined if the path does not exist. */
export function evalPointer(value: unknown, path: string): unknown {
  if (path === '') return value;
  if (!path.startsWith('/')) return undefined;
  const tokens = path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  const walk = (v: unknown, i: number): unknown => {
    if (i === tokens.length) return v;
    const t = tokens[i]!;
    if (Array.isArray(v)) {
      if (t === '*') {
        const out: unknown[] = [];
        for (const item of v) {
          const r = walk(item, i + 1);
          if (r === undefined) return undefined;
          if (Array.isArray(r)) out.push(...r); else out.push(r);
        }
        return out;
      }
      if (!/^(0|[1-9]\d*)$/.test(t) || Number(t) >= v.length) return undefined;
      return walk(v[Number(t)], i + 1);
    }
    if (isObj(v) && Object.hasOwn(v, t)) return walk(v[t], i + 1);
    return undefined;
  };
  return walk(value, 0);
}

/** Replaces `#name` arguments with the referenced results (RFC 8620 §3.7). */
function resolveReferences(args: Args, responses: [string, Args, string][]): Args {
  const out: Args = {};
  for (const [k, v] of Object.entries(args)) {
    if (!k.startsWith('#')) { out[k] = v; continue; }
    const name = k.slice(1);
    if (Object.hasOwn(args, name)) throw new MethodError('invalidArguments', { description: `both ${name} and ${k} given` });
    if (!isObj(v) || typeof v.resultOf !== 'string' || typeof v.name !== 'string' || typeof v.path !== 'string')
      throw new MethodError('invalidResultReference', { description: `${k} is not a ResultReference` });
    const source = responses.find((r) => r[2] === v.resultOf);
    if (!source || source[0] !== v.name) throw new MethodError('invalidResultReference', { description: `no ${v.name} response for ${v.resultOf}` });
    const value = evalPointer(source[1], v.path);
    if (value === undefined) throw new MethodError('invalidResultReference', { description: `path ${v.path} not found` });
    out[name] = value;
  }
  return out;
}

/** Handles one API request body for an authenticated user. */
export function handleApiRequest(bodyText: string, repo: Repo, user: UserRow, limits: EmbeddedLimits): ApiResult {
  let req: unknown;
  try { req = JSON.parse(bodyText); } catch { return problem('notJSON', 'The request did not parse as I-JSON.'); }
  if (!isObj(req) || !Array.isArray(req.using) || !req.using.every((u) => typeof u === 'string') || !Array.isArray(req.methodCalls)
    || !req.methodCalls.every((c) => Array.isArray(c) && c.length === 3 && typeof c[0] === 'string' && isObj(c[1]) && typeof c[2] === 'string')
    || (req.createdIds !== undefined && !isObj(req.createdIds)))
    return problem('notRequest', 'The request did not match the type signature of the Request object.');
  const using = req.using as string[];
  const unknown = using.find((u) => !CAPABILITIES.includes(u));
  if (unknown) return problem('unknownCapability', `The Request object used capability '${unknown}', which is not supported by this server.`);
  const calls = req.methodCalls as [string, Args, string][];
  if (calls.length > limits.maxCallsInRequest)
    return problem('limit', `The request has more than ${limits.maxCallsInRequest} method calls.`, { limit: 'maxCallsInRequest' });
  const ctx: Ctx = { repo, limits, user, createdIds: new Map(Object.entries((req.createdIds as Record<string, string>) ?? {})) };
  const responses: [string, Args, string][] = [];
  for (const [name, rawArgs, callId] of calls) {
    try {
      const method = METHODS[name];
      if (!method || !using.includes(method.capability)) throw new MethodError('unknownMethod');
      const args = resolveReferences(rawArgs, responses);
      responses.push([name, method.handler(args, ctx), callId]);
    } catch (e) {
      if (e instanceof MethodError) responses.push(['error', { type: e.type, ...e.extra }, callId]);
      else responses.push(['error', { type: 'serverFail', description: e instanceof Error ? e.message : String(e) }, callId]);
    }
  }
  const body: Args = { methodResponses: responses, sessionState: sessionState(repo, user) };
  if (req.createdIds !== undefined) body.createdIds = Object.fromEntries(ctx.createdIds);
  return { status: 200, problem: false, body };
}

/** The Session state (RFC 8620 §2): changes only if the session resource would change (its own account, shares). */
export const sessionState = (repo: Repo, user: UserRow) =>
  [`s-${user.account_id}`, ...repo.sharedWith(user.username).map((s) => `${s.account_id}${s.read_only ? 'r' : 'w'}`)].join('-');
