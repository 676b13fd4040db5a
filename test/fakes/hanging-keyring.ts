/**
 * A keychain that hangs instead of refusing (an unlock prompt no one answers), for the tests of
 * the one deadline every keychain wait of a load or a command shares.
 */
import type { KeyringPort } from '../../core/profiles/keyring.ts';

/**
 * A keychain whose reads answer only when `release` says (never, unless it does); `asked(n)`
 * resolves once `n` reads were made.
 */
export class HangingKeyring implements KeyringPort {
  readonly #waiting: Array<{ count: number; resolve: () => void }> = [];
  readonly #held: Array<() => void> = [];
  reads = 0;

  get(): Promise<string | null> {
    this.reads += 1;
    for (const waiter of this.#waiting) if (this.reads >= waiter.count) waiter.resolve();
    return new Promise((resolve) => this.#held.push(() => resolve(null)));
  }

  /** Answers every read made so far: no entry. */
  release(): void {
    for (const answer of this.#held.splice(0)) answer();
  }

  set(): Promise<void> {
    return new Promise(() => {});
  }

  delete(): Promise<void> {
    return new Promise(() => {});
  }

  asked(count: number): Promise<void> {
    if (this.reads >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({ count, resolve }));
  }
}
