/**
 * A process that refreshes one profile's tokens once, as the router does after a 401, and then
 * exits: the victim of tests that kill a refresh at a chosen moment.
 *
 *   node test/helpers/refresh-once.ts <CODEX_LAB_HOME> <issuer URL> <profile>
 */
import { TokenManager } from '../../core/auth/token-manager.ts';
import { labPaths } from '../../core/home/paths.ts';
import { silentLogger, systemClock } from '../../core/ports.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import { HealthStore } from '../../core/state/health-store.ts';

const [home, issuer, profile] = process.argv.slice(2) as [string, string, string];
const paths = labPaths(home);
const store = new ProfileStore({ paths });
const manager = new TokenManager({
  paths,
  store,
  health: new HealthStore(paths),
  issuer,
  clock: systemClock,
  logger: silentLogger,
});
const auth = await store.readAuth(profile);
await manager.refreshAfterUnauthorized(profile, auth.tokens!.access_token);
