/**
 * The in-memory quota book: the latest snapshot per profile (usage polls and response headers
 * merged), a short history for the UI's chart and forecast, and a debounced write to
 * `state/quota.json` so a busy router does not rewrite the file on every response.
 */
import { writeJsonFile } from '../home/files.ts';
import { stampMatches } from '../profiles/account-stamp.ts';
import type { Cancel, Clock, Logger } from '../ports.ts';
import type { QuotaFile, QuotaPoint, QuotaSnapshot } from '../state/schema.ts';
import { forecastWeekly, type QuotaForecast } from './forecast.ts';

export type { QuotaForecast } from './forecast.ts';

/** Tuning and effects of a `QuotaBook`. */
export interface QuotaBookOptions {
  clock: Clock;
  /** Where `persist` writes (`state/quota.json`); without it `persist` does nothing. */
  path?: string;
  logger?: Logger;
  /** One history point per this interval. Default 5 min. */
  historyIntervalMs?: number;
  /** History older than this is dropped. Default 7 days. */
  historyMaxAgeMs?: number;
  /**
   * Delay between the first `persist` call and the write. Default 1 s: what the running router
   * learnt reaches the file, and so every surface reading it (`codex-lab list`), within a second
   * (docs/design.md section 8), at most one small write a second however busy the router is.
   */
  persistDelayMs?: number;
  /** The writer (tests pass a fake); defaults to the atomic private `writeJsonFile`. */
  write?: (path: string, value: unknown) => Promise<void>;
}

interface ProfileQuota {
  latest: QuotaSnapshot | null;
  history: QuotaPoint[];
  /** The account stamp of the profile the figures are for (undefined: not known). */
  account?: string | null;
}

/**
 * How far ahead of the clock a recorded observation may lie before the clock is taken to have
 * stepped back; answers finish out of order by seconds, never by this.
 */
const clockStepMs = 60_000;

/**
 * Whether `candidate` replaces `current` as a profile's latest figures at `now`: it was observed
 * no earlier, or `current` lies ahead of the clock. A clock that ran ahead and was corrected (NTP,
 * a dual-boot machine's hardware clock) would otherwise freeze the figures until it caught up.
 */
export function supersedes(
  candidate: Pick<QuotaSnapshot, 'observedAt'>,
  current: Pick<QuotaSnapshot, 'observedAt'>,
  now: number,
): boolean {
  return candidate.observedAt >= current.observedAt || current.observedAt > now + clockStepMs;
}

/** Per-profile quota: latest snapshot, short history, persistence and forecast. */
export class QuotaBook {
  readonly #profiles = new Map<string, ProfileQuota>();
  readonly #clock: Clock;
  readonly #path: string | undefined;
  readonly #logger: Logger | undefined;
  readonly #intervalMs: number;
  readonly #maxAgeMs: number;
  readonly #persistDelayMs: number;
  readonly #write: (path: string, value: unknown) => Promise<void>;
  #pending: Cancel | null = null;
  #writing: Promise<void> = Promise.resolve();
  /** Each profile's account stamp, once told (`setAccounts`); null until then. */
  #accounts: ReadonlyMap<string, string | null> | null = null;

  constructor(options: QuotaBookOptions) {
    this.#clock = options.clock;
    this.#path = options.path;
    this.#logger = options.logger;
    this.#intervalMs = options.historyIntervalMs ?? 5 * 60_000;
    this.#maxAgeMs = options.historyMaxAgeMs ?? 7 * 24 * 60 * 60_000;
    this.#persistDelayMs = options.persistDelayMs ?? 1_000;
    this.#write = options.write ?? writeJsonFile;
  }

