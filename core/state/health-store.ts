/**
 * Per-profile health that outlives a process: `limited` until a reset, `auth_error` until the
 * user signs in again. One account's failure never touches another's entry.
 */
import { readJsonFile, readTextFile, writeJsonFile } from '../home/files.ts';
import { withLock } from '../home/lock.ts';
import type { LabPaths } from '../home/paths.ts';
import { healthFileSchema, type HealthFile, type HealthStatus } from './schema.ts';

/** A profile's health at one moment. */
export interface ProfileHealth {
  status: HealthStatus;
  unavailableUntil: number | null;
  code: string | null;
  message: string | null;
}

const unknownHealth: ProfileHealth = {
  status: 'unknown',
  unavailableUntil: null,
  code: null,
  message: null,
};

/** Reads and records profile health in `state/health.json` under a cross-process lock. */
export class HealthStore {
  readonly #paths: LabPaths;

  constructor(paths: LabPaths) {
    this.#paths = paths;
  }

  /** The whole file (empty when missing). */
  async read(): Promise<HealthFile> {
    return (
      (await readJsonFile(this.#paths.health, healthFileSchema)) ?? { version: 1, profiles: {} }
    );
  }

  /**
   * A profile's effective health at `now`: a `limited` entry whose time has passed reads as `ok`.
   */
  async get(name: string, now: number): Promise<ProfileHealth> {
    return effectiveHealth((await this.read()).profiles[name], now);
  }

  /** Marks a profile limited until `untilMs` (Unix ms). */
  async markLimited(name: string, untilMs: number, message: string, now: number): Promise<void> {
    await this.#set(
      name,
      { status: 'limited', unavailableUntil: untilMs, code: 'usage_limit_reached', message },
      now,
    );
  }

  /** Marks a profile as needing sign-in, with the code and Codex's message. */
  async markAuthError(name: string, code: string, message: string, now: number): Promise<void> {
    await this.#set(name, { status: 'auth_error', unavailableUntil: null, code, message }, now);
  }

  /** Marks a profile healthy (after a successful request, refresh or sign-in). */
  async markOk(name: string, now: number): Promise<void> {
    await this.#set(name, { status: 'ok', unavailableUntil: null, code: null, message: null }, now);
  }

  /**
   * Writes `profiles` as the whole file when the file is missing (moved aside): the router's
   * marks, with the times they were made, put back. A file present (written meanwhile, or one
   * that does not parse) is left as it is. True when it wrote.
   */
  async restoreIfMissing(profiles: HealthFile['profiles']): Promise<boolean> {
    return withLock(this.#paths.locksDir, 'health', async () => {
      if ((await readTextFile(this.#paths.health)) !== undefined) return false;
      await writeJsonFile(this.#paths.health, { version: 1, profiles });
      return true;
    });
  }

  /** Forgets a profile (removed), or moves its entry (renamed) when `to` is given. */
  async forget(name: string, to?: string): Promise<void> {
    await this.#update((file) => {
      const entry = file.profiles[name];
      delete file.profiles[name];
      if (to !== undefined && entry) file.profiles[to] = entry;
    });
  }

  async #set(name: string, health: ProfileHealth, now: number): Promise<void> {
    await this.#update((file) => {
      const previous = file.profiles[name];
      if (
        previous &&
        previous.status === health.status &&
        previous.unavailableUntil === health.unavailableUntil &&
        previous.code === health.code
      ) {
        return false;
      }
      // Over the previous entry, so its fields this version does not know are kept.
      file.profiles[name] = { ...previous, ...health, updatedAt: now };
      return true;
    });
  }

  async #update(mutate: (file: HealthFile) => boolean | void): Promise<void> {
    await withLock(this.#paths.locksDir, 'health', async () => {
      const file = await this.read();
      if (mutate(file) !== false) await writeJsonFile(this.#paths.health, file);
    });
  }
}

/**
 * Whether a stored entry is a `limited` mark whose time is up at `now` (then the profile is `ok`
 * again); any other entry holds as stored.
 */
export function limitLapsed(
  entry: { status: HealthStatus; unavailableUntil: number | null },
  now: number,
): boolean {
  return (
    entry.status === 'limited' && entry.unavailableUntil !== null && entry.unavailableUntil <= now
  );
}

/** Resolves a stored entry to what holds at `now` (an expired `limited` is `ok` again). */
export function effectiveHealth(
  entry:
    | {
        status: HealthStatus;
        unavailableUntil: number | null;
        code: string | null;
        message: string | null;
      }
    | undefined,
  now: number,
): ProfileHealth {
  if (!entry) return unknownHealth;
  if (limitLapsed(entry, now)) {
    return { status: 'ok', unavailableUntil: null, code: null, message: null };
  }
  return {
    status: entry.status,
    unavailableUntil: entry.unavailableUntil,
    code: entry.code,
    message: entry.message,
  };
}
