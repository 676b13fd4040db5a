/**
 * The profile store a CLI command edits, with the OS keychain available for keyring profiles.
 * Kept out of `context.ts` so commands that never touch profiles do not load the store.
 */
import { createSystemKeyring } from '../profiles/keyring.ts';
import { ProfileStore } from '../profiles/store.ts';
import type { CliContext } from './context.ts';

/** A `ProfileStore` over the command's home; the keychain module loads only when a keyring profile is touched. */
export function profileStoreFor(context: CliContext): ProfileStore {
  return new ProfileStore({ paths: context.paths, keyring: createSystemKeyring() });
}
