/**
 * Checks a command makes before it acts, so nothing is started that is bound to fail: `login`
 * before it prints the sign-in URL (no browser sign-in is thrown away), `codex --profile` before
 * Codex starts. Each failure is one `LabError` sentence; each warning is one line for stderr.
 */
import { LabError } from '../errors.ts';
import { formatStatus, signInCommand } from '../format.ts';
import { probeKeyring } from '../profiles/keyring.ts';
import { createProfileStore } from '../profiles/create-store.ts';
import { validateProfileName } from '../profiles/store.ts';
import { buildProfileViews } from '../service/views.ts';
import type { CliContext } from './context.ts';

/**
 * Before a sign-in: the registry is readable (a corrupt one is named), the keychain answers when
 * `--keyring` asks for it, and a requested name is well formed. Returns a note when the name is
 * an existing profile: the sign-in renews it only for that same account.
 */
export async function precheckLogin(
  context: CliContext,
  input: { name: string | null; keyring: boolean },
): Promise<string | null> {
  const store = createProfileStore({ paths: context.paths });
  await store.readRegistry();
  if (input.keyring) {
    const probe = await probeKeyring();
    if (!probe.available) {
      throw new LabError(
        'keyring_unavailable',
        `The OS keychain is not available (${probe.reason.split('\n')[0]}), so --keyring cannot keep the tokens: unlock it, or sign in without --keyring.`,
      );
    }
  }
  if (input.name === null) return null;
  const existing = (await store.listProfiles()).find(
    (entry) => entry.name.toLowerCase() === input.name!.toLowerCase(),
  );
  if (!existing) {
    validateProfileName(input.name, []);
    return null;
  }
  const who = existing.email ?? existing.accountId ?? 'the account it was made with';
  return `${existing.name} is ${who}'s profile: sign in as ${who} to renew it (another account would not be saved under this name).`;
}

/**
 * Before `codex --profile NAME` starts Codex: NAME must exist. Returns a warning when it is
 * limited or needs sign-in (Codex would get errors), naming when it is back and that without
 * `--profile` the router chooses.
 */
export async function precheckCodexProfile(
  context: CliContext,
  name: string,
  now: number,
): Promise<string | null> {
  const views = await buildProfileViews(context.paths, now);
  const view = views.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
  if (!view) {
    const known = views.map((candidate) => candidate.name).join(', ');
    throw new LabError(
      'profile_not_found',
      `There is no profile named "${name}"${known ? ` (profiles: ${known})` : ''}; see codex-lab list.`,
    );
  }
  if (view.status === 'limited') {
    return `${view.name} is ${formatStatus(view.status, view.unavailableUntil, { now })}: Codex will get usage-limit errors until then; without --profile the router chooses a profile with quota left.`;
  }
  if (view.status === 'auth_error') {
    return `${view.name} needs sign-in (run ${signInCommand(view.name)}): until then Codex will get sign-in errors; without --profile the router chooses another profile.`;
  }
  return null;
}
