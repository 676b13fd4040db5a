/**
 * Which account a profile is, as state kept beside its name records it. A profile's name moves
 * (rename) and is reused (remove, then another account signed in under it): state the router keeps
 * across time (the request journal, `state/quota.json`) carries the stamp of the account it was
 * made for, and is attached to a profile only while that profile is still the same account.
 *
 * The stamp is a short digest of the account id and email (the pair `saveSignIn` tells accounts
 * apart by: one email can own a personal and a team workspace), so the journal, which `codex-lab
 * log` prints, names no email.
 */
import { createHash } from 'node:crypto';

/** What a stamp is made of: a registry entry's identity fields. */
export interface AccountIdentity {
  accountId?: string | null;
  email?: string | null;
}

/** The profile's account stamp, or null when the entry names no account (nothing to check). */
export function accountStamp(identity: AccountIdentity): string | null {
  const accountId = identity.accountId ?? null;
  const email = identity.email?.toLowerCase() ?? null;
  if (accountId === null && email === null) return null;
  return createHash('sha256')
    .update(`codex-lab-account:${accountId ?? ''}\n${email ?? ''}`)
    .digest('hex')
    .slice(0, 16);
}

/**
 * True when state stamped `stamp` (undefined: made before stamps were kept) may be attached to a
 * profile whose stamp is `current` (undefined: no such profile). Unstamped state and profiles that
 * name no account are taken as they are: there is nothing to tell them apart by.
 */
export function stampMatches(
  stamp: string | null | undefined,
  current: string | null | undefined,
): boolean {
  if (current === undefined) return false;
  return stamp === undefined || stamp === null || current === null || stamp === current;
}

/** Each profile's stamp by name, for the checks above. */
export function accountStamps(
  profiles: Iterable<{ name: string } & AccountIdentity>,
): Map<string, string | null> {
  const stamps = new Map<string, string | null>();
  for (const profile of profiles) stamps.set(profile.name, accountStamp(profile));
  return stamps;
}

/**
 * True when tokens of the account `held` (read from a profile's auth file) may be used as the
 * account the registry records for that profile (`registered`): the registry is which account a
 * name is, now, through renames and reused names. A field either side does not record is not
 * compared: an entry from before account ids were kept, or tokens without an email claim, cannot
 * be told apart by it (as `stampMatches` takes a profile that names no account).
 */
export function holdsAccount(registered: AccountIdentity, held: AccountIdentity): boolean {
  const differs = (left: string | null | undefined, right: string | null | undefined) =>
    left !== null && left !== undefined && right !== null && right !== undefined && left !== right;
  return (
    !differs(registered.accountId, held.accountId) &&
    !differs(registered.email?.toLowerCase(), held.email?.toLowerCase())
  );
}
