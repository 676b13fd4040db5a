/**
 * One deadline for the keychain reads of one load or one command, so a keychain that hangs
 * instead of refusing (an unlock prompt no one answers) costs one wait of `keyringCallTimeoutMs`,
 * not one per read nor one per step that reads: `list`'s views, the folders no registry lists,
 * and `usage --refresh`'s token reads then its views all wait under it.
 *
 * The timer runs only while a read waits (none is left behind once they answered), measured from
 * the first of them; once it has fired, every read after it is late at once, without asking the
 * keychain again: a keychain that did not answer is not waited for twice.
 */
import type { Cancel, Clock } from '../ports.ts';
import { keyringCallTimeoutMs, keyringUnavailable, type KeyringPort } from './keyring.ts';

/** What a read under the deadline came to: its answer, or `late` (not answered in time). */
export type DeadlineAnswer<T> = { late: false; value: T } | { late: true };

/** The one deadline of a load's or a command's keychain reads. */
export class KeychainDeadline {
  readonly #clock: Clock;
  readonly #limitMs: number;
  #waiting = 0;
  #cancel: Cancel | null = null;
  #passed = false;
  #onPassed: Array<() => void> = [];

  constructor(clock: Clock, limitMs: number = keyringCallTimeoutMs) {
    this.#clock = clock;
    this.#limitMs = limitMs;
  }

  /** How long the deadline is, for the sentences that name it. */
  get limitMs(): number {
    return this.#limitMs;
  }

  /** Whether the deadline passed with a read still waiting. */
  get passed(): boolean {
    return this.#passed;
  }

  /**
   * Starts `read` and waits for it until the deadline: its answer (a failure is thrown as it
   * came), or `late` when the deadline passes first, or had passed (then `read` is not started).
   * An answer that comes after the deadline is dropped.
   */
  async within<T>(read: () => Promise<T>): Promise<DeadlineAnswer<T>> {
    if (this.#passed) return { late: true };
    this.#waiting += 1;
    this.#cancel ??= this.#clock.setTimeout(() => this.#pass(), this.#limitMs);
    try {
      const answer = await new Promise<
        { ok: true; value: T } | { ok: false; error: unknown } | null
      >((resolve) => {
        this.#onPassed.push(() => resolve(null));
        read().then(
          (value) => resolve({ ok: true, value }),
          (error: unknown) => resolve({ ok: false, error }),
        );
      });
      // Settled as the deadline passed, or after it: late all the same.
      if (answer === null || this.#passed) return { late: true };
      if (!answer.ok) throw answer.error;
      return { late: false, value: answer.value };
    } finally {
      this.#waiting -= 1;
      if (this.#waiting === 0 && !this.#passed) {
        // Nothing waits: no timer outlives the reads.
        this.#cancel?.();
        this.#cancel = null;
        this.#onPassed = [];
      }
    }
  }

  #pass(): void {
    this.#passed = true;
    this.#cancel = null;
    for (const late of this.#onPassed.splice(0)) late();
  }
}

/**
 * `keyring` with its reads under `deadline`: a read not answered by then fails as a keychain out
 * of reach (`keyring_unavailable`, "no answer within 10 s"). Writes are left to the keychain's
 * own limit: one given up on here could still land after a newer one.
 */
export function keyringWithin(keyring: KeyringPort, deadline: KeychainDeadline): KeyringPort {
  return {
    get: async (account) => {
      const answer = await deadline.within(() => keyring.get(account));
      if (answer.late) {
        throw keyringUnavailable(`no answer within ${Math.round(deadline.limitMs / 1000)} s`);
      }
      return answer.value;
    },
    set: (account, value) => keyring.set(account, value),
    delete: (account) => keyring.delete(account),
  };
}
