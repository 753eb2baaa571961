// src/protocol is runtime-neutral and self-contained (DESIGN.md "Runtimes" and "Layers").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('../../src/protocol/', import.meta.url).pathname;

test('src/protocol uses no node:* module, no Buffer, and imports only from src/protocol', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 8);
  for (const f of files) {
    const src = readFileSync(join(dir, f), 'utf8');
    assert.doesNotMatch(src, /from\s+['"]node:/, f);
    assert.doesNotMatch(src, /\bBuffer\b/, f);
    for (const m of src.matchAll(/from\s+['"]([^'"]+)['"]/g)) assert.match(m[1]!, /^\.\/[\w-]+\.ts$/, `${f} imports ${m[1]}`);
  }
});