  /**
   * Takes in a snapshot. Header snapshots lack the plan and usually the credits, so known values
   * are kept; a snapshot older than the latest is ignored (responses finish out of order), unless
   * the latest lies ahead of the clock (`supersedes`).
   * Returns the merged latest snapshot.
   */
  observe(profile: string, snapshot: QuotaSnapshot): QuotaSnapshot {
    let entry = this.#profiles.get(profile);
    if (!entry) {
      entry = { latest: null, history: [] };
      const account = this.#accounts?.get(profile);
      if (account !== undefined) entry.account = account;
      this.#profiles.set(profile, entry);
    }
    const previous = entry.latest;
    const now = this.#clock.now();
    if (previous && !supersedes(snapshot, previous, now)) return previous;
    if (previous && previous.observedAt > now + clockStepMs) {
      // The clock stepped back: points recorded ahead of it would hold the chart's last point.
      entry.history = entry.history.filter((point) => point.at <= now + clockStepMs);
    }
    const merged = previous ? mergeSnapshots(previous, snapshot) : snapshot;
    entry.latest = merged;
    this.#addPoint(entry, merged);
    return merged;
  }

  /** The latest merged snapshot, or null when never observed. */
  latest(profile: string): QuotaSnapshot | null {
    return this.#profiles.get(profile)?.latest ?? null;
  }

  /**
   * The earliest window reset still ahead of `now` across every profile's latest figures, or
   * null: the moment some profile's figures stop being its account's (see `resetSinceRead`).
   */
  nextReset(now: number): number | null {
    let earliest: number | null = null;
    for (const { latest } of this.#profiles.values()) {
      if (latest === null) continue;
      for (const window of [latest.primary, latest.secondary]) {
        const at = window?.resetsAt ?? null;
        if (at !== null && at > now && (earliest === null || at < earliest)) earliest = at;
      }
    }
    return earliest;
  }

  /** The short history (oldest first). */
  history(profile: string): readonly QuotaPoint[] {
    return this.#profiles.get(profile)?.history ?? [];
  }

  /** Profiles with any quota known. */
  profiles(): string[] {
    return [...this.#profiles.keys()];
  }

  /** Forgets a profile (removed), or moves its quota (renamed) when `to` is given. */
  forget(profile: string, to?: string): void {
    const entry = this.#profiles.get(profile);
    this.#profiles.delete(profile);
    if (to !== undefined && entry) this.#profiles.set(to, entry);
  }

  /**
   * The profiles as they are now, each with its account stamp (`accountStamp`): figures of a name
   * no profile has (removed, by any process or a replayed removal) or that is another account now
   * (the name reused) are dropped, never shown as the new account's; figures with no stamp yet
   * take the profile's. Returns true when something was dropped.
   */
  setAccounts(accounts: ReadonlyMap<string, string | null>): boolean {
    this.#accounts = accounts;
    let dropped = false;
    for (const [name, entry] of this.#profiles) {
      if (!this.owns(name, entry.account)) {
        this.#profiles.delete(name);
        dropped = true;
      } else if (entry.account === undefined || entry.account === null) {
        entry.account = accounts.get(name) ?? null;
      }
    }
    return dropped;
  }

  /**
   * Whether figures under `name` stamped `account` are that profile's now (see `setAccounts`);
   * true for everything until the book is told the profiles.
   */
  owns(name: string, account: string | null | undefined): boolean {
    const accounts = this.#accounts;
    if (accounts === null) return true;
    return stampMatches(account, accounts.has(name) ? accounts.get(name) : undefined);
  }

  /** The `state/quota.json` content. */
  toFile(): QuotaFile {
    const profiles: QuotaFile['profiles'] = {};
    for (const [name, entry] of this.#profiles) {
      profiles[name] = {
        latest: entry.latest,
        history: [...entry.history],
        ...(entry.account === undefined ? {} : { account: entry.account }),
      };
    }
    return { version: 1, profiles };
  }

  /** Replaces the book's content with a loaded `state/quota.json`, dropping expired history. */
  fromFile(file: QuotaFile): void {
    this.#profiles.clear();
    const cutoff = this.#clock.now() - this.#maxAgeMs;
    for (const [name, entry] of Object.entries(file.profiles)) {
      this.#profiles.set(name, {
        latest: entry.latest,
        history: entry.history.filter((point) => point.at >= cutoff).sort((a, b) => a.at - b.at),
        ...(entry.account === undefined ? {} : { account: entry.account }),
      });
    }
    if (this.#accounts !== null) this.setAccounts(this.#accounts);
  }

