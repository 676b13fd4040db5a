/**
 * The one way the project builds a `ProfileStore`: every surface (CLI, `serve`, the desktop app,
 * sign-in, views) gets the same store, with the OS keychain attached, so a profile saved with
 * `login --keyring` works everywhere. The keychain's native module loads only when a keyring
 * profile is touched, so commands over file profiles start as fast as before.
 */
import type { LabPaths } from '../home/paths.ts';
import type { Logger } from '../ports.ts';
import { createSystemKeyring, probeKeyring, type KeyringPort } from './keyring.ts';
import type { KeychainDeadline } from './keychain-deadline.ts';
import { ProfileStore } from './store.ts';

/** What `createProfileStore` needs; everything but `paths` has a production default. */
export interface CreateProfileStoreOptions {
  paths: LabPaths;
  /** Injected time (Unix ms); default `Date.now`. */
  now?: () => number;
  /** The keychain; default the system keychain (tests pass an in-memory one). */
  keyring?: KeyringPort;
  /** Where the store says what it did on its own (a registry rebuilt, a journal replayed). */
  logger?: Logger;
  /** The command's one deadline for its keychain reads (see `ProfileStoreOptions`). */
  keychainDeadline?: KeychainDeadline;
}

/** Builds the profile store over `paths`, with the system keychain unless one is passed. */
export function createProfileStore(options: CreateProfileStoreOptions): ProfileStore {
  return new ProfileStore({
    paths: options.paths,
    keyring: options.keyring ?? createSystemKeyring(),
    // The system keychain is probed on a broker of its own (`probeKeyring`), so a probe that
    // hangs never costs the process's keychain calls; a keychain passed in is probed as it is.
    ...(options.keyring ? {} : { probeKeyring: () => probeKeyring() }),
    ...(options.now ? { now: options.now } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.keychainDeadline ? { keychainDeadline: options.keychainDeadline } : {}),
  });
}
