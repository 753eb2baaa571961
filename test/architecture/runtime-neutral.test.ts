/**
 * DESIGN.md "Runtimes": everything outside the Node adapters and the embedded store uses only web-standard APIs,
 * so the same core runs on workerd. And the gateway core never imports the embedded JMAP store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = new URL('../../src/', import.meta.url).pathname;

/** Files allowed to use Node APIs: the Node adapters and entry points, the Node-only SQLite store, the embedded store. */
const NODE_ONLY = [/^node\.ts$/, /^cache\/sqlite\.ts$/, /^transport\/node[^/]*\.ts$/, /^uidmap\/sqlite\.ts$/, /^embedded\//, /^config\/node[^/]*\.ts$/];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Node-specific constructs: `node:` imports, bare Node built-in module names, `Buffer`, `process`, `require`. */
const NODE_BUILTINS = ['fs', 'path', 'net', 'tls', 'crypto', 'os', 'http', 'https', 'stream', 'child_process', 'url', 'util', 'events', 'buffer', 'zlib', 'worker_threads'];
const FORBIDDEN: Array<[string, RegExp]> = [
  ['node: import', /from\s+['"]node:|import\(\s*['"]node:/],
  ['Node built-in import', new RegExp(`from\\s+['"](${NODE_BUILTINS.join('|')})['"]`)],
  ['Buffer', /\bBuffer\b/],
  ['process global', /\bprocess\./],
  ['require()', /\brequire\(/],
  ['Node-only package', /from\s+['"](better-sqlite3|@hono\/node-server|selfsigned|pino)['"]/],
];

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

test('core modules use only web-standard APIs (no node:*, no Buffer)', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const rel = relative(SRC, file);
    if (NODE_ONLY.some((rx) => rx.test(rel))) continue;
    const code = stripComments(readFileSync(file, 'utf8'));
    for (const [what, rx] of FORBIDDEN) if (rx.test(code)) offenders.push(`${rel}: ${what}`);
  }
  assert.deepEqual(offenders, []);
});

test('the gateway core never imports the embedded JMAP store', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith('embedded/') || rel === 'node.ts') continue;
    if (/from\s+['"][^'"]*embedded\//.test(readFileSync(file, 'utf8'))) offenders.push(rel);
  }
  assert.deepEqual(offenders, []);
});

test('the checker itself catches a forbidden construct', () => {
  const sample = "import net from 'node:net';\nconst b = Buffer.from('x');";
  assert.ok(FORBIDDEN.some(([, rx]) => rx.test(stripComments(sample))));
  assert.ok(!FORBIDDEN.some(([, rx]) => rx.test(stripComments('// Buffer in a comment\nconst u = new Uint8Array(1);'))));
});
