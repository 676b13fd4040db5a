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
import { QuotaBook } from '../quota/quota-book.ts';
import { quotaFileSchema, type QuotaFile } from '../state/schema.ts';

/** What the keeper is built from. */
export interface QuotaKeeperOptions {
  paths: LabPaths;
  clock: Clock;
  logger: Logger;
}

/** The quota book with its file. */
export class QuotaKeeper {
  readonly book: QuotaBook;
  readonly #paths: LabPaths;
  readonly #logger: Logger;

  constructor(options: QuotaKeeperOptions) {
    this.#paths = options.paths;
    this.#logger = options.logger;
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
  }

  /** Writes now; resolves with null once on disk, or with the error that kept it off (logged). */
  flush(): Promise<unknown> {
    return this.book.flush();
  }

  // The CLI and the router both write state/quota.json: merge under the lock, and a profile's
  // newer snapshot on disk (another process polled it) is kept.
  async #write(path: string, book: QuotaFile): Promise<void> {
    await withLock(this.#paths.locksDir, 'quota', async () => {
      const file: QuotaFile = (await readJsonFile(path, quotaFileSchema)) ?? {
        version: 1,
        profiles: {},
      };
      for (const [profile, entry] of Object.entries(book.profiles)) {
        const onDisk = file.profiles[profile]?.latest;
        if (onDisk && entry.latest && onDisk.observedAt > entry.latest.observedAt) continue;
        // Over what is on disk, so an entry's fields this version does not know are kept.
        file.profiles[profile] = { ...file.profiles[profile], ...entry };
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
}

/** Polls the usage endpoint gently while a router runs. */
export class UsagePoller {
  readonly #options: UsagePollerOptions;
  #cancel: Cancel | null = null;
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
  }

  #schedule(delayMs: number): void {
    const period = this.#options.periodMs;
    if (period <= 0 || this.#stopped) return;
    this.#cancel = this.#options.clock.setTimeout(() => {
      void this.#options
        .pollOnce()
        .finally(() => this.#schedule(period + randomInt(0, 3 * minute)));
    }, delayMs);
  }
}
