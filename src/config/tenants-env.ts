/**
 * The tenants document with environment overrides (issue #5), applied before schema validation, in this order:
 *
 * 1. The base document: the file named by `--tenants` / `GATEWAY_TENANTS`, or the whole document as JSON in
 *    `GATEWAY_TENANTS_JSON` (giving both is an error: one source of truth).
 * 2. `GATEWAY_TENANTS_DEFAULT` replaces `defaultTenant`.
 * 3. `GATEWAY_TENANT_<ID>_<PROP>` replaces one property of the tenant whose id, upper-cased with `-` as `_`, is
 *    `<ID>` (the longest matching id wins). `<PROP>` is the property name in upper snake case; `__` steps into an
 *    object: `GATEWAY_TENANT_ACME_JMAP_SESSION_URL` -> `jmapSessionUrl`, `GATEWAY_TENANT_ACME_JWT__JWKS_URL` ->
 *    `jwt.jwksUrl`, `GATEWAY_TENANT_ACME_LIMITS__THROTTLE__IP_BLOCK_AFTER`. The value is parsed as JSON when it is
 *    valid JSON (numbers, booleans, arrays such as `["a.example"]`), else taken as a string. Variables are applied in
 *    name order. A variable naming no tenant is an error.
 * 4. Schema validation (parseTenants): a problem under an overridden property names the variable that set it.
 *
 * Runtime-neutral: `env` is any name -> value map (process.env on Node).
 */
import { parseTenants, TenantConfigError, type TenantsDocument } from '../auth/tenants.ts';

export const TENANTS_JSON_ENV = 'GATEWAY_TENANTS_JSON';
export const TENANTS_DEFAULT_ENV = 'GATEWAY_TENANTS_DEFAULT';
export const TENANT_PROP_PREFIX = 'GATEWAY_TENANT_';

type Env = Record<string, string | undefined>;
type Json = Record<string, unknown>;

/**
 * The validated document, or null when there is neither a file nor any tenants variable (single-tenant mode).
 * `file` is the text of the `--tenants` file and its name. Throws TenantConfigError (or a plain Error for JSON syntax).
 */
export function loadTenantsDocument(file: { name: string; text: string } | null, env: Env): TenantsDocument | null {
  const json = env[TENANTS_JSON_ENV];
  const props = Object.keys(env).filter((k) => k.startsWith(TENANT_PROP_PREFIX) && env[k] !== undefined).sort();
  if (file && json !== undefined) throw new TenantConfigError([`${TENANTS_JSON_ENV} and a tenants file (${file.name}) are both given; use one`]);
  if (!file && json === undefined) {
    if (props.length || env[TENANTS_DEFAULT_ENV] !== undefined) throw new TenantConfigError([`${props[0] ?? TENANTS_DEFAULT_ENV}: there is no tenants document to override (give --tenants or ${TENANTS_JSON_ENV})`]);
    return null;
  }
  const doc = parseJson(file ? file.text : json!, file ? file.name : TENANTS_JSON_ENV);
  /** JSON pointer of each overridden property -> the variable that set it. */
  const sources = new Map<string, string>();
  if (env[TENANTS_DEFAULT_ENV] !== undefined && isObject(doc)) {
    doc.defaultTenant = env[TENANTS_DEFAULT_ENV];
    sources.set('/defaultTenant', TENANTS_DEFAULT_ENV);
  }
  const tenants = isObject(doc) && Array.isArray(doc.tenants) ? (doc.tenants as unknown[]) : [];
  for (const name of props) {
    const rest = name.slice(TENANT_PROP_PREFIX.length);
    const index = matchTenant(tenants, rest);
    if (index < 0) throw new TenantConfigError([`${name}: no tenant id matches the start of "${rest}"`]);
    const envId = envIdOf((tenants[index] as Json).id as string);
    const path = rest.slice(envId.length + 1).split('__').map(camel);
    if (path.some((p) => p === '')) throw new TenantConfigError([`${name}: no property after the tenant id`]);
    setPath(tenants[index] as Json, path, value(env[name]!));
    sources.set(`/tenants/${index}/${path.join('/')}`, name);
  }
  try {
    return parseTenants(doc);
  } catch (err) {
    if (!(err instanceof TenantConfigError)) throw err;
    throw new TenantConfigError(err.problems.map((p) => annotate(p, sources)));
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TenantConfigError([`${source}: not valid JSON (${(err as Error).message})`]);
  }
}

/** `my-tenant` -> `MY_TENANT`. */
function envIdOf(id: string): string {
  return id.toUpperCase().replace(/-/g, '_');
}

/** Index of the tenant with the longest id that `rest` starts with (followed by `_`), or -1. */
function matchTenant(tenants: unknown[], rest: string): number {
  let best = -1;
  let bestLength = -1;
  tenants.forEach((t, i) => {
    const id = isObject(t) && typeof t.id === 'string' ? envIdOf(t.id) : null;
    if (id && rest.startsWith(`${id}_`) && id.length > bestLength) {
      best = i;
      bestLength = id.length;
    }
  });
  return best;
}

/** `JWKS_URL` -> `jwksUrl`. */
function camel(snake: string): string {
  return snake.toLowerCase().replace(/_+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function value(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function setPath(target: Json, path: string[], v: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  node[path.at(-1)!] = v;
}

/** `"/tenants/0/jmapSessionUrl: ..."` -> the same plus `(set by GATEWAY_TENANT_A_JMAP_SESSION_URL)`. */
function annotate(problem: string, sources: Map<string, string>): string {
  const at = problem.slice(0, problem.indexOf(':'));
  for (const [path, name] of sources) {
    if (at === path || at.startsWith(`${path}/`)) return `${problem} (set by ${name})`;
  }
  return problem;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
