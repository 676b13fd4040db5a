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
    return this.#readFile();
  }

  /**
   * A profile's effective health at `now`: a `limited` entry whose time has passed reads as `ok`.
   */
  async get(name: string, now: number): Promise<ProfileHealth> {
    return effectiveHealth((await this.read()).profiles[name], now);
  }

  /** Marks a profile limited until `untilMs` (Unix ms). */
  async markLimited(name: string, untilMs: number, message: string, now: number): Promise<void> {
    await this.change((file) =>
      setHealth(
        file,
        name,
        { status: 'limited', unavailableUntil: untilMs, code: 'usage_limit_reached', message },
        now,
      ),
    );
  }

  /** Marks a profile as needing sign-in, with the code and Codex's message. */
  async markAuthError(name: string, code: string, message: string, now: number): Promise<void> {
    await this.change((file) =>
      setHealth(file, name, { status: 'auth_error', unavailableUntil: null, code, message }, now),
    );
  }

  /** Marks a profile healthy (after a successful request, refresh or sign-in). */
  async markOk(name: string, now: number): Promise<void> {
    await this.change((file) => setHealth(file, name, okHealth, now));
  }

  /**
   * Marks a profile healthy only when its entry, as the file holds it now, needs a sign-in (a
   * refresh that worked): a limit mark another process made meanwhile stays.
   */
  async clearAuthError(name: string, now: number): Promise<void> {
    await this.change((file) => {
      if (file.profiles[name]?.status !== 'auth_error') return false;
      return setHealth(file, name, okHealth, now);
    });
  }

  /** Marks one per-model limit family spent on a profile until `untilMs`, for `model` if known. */
  async markFamilyLimited(
    name: string,
    family: string,
    untilMs: number,
    model: string | null,
    now: number,
  ): Promise<void> {
    await this.change((file) => setFamilyMark(file, name, family, untilMs, model, now));
  }

  /** Lifts a profile's mark for `family` (a reading taken at `now` showed room). */
  async liftFamily(name: string, family: string, now: number): Promise<void> {
    await this.change((file) => liftFamilyMark(file, name, family, now));
  }

  /**
   * Writes `profiles` as the whole file when the file is missing (moved aside): the router's
   * marks, with the times they were made, put back. A file present (written meanwhile, or one
   * that does not parse) is left as it is. True when it wrote.
   */
  async restoreIfMissing(
    profiles: HealthFile['profiles'],
    families: NonNullable<HealthFile['families']> = {},
  ): Promise<boolean> {
    return withLock(this.#paths.locksDir, 'health', async () => {
      if ((await readTextFile(this.#paths.health)) !== undefined) return false;
      const file: HealthFile = { version: 1, profiles };
      if (Object.keys(families).length > 0) file.families = families;
      await writeJsonFile(this.#paths.health, file);
      return true;
    });
  }

  /** Forgets a profile (removed), or moves its entry (renamed) when `to` is given. */
  async forget(name: string, to?: string): Promise<void> {
    await this.change((file) => {
      const entry = file.profiles[name];
      delete file.profiles[name];
      if (to !== undefined && entry) file.profiles[to] = entry;
      const families = file.families?.[name];
      if (families) {
        delete file.families![name];
        if (to !== undefined) file.families![to] = families;
      }
    });
  }

  /**
   * The one way health.json changes: `mutate` is applied to the file as read under the `health`
   * lock, and the result written under the same lock, so two processes (a CLI `usage --refresh`
   * and a running `serve`) or two turns can never write a stale copy over each other's marks.
   * `mutate` returns false when it changed nothing (no write).
   */
  async change(mutate: (file: HealthFile) => boolean | void): Promise<void> {
    await withLock(this.#paths.locksDir, 'health', async () => {
      const file = await this.#readFile();
      if (mutate(file) !== false) await writeJsonFile(this.#paths.health, file);
    });
  }

  async #readFile(): Promise<HealthFile> {
    return (
      (await readJsonFile(this.#paths.health, healthFileSchema)) ?? { version: 1, profiles: {} }
    );
  }
}

/** A healthy profile's entry. */
export const okHealth: ProfileHealth = {
  status: 'ok',
  unavailableUntil: null,
  code: null,
  message: null,
};

/**
 * Sets `name`'s entry to `health` as of `now`. An entry made after `now` (another process's
 * newer mark, or a write of this one that landed first) is kept: marks never land out of order.
 * False when nothing changed.
 */
export function setHealth(
  file: HealthFile,
  name: string,
  health: ProfileHealth,
  now: number,
): boolean {
  const previous = file.profiles[name];
  if (previous && previous.updatedAt > now) return false;
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
}

/** Sets a family mark (unless one made after `now` is there). False when nothing changed. */
export function setFamilyMark(
  file: HealthFile,
  name: string,
  family: string,
  until: number,
  model: string | null,
  now: number,
): boolean {
  const marks = (file.families ??= {});
  const own = (marks[name] ??= {});
  const previous = own[family];
  if (previous && previous.markedAt > now) return false;
  const models = previous?.models ?? [];
  own[family] = {
    ...previous,
    until,
    markedAt: now,
    // The newest models last, a bounded few: the schema keeps at most 50.
    models: model === null || models.includes(model) ? models : [...models, model].slice(-50),
  };
  return true;
}

/** Lifts a family mark as of `now` (kept lapsed, so others see it lifted). */
export function liftFamilyMark(
  file: HealthFile,
  name: string,
  family: string,
  now: number,
): boolean {
  const previous = file.families?.[name]?.[family];
  if (!previous || previous.markedAt > now || !familyMarkHolds(previous, now)) return false;
  file.families![name]![family] = { ...previous, until: now, markedAt: now };
  return true;
}

/**
 * When `name` is limited for `family` at `now` by the file's marks: until when; otherwise null
 * (no mark, or one that has lapsed or was lifted).
 */
export function familyLimitedUntil(
  file: Pick<HealthFile, 'families'>,
  name: string,
  family: string,
  now: number,
): number | null {
  const mark = file.families?.[name]?.[family];
  return mark !== undefined && familyMarkHolds(mark, now) ? mark.until : null;
}

/**
 * Whether a stored family mark holds at `now`: its reset is ahead, and it is not one lifted (a
 * lifted mark is kept with `until` at the moment it was lifted, `markedAt`).
 */
export function familyMarkHolds(mark: { until: number; markedAt: number }, now: number): boolean {
  return mark.until > now && mark.until > mark.markedAt;
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
