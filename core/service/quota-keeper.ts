/**
 * The quota store and poller, split out of the service facade: the in-memory `QuotaBook` saved to
 * `state/quota.json` (merged under the cross-process lock, so a newer snapshot another process
 * wrote is kept), loaded at start, and a gentle poll of the usage endpoint while a router runs.
 */
import { randomInt } from 'node:crypto';
import { readJsonFile, writeJsonFile } from '../home/files.ts';
import { withLock } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import { minute, type Cancel, type Clock, type Logger } from '../ports.ts';
import { QuotaBook, supersedes } from '../quota/quota-book.ts';
import { quotaFileSchema, type QuotaFile } from '../state/schema.ts';

/** What the keeper is built from. */
export interface QuotaKeeperOptions {
  paths: LabPaths;
  clock: Clock;
  logger: Logger;
  /**
   * The profiles now, each with its account stamp (`accountStamp`), read at `load`: figures of a
   * removed profile, or of another account that had the name, are dropped then (see
   * `QuotaBook.setAccounts`). Without it every entry is taken as it is.
   */
  accounts?: () => Promise<ReadonlyMap<string, string | null>>;
}

/** The quota book with its file. */
export class QuotaKeeper {
  readonly book: QuotaBook;
  readonly #paths: LabPaths;
  readonly #logger: Logger;
  readonly #accounts: QuotaKeeperOptions['accounts'];
  readonly #clock: Clock;

  constructor(options: QuotaKeeperOptions) {
    this.#paths = options.paths;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#accounts = options.accounts;
    this.book = new QuotaBook({
      clock: options.clock,
      path: options.paths.quota,
      logger: options.logger,
      write: (path, value) => this.#write(path, value as QuotaFile),
    });
  }

  /** Loads `state/quota.json` into the book (a missing or unreadable file leaves it empty). */
  async load(): Promise<void> {
    try {
      const file = await readJsonFile(this.#paths.quota, quotaFileSchema);
      if (file) this.book.fromFile(file);
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not read saved quota');
    }
    // A removal completed by a replay, or by hand, leaves its figures in the file: gone here, and
    // from the file at the next write.
    if (await this.#learnAccounts()) this.book.persist();
  }

  /** Tells the book the profiles now (`accounts`); true when figures were dropped. */
  async #learnAccounts(): Promise<boolean> {
    if (this.#accounts === undefined) return false;
    try {
      return this.book.setAccounts(await this.#accounts());
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not read the profiles to check saved quota');
      return false;
    }
  }

  /** Writes now; resolves with null once on disk, or with the error that kept it off (logged). */
  flush(): Promise<unknown> {
    return this.book.flush();
  }

  // The CLI and the router both write state/quota.json: merge under the lock, and a profile's
  // newer snapshot on disk (another process polled it) is kept.
  async #write(path: string, book: QuotaFile): Promise<void> {
    await withLock(this.#paths.locksDir, 'quota', async () => {
      // The profiles as they are now, not as they were at `load`: another command may have
      // renamed or removed one since, and figures are kept under the name their account has.
      await this.#learnAccounts();
      const file: QuotaFile = (await readJsonFile(path, quotaFileSchema)) ?? {
        version: 1,
        profiles: {},
      };
      for (const [profile, entry] of Object.entries(book.profiles)) {
        const onDisk = file.profiles[profile];
        // Newer figures on disk win only when they are the same account's (and not from ahead
        // of a clock that stepped back since: `supersedes`).
        if (
          onDisk?.latest &&
          entry.latest &&
          !supersedes(entry.latest, onDisk.latest, this.#clock.now()) &&
          onDisk.account === entry.account
        ) {
          continue;
        }
        // Over what is on disk when it is the same account's, so an entry's fields this version
        // does not know are kept; another account's entry is replaced whole.
        file.profiles[profile] =
          onDisk !== undefined && onDisk.account === entry.account
            ? { ...onDisk, ...entry }
            : entry;
      }
      // Whatever the file holds for a profile that is gone, or for another account under its
      // name, goes (the book says which, once it knows the profiles).
      for (const [profile, entry] of Object.entries(file.profiles)) {
        if (!this.book.owns(profile, entry.account)) delete file.profiles[profile];
      }
      await writeJsonFile(path, file);
    });
  }
}

/** Options for `UsagePoller`. */
export interface UsagePollerOptions {
  clock: Clock;
  /** Period between polls (plus up to 3 minutes of jitter); 0 or less turns polling off. */
  periodMs: number;
  /** One poll over every profile. */
  pollOnce(): Promise<void>;
  /**
   * The next moment a profile's figures go stale (the earliest window reset ahead), or null; with
   * `readAfterReset`, that profile is read again just after it rather than at the next poll.
   */
  nextResetAt?(): number | null;
  /** Reads the profiles whose window reset since their figures were read. */
  readAfterReset?(): Promise<void>;
}

/**
 * How long after a window's reset its profile is read again: the upstream shows the new window by
 * then (priming looks at reset + 1 s too).
 */
export const readAfterResetMs = 1_000;

/** Polls the usage endpoint gently while a router runs. */
export class UsagePoller {
  readonly #options: UsagePollerOptions;
  #cancel: Cancel | null = null;
  #resetCancel: Cancel | null = null;
  /** The reset the reset timer is armed for (re-armed only when that changes). */
  #resetAt: number | null = null;
  #stopped = true;

  constructor(options: UsagePollerOptions) {
    this.#options = options;
  }

  /** Starts polling, the first poll after `firstDelayMs`. */
  start(firstDelayMs: number): void {
    this.#stopped = false;
    this.#schedule(firstDelayMs);
  }

  /** Stops polling. */
  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = null;
    this.#resetCancel?.();
    this.#resetCancel = null;
    this.#resetAt = null;
  }

  #schedule(delayMs: number): void {
    const period = this.#options.periodMs;
    if (period <= 0 || this.#stopped) return;
    this.#cancel = this.#options.clock.setTimeout(() => {
      void this.#options.pollOnce().finally(() => {
        this.#schedule(period + randomInt(0, 3 * minute));
        this.#armReset();
      });
    }, delayMs);
  }

  /**
   * Arms one timer at the next window reset (+ `readAfterResetMs`). Re-armed after every poll, so
   * a reset learnt since (a window that started) is met: a window lasts hours, polls minutes.
   */
  #armReset(): void {
    const { nextResetAt, readAfterReset, clock } = this.#options;
    if (this.#stopped || nextResetAt === undefined || readAfterReset === undefined) return;
    const at = nextResetAt();
    if (at === this.#resetAt) return;
    this.#resetCancel?.();
    this.#resetCancel = null;
    this.#resetAt = at;
    if (at === null) return;
    this.#resetCancel = clock.setTimeout(
      () => {
        this.#resetCancel = null;
        this.#resetAt = null;
        void readAfterReset().finally(() => this.#armReset());
      },
      Math.max(0, at + readAfterResetMs - clock.now()),
    );
  }
}
