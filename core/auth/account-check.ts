/**
 * The one check that an auth file's tokens are the account its profile is (docs/auth.md, "Whose
 * tokens"): a file copied over by hand holds another account's sign-in, and its tokens are never
 * handed out, refreshed or written as that profile's. Every place that reads an auth file to use
 * or show it asks here: the token manager (each read, so the router, a CLI with no router and
 * priming alike), the router's once-a-second file check and the file views.
 */
import { signInAgainError, type LabError } from '../errors.ts';
import { needsSignInSentence } from '../format.ts';
import { holdsAccount, type AccountIdentity } from '../profiles/account-stamp.ts';
import { identityFromAuth } from '../profiles/jwt.ts';
import type { AuthDotJson } from '../profiles/schema.ts';

/**
 * The account an auth file's tokens are, read as the registry's entry was made from them
 * (`identityFromAuth` at sign-in); nothing when they cannot be decoded (nothing to compare).
 */
export function accountHeldBy(auth: AuthDotJson): AccountIdentity {
  try {
    const { accountId, email } = identityFromAuth(auth);
    return { accountId, email };
  } catch {
    return {};
  }
}

/**
 * The `account_mismatch` failure when profile `name`'s auth file holds tokens of another account
 * than its registry entry (`registered`) records, naming whose sign-in it holds; else null.
 */
export function heldByAnotherAccount(
  name: string,
  registered: AccountIdentity,
  auth: AuthDotJson,
): LabError | null {
  if (!auth.tokens) return null;
  const held = accountHeldBy(auth);
  if (holdsAccount(registered, held)) return null;
  const whose = held.email ?? held.accountId ?? 'another account';
  return signInAgainError(
    'account_mismatch',
    name,
    needsSignInSentence(name, `its auth file holds ${whose}'s sign-in`),
  );
}
