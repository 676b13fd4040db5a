/**
 * Profile names: the one check of a proposed name (`validateProfileName`) and the one rule for
 * reading a name a user typed (`matchProfileName`, `savedProfileName`, `isAutoName`), used by
 * every surface — the
 * CLI, the control API's operations and the router's `x-codex-lab-profile` header — so a name
 * one command accepts is never refused by another (docs/storage.md, "Names").
 *
 * A leaf module (errors, the schema and an edit distance for "did you mean"): the router reads
 * the header with it per request.
 */
import { distance } from 'fastest-levenshtein';
import { LabError } from '../errors.ts';
import { profileNamePattern } from './schema.ts';

/** The word that means "let the router choose" wherever a profile can be named for routing. */
export const autoName = 'auto';

/** Names that mean something else on the command line. */
export const reservedNames: ReadonlySet<string> = new Set([autoName]);

/** Longest profile name (the pattern's limit, spelled out for messages). */
export const maxNameLength = 64;

/**
 * Names Windows cannot give a folder (a packaged target): its device names, with or without an
 * extension (`con`, `con.work`), in any case.
 */
const windowsDeviceName = /^(?:con|prn|aux|nul|com[1-9]|lpt[1-9])(?:\..*)?$/i;

/** True when `typed` is `auto` (any case): no pin, the router chooses. */
export function isAutoName(typed: string): boolean {
  return typed.toLowerCase() === autoName;
}

/**
 * The real name of the profile a user typed, or null when none has it: the exact name first,
 * then its lower case (stored names are lower case, so `ALPHA-2` reads as `alpha-2`).
 * `names` is the profiles' names (a set where this runs per request).
 */
export function matchProfileName(
  typed: string,
  names: ReadonlySet<string> | readonly string[],
): string | null {
  const has = (name: string): boolean =>
    Array.isArray(names) ? names.includes(name) : (names as ReadonlySet<string>).has(name);
  if (has(typed)) return typed;
  const lower = typed.toLowerCase();
  return lower !== typed && has(lower) ? lower : null;
}

/** A profile as a sign-in's name check reads it. */
export interface SignInNameHolder {
  name: string;
  email: string | null;
  accountId: string | null;
}

/**
 * What a sign-in asked to save under `typed` does with the name: the one rule `codex-lab login
 * NAME` and the dashboard's Add account both check before a sign-in starts. `existing`: a profile
 * has the name (read as every typed name is: `ALICE` is alice), and only that profile's own
 * account renews it (another is refused after its sign-in); `new`: a new profile, under its saved
 * (lower-case) name, checked as a new name is (an `invalid_name` `LabError` otherwise).
 */
export function signInNameTarget<P extends SignInNameHolder>(
  typed: string,
  profiles: readonly P[],
): { kind: 'existing'; profile: P; owner: string } | { kind: 'new'; saved: string } {
  const real = matchProfileName(
    typed,
    profiles.map((profile) => profile.name),
  );
  const profile = profiles.find((candidate) => candidate.name === real);
  if (profile !== undefined) {
    return {
      kind: 'existing',
      profile,
      owner: profile.email ?? profile.accountId ?? 'the account it was made with',
    };
  }
  return { kind: 'new', saved: readNewProfileName(typed, []) };
}

/**
 * Add account asked for a new profile under a name a profile has: refused before the sign-in
 * starts (`name_taken`), saying whose it is and the two ways on.
 */
export function signInNameTaken(name: string, owner: string): LabError {
  return new LabError(
    'name_taken',
    `${name} is ${owner}’s profile: to renew it, use “Sign in again” on its card; for another account, pick another name.`,
  );
}

/**
 * The name a typed new name (a sign-in's, a rename's) is saved under: its lower case, so that it
 * reads as `matchProfileName` reads a typed existing name (`WORK` is `work` everywhere, and a
 * sign-in typed `ALICE` renews alice). `validateProfileName` still checks the result.
 */
export function savedProfileName(typed: string): string {
  return typed.toLowerCase();
}

