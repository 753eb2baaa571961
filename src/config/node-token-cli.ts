/**
 * `npm run -s token -- --user demo [--ttl 3600] [--data-dir ./data]`: mints a bearer token (RFC 7519 JWT) with the
 * local development issuer's key that `npm start` made in the data directory (src/config/node-dev-issuer.ts), for
 * OAUTHBEARER / XOAUTH2 logins (RFC 7628) and JMAP `Authorization: Bearer`. Prints the token alone on stdout.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEV_KEY_FILE, loadDevIssuer } from './node-dev-issuer.ts';

const USAGE = 'Usage: npm run -s token -- --user NAME [--ttl SECONDS (default 3600)] [--data-dir DIR (default $GATEWAY_DATA_DIR or ./data)]';

async function main(): Promise<void> {
  let values: { user?: string; ttl?: string; 'data-dir'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { user: { type: 'string' }, ttl: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean' } }, strict: true }));
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) return void console.log(USAGE);
  const ttl = Number(values.ttl ?? 3600);
  if (!values.user) return fail(`--user is required\n${USAGE}`);
  if (!Number.isInteger(ttl) || ttl <= 0) return fail(`--ttl: expected a positive number of seconds, got "${values.ttl}"`);
  const dataDir = resolve(values['data-dir'] ?? process.env.GATEWAY_DATA_DIR ?? './data');
  const issuer = await loadDevIssuer(dataDir, false);
  if (!issuer) return fail(`${resolve(dataDir, DEV_KEY_FILE)}: no development issuer key; start the gateway once with \`npm start\` (embedded store, no --tenants)`);
  console.log(await issuer.mint(values.user, ttl));
}

function fail(message: string): void {
  console.error(message);
  process.exitCode = 2;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
