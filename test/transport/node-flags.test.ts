/**
 * The V8 flags the gateway runs with (src/config/node-flags.ts) are the ones `npm start` passes, and this Node
 * accepts them: a misspelt or removed flag makes node refuse to start ("bad option"), which the bench's gateway
 * child would then hit too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { GATEWAY_NODE_FLAGS } from '../../src/config/node-flags.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

test('npm start runs src/node.ts with the gateway flags', () => {
  const start = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  const words = start.split(/\s+/);
  const script = words.indexOf('src/node.ts');
  assert.ok(script > 0, `start script: ${start}`);
  for (const flag of GATEWAY_NODE_FLAGS) {
    const at = words.indexOf(flag);
    assert.ok(at > 0 && at < script, `${flag} before the script in "${start}" (after it, tsx would hand it to the gateway as an argument)`);
  }
});

test('node starts with the gateway flags', () => {
  const r = spawnSync(process.execPath, [...GATEWAY_NODE_FLAGS, '-e', 'process.stdout.write("up")'], { encoding: 'utf8' });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'up');
});
