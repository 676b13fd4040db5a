/**
 * Checks a command makes before it acts, so nothing is started that is bound to fail: `login`
 * before it prints the sign-in URL (no browser sign-in is thrown away), `codex --profile` before
 * Codex starts. Each failure is one `LabError` sentence; each warning is one line for stderr.
 */
import { unavailableWarning, withCliFix, type PinSource, type RoutingUse } from '../format.ts';
import { cliProfileStore } from './profile-store.ts';
import { matchProfileName, signInNameTarget, unknownProfile } from '../profiles/names.ts';
import type { ProfileView } from '../view-types.ts';
import { buildProfileViews } from '../service/views.ts';
import type { CliContext } from './context.ts';

/**
 * Before a sign-in: the registry is readable (a corrupt one is named), the keychain answers when
 * `--keyring` asks for it or the named profile is kept there, every folder the save writes in can
 * be written, a requested name is well formed, and a profile of that name whose auth file cannot
 * be read has an account on record (all `ProfileStore.precheckSignIn`, which the dashboard's
 * sign-in makes too). Returns a note
 * when the name is an existing profile (the sign-in renews it only for that same account), or
 * when a new one is saved under its lower case.
 */
export async function precheckLogin(
  context: CliContext,
  input: { name: string | null; keyring: boolean },
): Promise<string | null> {
  const store = cliProfileStore(context);
  await store.readRegistry();
  // The keychain answers when the sign-in keeps its tokens there, every folder the save writes in
  // can be written, and a named profile can take the sign-in: the dashboard's check too.
  await store.precheckSignIn(input.name, { keyring: input.keyring });
  if (input.name === null) return null;
  const target = signInNameTarget(input.name, await store.listProfiles());
  if (target.kind === 'new') {
    return target.saved === input.name
      ? null
      : `${input.name} is saved as ${target.saved} (profile names are lower case).`;
  }
  const who = target.owner;
  return `${target.profile.name} is ${who}'s profile: sign in as ${who} to renew it (another account would not be saved under this name).`;
}

/**
 * The views the routing warning is read from, and the sentence naming a `state/health.json` that
 * does not read (the one `list` gives; the file is left as it is). Without the file a limited
 * profile, or one needing sign-in, looks able to serve, so the warning could not be given: the
 * user is told why instead of nothing. The operation that named the profile does not need the
 * file, so this is a note, not a failure.
 */
async function routingViews(
  context: CliContext,
  now: number,
): Promise<{ views: ProfileView[]; notes: string[] }> {
  const notes: string[] = [];
  const views = await buildProfileViews(context.paths, now, {
    onProblem: (problem) => {
      if (problem.details?.['path'] === context.paths.health) {
        notes.push(withCliFix(problem.message, problem.fix));
      }
    },
  });
  return { views, notes };
}

/**
 * The lines for stderr after `use` or `pin` named a profile: a corrupt health file by name, then
 * the warning `unavailableWarning` gives when the profile cannot serve. Empty when there is
 * nothing to say, or when no profile has that name.
 */
export async function routingWarnings(
  context: CliContext,
  name: string,
  use: RoutingUse,
  now: number,
): Promise<string[]> {
  const { views, notes } = await routingViews(context, now);
  const real = matchProfileName(
    name,
    views.map((view) => view.name),
  );
  const view = views.find((candidate) => candidate.name === real);
  const warning = view ? unavailableWarning(view, use, now) : null;
  return warning === null ? notes : [...notes, warning];
}

/**
 * Before `codex --profile NAME` starts Codex: NAME must be a profile (read as every command reads
 * a typed name). Returns its real name, and the lines for stderr: a corrupt health file by name,
 * and a warning when it is limited or needs sign-in (Codex would get errors), naming when it is
 * back and how to let the router choose: the way out of the pin `source` gave.
 */
export async function precheckCodexProfile(
  context: CliContext,
  name: string,
  source: PinSource,
  now: number,
): Promise<{ name: string; warnings: string[] }> {
  const { views, notes } = await routingViews(context, now);
  const real = matchProfileName(
    name,
    views.map((candidate) => candidate.name),
  );
  const view = views.find((candidate) => candidate.name === real);
  if (!view) {
    throw unknownProfile(
      name,
      views.map((candidate) => candidate.name),
    );
  }
  const warning = unavailableWarning(view, { codex: source }, now);
  return { name: view.name, warnings: warning === null ? notes : [...notes, warning] };
}
