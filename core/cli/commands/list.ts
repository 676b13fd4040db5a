/**
 * `codex-lab list [--json] [--wide]`: every profile with email, plan, status, quota windows and
 * the active marker, fitted to the terminal's width (100 columns off a terminal); `--wide` shows
 * every column uncut. While a router runs it shows the router's live view of each profile (what
 * it routes by: an account it skips for failing upstream, quota it just read) and its pool
 * summary, as `usage --pool` does, and over a registry it cannot read, the last good copy the
 * router routes with; with none it reads files only (no HTTP client), and each keychain
 * profile's entry (as a file profile's auth.json), so a keychain out of reach is never `ready`.
 * Otherwise the keychain is read only for a profile folder with no auth file that the registry
 * does not list.
 */
import { isLabError, type LabError } from '../../errors.ts';
import type { LabPaths } from '../../home/paths.ts';
import type { FileProblemView } from '../../view-types.ts';
import { poolSummaryOf } from '../../service/pool-view.ts';
import { describePool } from '../../service/quota-text.ts';
import { createProfileStore } from '../../profiles/create-store.ts';
import { danglingReferences, pinCounts, pinsByProfile, pinViews } from '../../service/pins.ts';
import type { PinView, ProfileView } from '../../service/contract.ts';
import { buildProfileViews } from '../../service/views.ts';
import { writeLine, type CliContext } from '../context.ts';
import { liveLabState, withLiveViews } from '../live-state.ts';
import { cliKeychainDeadline } from '../profile-store.ts';
import { familyLimited, formatFamilyLimit, withCliFix } from '../../format.ts';
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
  // Its keychain reads (a lost registry's rebuild, then the views') wait under one deadline.
  const keychainDeadline = cliKeychainDeadline(context);
  const store = createProfileStore({ paths: context.paths, keychainDeadline });
  let registryError: unknown = null;
  try {
    await store.listProfiles();
  } catch (error) {
    registryError = error;
  }
  // The files name what cannot be read (said below); the running router says what it routes by.
  const live = await liveLabState(context);
  let views: ProfileView[];
  let active: string;
  let pins: PinView[];
  if (registryError !== null) {
    // Over an unreadable registry a running router routes with the last good copy it read: show
    // that, with its problems naming the file, as `status` and the dashboard do.
    if (
      !isUnreadableRegistry(context.paths, registryError) ||
      !live ||
      live.profiles.length === 0
    ) {
      throw registryError;
    }
    ({ profiles: views, active, pins } = live);
    problems.push(...live.problems);
  } else {
    const lost = await store.lostRegistryReport();
    if (lost.rebuilt !== null) writeLine(context.stderr, `codex-lab: ${lost.rebuilt}.`);
    problems.push(...lost.problems);
    const files = await buildProfileViews(context.paths, now, {
      onProblem: (error) => problems.push(error),
      // With no router, what a keychain profile's state is can be known only by reading it.
      readKeychain: live === null,
      keychainDeadline,
    });
    views = live === null ? files : withLiveViews(files, live.profiles);
    const registry = await store.readRegistry();
    active = registry.active;
    pins = pinViews(registry);
  }
  if (options['json'] === true) {
    // Each profile with the pins that name it, shaped as `pins --json` and the control API's
    // state shape them: the table's PINS column counts these.
    const named = pinsByProfile(pins);
    writeLine(
      context.stdout,
      formatJson(views.map((view) => ({ ...view, pins: named.get(view.name) ?? [] }))),
    );
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
    // A family's limit mark (a 429 for one model family) is not the account's status: it is
    // said under the table, in the words `usage` says it, while it holds.
    const families = views.flatMap((view) =>
      (view.limits ?? [])
        .filter((family) => familyLimited(family, now))
        .map((family) => `${view.name}: ${formatFamilyLimit(family, now)}`),
    );
    if (families.length > 0) writeLine(context.stdout, `\n${fitLines(families, width).join('\n')}`);
    if (views.length > 0) {
      const summary = live?.pool ?? poolSummaryOf(views, active, now);
      const pool = describePool(summary, { now, commands: true });
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

/** Whether `error` is the registry's own read error (a corrupt or unreadable file). */
function isUnreadableRegistry(paths: LabPaths, error: unknown): boolean {
  return (
    isLabError(error) && error.code === 'corrupt_file' && error.details?.['path'] === paths.registry
  );
}