/**
 * A typed new name (a sign-in's, a rename's) as it will be saved (`savedProfileName`), checked by
 * `validateProfileName` against `existing`; its messages quote the name as typed.
 */
export function readNewProfileName(typed: string, existing: readonly string[]): string {
  const saved = savedProfileName(typed);
  validateProfileName(saved, existing, typed);
  return saved;
}

/** What a valid profile name is made of, said after a name that is not one. */
export const profileNameRule =
  'use lowercase letters, digits, ".", "_" and "-", starting with a letter or digit';

/**
 * A typed profile name as a sentence quotes it: in JSON quotes, cut at 80 characters (a name
 * of any length may come in; the sentence that refuses it stays one line).
 */
export function quotedName(typed: string): string {
  return JSON.stringify(typed.length > 80 ? `${typed.slice(0, 80)}…` : typed);
}

/**
 * The failure for a typed name no profile has: one sentence for every surface, whichever command
 * or request met it. Its fix (`see_profiles`) says how to see the profiles: `codex-lab list` on
 * the command line (`withCliFix`), the list beside it in the dashboard.
 */
export function unknownProfile(typed: string, known: readonly string[] = []): LabError {
  const likely = likelyProfile(typed, known);
  const guess = likely === null ? '' : ` (did you mean ${likely}?)`;
  return new LabError(
    'profile_not_found',
    `There is no profile named ${quotedName(typed)}${guess}.`,
    { fix: { action: 'see_profiles' } },
  );
}

/**
 * The profile a mistyped name most likely meant: the one nearest by edit distance (case aside),
 * within a third of the name's length (at least one edit), when no other is as near; else null.
 */
export function likelyProfile(typed: string, known: readonly string[]): string | null {
  const wanted = typed.toLowerCase();
  const room = Math.max(1, Math.floor(wanted.length / 3));
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  let tied = false;
  for (const name of known) {
    const apart = distance(wanted, name.toLowerCase());
    if (apart > room || apart > bestDistance) continue;
    tied = apart === bestDistance;
    if (apart < bestDistance) [best, bestDistance] = [name, apart];
  }
  return tied ? null : best;
}

/**
 * Checks a proposed profile name: throws `invalid_name` or `name_taken` (case-insensitive
 * against `existing`) with one sentence saying what to do instead, quoting the name as `typed`. Names already in a registry
 * are not checked again when it loads (the schema holds only `profileNamePattern`), so a registry
 * that holds a name this refuses today stays readable.
 */
export function validateProfileName(
  name: string,
  existing: readonly string[],
  typed: string = name,
): void {
  // Messages quote what the user typed (`"A B"`), not its lower case.
  const shown = quotedName(typed);
  if (name === '') {
    throw new LabError('invalid_name', 'A profile name cannot be empty.');
  }
  if (name.length > maxNameLength) {
    throw new LabError(
      'invalid_name',
      `The profile name ${shown} is ${name.length} characters long; use at most ${maxNameLength}.`,
    );
  }
  if (!profileNamePattern.test(name)) {
    throw new LabError('invalid_name', `${shown} is not a valid profile name: ${profileNameRule}.`);
  }
  if (reservedNames.has(name)) {
    throw new LabError(
      'invalid_name',
      `${shown} is reserved (it means "let the router choose"); pick another name.`,
    );
  }
  // Each profile is a folder, and Windows cannot make (or later open) these ones.
  if (name.endsWith('.')) {
    throw new LabError(
      'invalid_name',
      `${shown} cannot be a profile name because Windows does not allow a folder name ending in "."; pick another name.`,
    );
  }
  if (windowsDeviceName.test(name)) {
    throw new LabError(
      'invalid_name',
      `${shown} cannot be a profile name because Windows reserves it for a device (con, prn, aux, nul, com1–com9, lpt1–lpt9, with or without an extension); pick another name.`,
    );
  }
  const lower = name.toLowerCase();
  const clash = existing.find((other) => other.toLowerCase() === lower);
  if (clash !== undefined) {
    throw new LabError(
      'name_taken',
      `A profile named ${JSON.stringify(clash)} already exists; pick another name or remove that one first.`,
    );
  }
}
