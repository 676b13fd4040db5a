/**
 * A separate process that refreshes one profile, for the cross-process refresh test:
 * `node auth-refresh-child.ts HOME ISSUER PROFILE GO_FILE`. It prints `ready`, waits until GO_FILE
 * exists (so two children start together), asks the TokenManager for credentials and prints the
 * sha256 of the access token it got (never the token itself).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { TokenManager } from '../../core/auth/token-manager.ts';
import { labPaths } from '../../core/home/paths.ts';
import { silentLogger, systemClock } from '../../core/ports.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { HealthStore } from '../../core/state/health-store.ts';

const [home, issuer, profile, goFile] = process.argv.slice(2);
if (!home || !issuer || !profile || !goFile) throw new Error('usage: HOME ISSUER PROFILE GO_FILE');
const paths = labPaths(home);
const manager = new TokenManager({
  paths,
  store: new ProfileStore({ paths }),
  health: new HealthStore(paths),
  issuer,
  clock: systemClock,
  logger: silentLogger,
});
process.stdout.write('ready\n');
while (!existsSync(goFile)) await new Promise((resolve) => setTimeout(resolve, 2));
const credentials = await manager.getCredentials(profile);
process.stdout.write(
  `${JSON.stringify({ sha256: createHash('sha256').update(credentials.accessToken).digest('hex'), accountId: credentials.accountId })}\n`,
);
