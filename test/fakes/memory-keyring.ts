/**
 * An in-memory keychain for the store's keyring paths without a Secret Service, which a test can
 * make fail on cue the ways a real one does: every call refused (the daemon is gone, or a locked
 * one was started in its place), or only writes refused (a locked keychain that still answers
 * reads). A refused call throws `keyring_unavailable`, as `createSystemKeyring` does.
 */
import { LabError } from '../../core/errors.ts';
import type { KeyringPort } from '../../core/profiles/keyring.ts';

/** What the fake keychain refuses: nothing, writes and deletes, or every call. */
export type KeyringOutage = 'none' | 'writes' | 'all';

/** An in-memory `KeyringPort` whose calls fail while `outage` says so. */
export class MemoryKeyring implements KeyringPort {
  /** The stored entries, by account. */
  readonly entries = new Map<string, string>();
  /** What is refused right now. */
  outage: KeyringOutage = 'none';
  /** How many calls were refused. */
  refused = 0;

  async get(account: string): Promise<string | null> {
    if (this.outage === 'all') this.#refuse();
    return this.entries.get(account) ?? null;
  }

  async set(account: string, value: string): Promise<void> {
    if (this.outage !== 'none') this.#refuse();
    this.entries.set(account, value);
  }

  async delete(account: string): Promise<void> {
    if (this.outage !== 'none') this.#refuse();
    this.entries.delete(account);
  }

  #refuse(): never {
    this.refused += 1;
    throw new LabError(
      'keyring_unavailable',
      'The OS keychain is not available (the fake keychain is down); unlock it, or use the file store.',
      { details: { detail: 'the fake keychain is down' } },
    );
  }
}
