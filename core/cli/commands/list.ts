/**
 * `codex-lab list [--json] [--wide]`: every profile with email, plan, status, quota windows and
 * the active marker, fitted to the terminal's width (100 columns off a terminal); `--wide` shows
 * every column uncut. Reads files only (no router, no HTTP client, no keychain) so it starts fast; the keychain
 * is read only when the registry is lost and a profile folder holds no auth file, and the router
 * is asked only when the registry cannot be read (it may route with the last good copy).
 */
import { isLabError, type LabError } from '../../errors.ts';
import type { LabPaths } from '../../home/paths.ts';
import type { FileProblemView, LabState } from '../../view-types.ts';
import { poolSummaryOf } from '../../service/pool-view.ts';
import { describePool } from '../../service/quota-text.ts';
import { createProfileStore } from '../../profiles/create-store.ts';
import { danglingReferences, pinCounts, pinViews } from '../../service/pins.ts';
import type { PinView, ProfileView } from '../../service/contract.ts';
import { buildProfileViews } from '../../service/views.ts';
import { writeLine, type CliContext } from '../context.ts';
import { withCliFix } from '../../format.ts';
import { colourEnabled, fitLines, formatJson, formatProfileTable, tableWidth } from '../format.ts';

/**
 * Prints the profiles. Exits 1 (after printing what it could) when a profile's auth.json or a
 * state file cannot be read, naming each such file on stderr. While the registry cannot be read
 * and a router runs on the last good copy it read, shows the router's profiles and names the
 * file in the router's own sentence (the one `status` and the dashboard show); the file is never
 * written.
 */
export async function runList(
  context: CliContext,
  _args: string[],
  options: Record<string, unknown>,
): Promise<number> {
  const now = Date.now();
  const problems: Array<LabError | FileProblemView> = [];
  // Listed first with this store, so that what a rebuild of a lost registry did is said here,
  // in sentences (no logger: \`list\` words everything it has to say itself, and starts lean).
  const store = createProfileStore({ paths: context.paths });
  let live: LabState | null = null;
  try {
    await store.listProfiles();
  } catch (error) {
    live = await routerStateOverUnreadableRegistry(context.paths, error);
    if (live === null) throw error;
  }
  let views: ProfileView[];
  let active: string;
  let pins: PinView[];
  if (live !== null) {
    ({ profiles: views, active, pins } = live);
    problems.push(...live.problems);
  } else {
    const lost = await store.lostRegistryReport();
    if (lost.rebuilt !== null) writeLine(context.stderr, `codex-lab: ${lost.rebuilt}.`);
    problems.push(...lost.problems);
    views = await buildProfileViews(context.paths, now, {
      onProblem: (error) => problems.push(error),
    });
    const registry = await store.readRegistry();
    active = registry.active;
    pins = pinViews(registry);
  }
  if (options['json'] === true) {
    writeLine(context.stdout, formatJson(views));
  } else {
    const width = tableWidth(options, context.stdout);
    writeLine(
      context.stdout,
      formatProfileTable(views, active, now, {
        pins: pinCounts(pins),
        colour: colourEnabled(context.stdout, context.env),
        width,
      }),
    );
    if (views.length > 0) {
      const pool = describePool(poolSummaryOf(views, active, now), { now, commands: true });
      writeLine(context.stdout, fitLines([pool.headline, ...pool.lines], width).join('\n'));
    }
  }
  for (const problem of problems) {
    writeLine(context.stderr, `codex-lab: ${withCliFix(problem.message, problem.fix)}`);
  }
  if (problems.length === 0) {
    const registry = await store.readRegistry();
    const names = views.map((view) => view.name);
    for (const sentence of danglingReferences(registry, names)) {
      writeLine(context.stderr, `codex-lab: ${sentence}`);
    }
  }
  return problems.length > 0 ? 1 : 0;
}

/**
 * The running router's state when `error` is the registry's own read error and a router routes
 * with the last good copy it read (its state then lists those profiles, and its problems name
 * the file); null otherwise, and the error stands.
 */
async function routerStateOverUnreadableRegistry(
  paths: LabPaths,
  error: unknown,
): Promise<LabState | null> {
  if (!isLabError(error) || error.code !== 'corrupt_file') return null;
  if (error.details?.['path'] !== paths.registry) return null;
  const { discoverRouter } = await import('../../service/router-discovery.ts');
  const found = await discoverRouter(paths);
  if (found.state !== 'running') return null;
  const { RemoteLab } = await import('../../service/remote-lab.ts');
  const state = await new RemoteLab({ url: found.url, token: found.token })
    .getState()
    .catch(() => null);
  // A router with no copy of its own says no more than the file's error does.
  if (state === null || state.profiles.length === 0) return null;
  return state;
}