  /**
   * Schedules a write of `state/quota.json` after the persist delay; calls in between share that
   * write. Failures are logged, never thrown (the file is a cache; memory is the truth).
   */
  persist(): void {
    if (this.#path === undefined || this.#pending) return;
    this.#pending = this.#clock.setTimeout(() => {
      this.#pending = null;
      void this.flush();
    }, this.#persistDelayMs);
  }

  /**
   * Writes now (cancelling a scheduled write); resolves when the file is on disk, with null, or
   * with the error that kept this write off it (logged too): a caller that promised to save the
   * numbers (`usage --refresh`) says so.
   */
  async flush(): Promise<unknown> {
    this.#pending?.();
    this.#pending = null;
    const path = this.#path;
    if (path === undefined) return null;
    // Writes are chained so an older content never lands after a newer one.
    const written = this.#writing.then(async (): Promise<unknown> => {
      try {
        await this.#write(path, this.toFile());
        return null;
      } catch (error) {
        this.#logger?.warn({ path, error: (error as Error).message }, 'could not save quota');
        return error;
      }
    });
    this.#writing = written.then(() => undefined);
    return written;
  }

  /** The weekly forecast (see `forecastWeekly`); null when unknown. */
  forecast(profile: string, now: number): QuotaForecast | null {
    const entry = this.#profiles.get(profile);
    return entry ? forecastWeekly(entry.latest, entry.history, now) : null;
  }

  #addPoint(entry: ProfileQuota, snapshot: QuotaSnapshot): void {
    if (!snapshot.primary && !snapshot.secondary) return;
    const point: QuotaPoint = {
      at: snapshot.observedAt,
      primary: snapshot.primary?.usedPercent ?? null,
      secondary: snapshot.secondary?.usedPercent ?? null,
    };
    const history = entry.history;
    const last = history.at(-1);
    if (last && point.at - last.at < this.#intervalMs) {
      // Same interval: keep its time, take the newest numbers.
      last.primary = point.primary;
      last.secondary = point.secondary;
    } else {
      history.push(point);
    }
    const cutoff = snapshot.observedAt - this.#maxAgeMs;
    let drop = 0;
    while (drop < history.length && (history[drop] as QuotaPoint).at < cutoff) drop++;
    const maxPoints = Math.ceil(this.#maxAgeMs / this.#intervalMs) + 1;
    drop = Math.max(drop, history.length - maxPoints);
    if (drop > 0) history.splice(0, drop);
  }
}

/**
 * Merges a newer snapshot into the previous one: windows come from the newer one when it has any;
 * plan, credits, other limit families and reset credits are kept when the newer one lacks them.
 */
export function mergeSnapshots(previous: QuotaSnapshot, next: QuotaSnapshot): QuotaSnapshot {
  const hasWindows = next.primary !== null || next.secondary !== null;
  // Absent means "not read this time" (kept); null means "read: none" (replaces).
  const resetCredits = next.resetCredits !== undefined ? next.resetCredits : previous.resetCredits;
  return {
    observedAt: next.observedAt,
    source: next.source,
    plan: next.plan ?? previous.plan,
    primary: hasWindows ? next.primary : previous.primary,
    secondary: hasWindows ? next.secondary : previous.secondary,
    credits: next.credits ?? previous.credits,
    activeLimit: next.activeLimit ?? previous.activeLimit,
    limitReached: hasWindows ? next.limitReached : previous.limitReached,
    others: next.others.length > 0 ? next.others : previous.others,
    ...(resetCredits !== undefined ? { resetCredits } : {}),
  };
}

/**
 * Whether a window of `snapshot` has reset since it was read: its figures are no longer the
 * account's (a spent 5-hour window has refilled) until the usage is read again.
 */
export function resetSinceRead(snapshot: QuotaSnapshot, now: number): boolean {
  for (const window of [snapshot.primary, snapshot.secondary]) {
    const at = window?.resetsAt ?? null;
    if (at !== null && at > snapshot.observedAt && at <= now) return true;
  }
  return false;
}
